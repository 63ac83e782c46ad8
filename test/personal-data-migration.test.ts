/**
 * Migration masked_personal_data masks personal data for callers without personal_data:read, and
 * makes sure nobody already reading complaints silently starts getting masked data: a database
 * migrated to just before it, holding keys, an identity provider and a webhook subscription made
 * by the code before, keeps each of them seeing what it saw.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../src/db/migrate.js';
import { type DatabaseBeforeMigration, databaseBefore } from './migrated-database.js';

let database: DatabaseBeforeMigration;
let client: pg.Client;

beforeAll(async () => {
  database = await databaseBefore('personal_data', '_masked_personal_data');
  ({ client } = database);
});
afterAll(async () => {
  await database?.close();
});

async function seedKey(tenantId: string, scopes: string[]): Promise<string> {
  const id = randomUUID();
  await client.query(
    'insert into api_keys (id, tenant_id, name, prefix, secret_hash, scopes) values ($1, $2, $3, $4, $5, $6)',
    [id, tenantId, scopes.join(' '), `rdk_${id.slice(0, 8)}`, `hash-${id}`, scopes],
  );
  return id;
}

describe('migration masked_personal_data', () => {
  it('gives personal_data:read to keys and claim values that read or write complaints, and keeps subscriptions clear', async () => {
    const tenantId = randomUUID();
    await client.query('insert into tenants (id, name) values ($1, $2)', [tenantId, 'Before']);
    const reader = await seedKey(tenantId, ['complaints:read']);
    const writer = await seedKey(tenantId, ['complaints:write', 'actors:impersonate']);
    const reporter = await seedKey(tenantId, ['reports:read']);
    const hooks = await seedKey(tenantId, ['webhooks:manage']);
    const admin = await seedKey(tenantId, ['admin']);
    const providerId = randomUUID();
    await client.query(
      `insert into identity_providers (tenant_id, id, name, issuer, audience, scope_claim, scope_map, name_claim)
       values ($1, $2, 'Staff', 'https://login.example.com', 'redress', 'roles', $3, 'name')`,
      [
        tenantId,
        providerId,
        JSON.stringify({
          agent: ['complaints:read', 'complaints:write'],
          auditor: ['reports:read'],
          boss: ['admin'],
        }),
      ],
    );
    const emptyProviderId = randomUUID();
    await client.query(
      `insert into identity_providers (tenant_id, id, name, issuer, audience, scope_claim, scope_map, name_claim)
       values ($1, $2, 'Empty', 'https://other.example.com', 'redress', 'roles', '{}', 'name')`,
      [tenantId, emptyProviderId],
    );
    const subscriptionId = randomUUID();
    await client.query(
      `insert into webhook_subscriptions (id, tenant_id, url, event_types) values ($1, $2, 'https://crm.example.com/hook', '{*}')`,
      [subscriptionId, tenantId],
    );

    await runMigrations(database.url);

    const { rows: keys } = await client.query('select id, scopes from api_keys where tenant_id = $1', [
      tenantId,
    ]);
    const scopesOf = (id: string) => keys.find((key) => key.id === id)?.scopes;
    expect(scopesOf(reader)).toEqual(['complaints:read', 'personal_data:read']);
    expect(scopesOf(writer)).toEqual(['complaints:write', 'actors:impersonate', 'personal_data:read']);
    expect(scopesOf(reporter)).toEqual(['reports:read']);
    expect(scopesOf(hooks)).toEqual(['webhooks:manage']);
    expect(scopesOf(admin)).toEqual(['admin']);

    const { rows: providers } = await client.query('select id, scope_map from identity_providers');
    expect(providers.find((p) => p.id === providerId)?.scope_map).toEqual({
      agent: ['complaints:read', 'complaints:write', 'personal_data:read'],
      auditor: ['reports:read'],
      boss: ['admin'],
    });
    expect(providers.find((p) => p.id === emptyProviderId)?.scope_map).toEqual({});

    const { rows: subscriptions } = await client.query('select personal_data from webhook_subscriptions');
    expect(subscriptions).toEqual([{ personal_data: 'clear' }]);
    // Subscriptions made from now on are masked unless asked otherwise.
    await client.query(
      `insert into webhook_subscriptions (id, tenant_id, url, event_types) values ($1, $2, 'https://new.example.com/hook', '{*}')`,
      [randomUUID(), tenantId],
    );
    const { rows: fresh } = await client.query(
      `select personal_data from webhook_subscriptions where url = 'https://new.example.com/hook'`,
    );
    expect(fresh).toEqual([{ personal_data: 'masked' }]);
  });
});
