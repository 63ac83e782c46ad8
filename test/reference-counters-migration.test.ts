/**
 * Migration reference_counters moves each tenant's reference count, in place, from the sequence
 * intake asked before (complaint_reference_<tenant id without hyphens>) to the tenant's row in
 * complaint_reference_counters: a database migrated to just before it, with a tenant whose
 * sequence handed out numbers, one whose sequence never did, and one with none, keeps every
 * complaint, and intake numbers on from where each tenant's sequence stood.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../src/db/migrate.js';
import { call, complaintBody, startTestApp, type TestApp } from './harness.js';
import { type DatabaseBeforeMigration, databaseBefore } from './migrated-database.js';

let database: DatabaseBeforeMigration;
let url: string;
let client: pg.Client;
let t: TestApp | undefined;

beforeAll(async () => {
  database = await databaseBefore('reference_counters', '_reference_counters');
  ({ url, client } = database);
});
afterAll(async () => {
  await t?.close();
  await database?.close();
});

/** The sequence the code before the migration made with each tenant. */
const sequenceOf = (tenantId: string) => `complaint_reference_${tenantId.replaceAll('-', '')}`;

/** A tenant as the code before the migration made it: with its sequence, unless `sequence` is false. */
async function seedTenant(name: string, sequence: boolean): Promise<string> {
  const tenantId = randomUUID();
  await client.query('insert into tenants (id, name) values ($1, $2)', [tenantId, name]);
  if (sequence) await client.query(`create sequence "${sequenceOf(tenantId)}"`);
  return tenantId;
}

describe('migration reference_counters', () => {
  it("moves each tenant's count from its sequence to its row, and intake numbers on from it", async () => {
    const counted = await seedTenant('Counted', true);
    const unused = await seedTenant('Unused', true);
    const without = await seedTenant('Without', false);
    // The counted tenant's sequence handed out 41 numbers, the last to a complaint it kept.
    await client.query('select setval($1::regclass, 41)', [sequenceOf(counted)]);
    await client.query(
      `insert into complaints (id, tenant_id, reference, channel, subject, description, customer_name, received_at,
         received_by, event_sequence)
       values ($1, $2, 'C-000041', 'web', 'Before', 'Taken in before the migration.', 'Wang Fang', now(), 'api', 1)`,
      [randomUUID(), counted],
    );

    await runMigrations(url);

    const { rows: counters } = await client.query(
      'select tenant_id, last_number::int from complaint_reference_counters order by last_number desc',
    );
    expect(counters).toEqual([
      { tenant_id: counted, last_number: 41 },
      { tenant_id: unused, last_number: 0 },
    ]);
    const { rows: sequences } = await client.query(
      `select count(*)::int as n from pg_class where relkind = 'S' and relname like 'complaint_reference_%'`,
    );
    expect(sequences[0].n).toBe(0);
    const { rows: complaints } = await client.query('select reference from complaints');
    expect(complaints).toEqual([{ reference: 'C-000041' }]);

    t = await startTestApp({ DATABASE_URL: url });
    const referenceOfNext = async (tenantId: string) => {
      // The SLA policy a tenant is made with, which intake needs and the raw insert above left out.
      await t!.services.policies.createDefaultPolicy(tenantId);
      const { plaintextKey } = await t!.tenancy.createApiKey(tenantId, { name: 'crm', scopes: ['admin'] });
      const res = await call(t!.app, plaintextKey, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody(),
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().reference;
    };
    expect(await referenceOfNext(counted)).toBe('C-000042');
    expect(await referenceOfNext(unused)).toBe('C-000001');
    expect(await referenceOfNext(without)).toBe('C-000001');
  });
});
