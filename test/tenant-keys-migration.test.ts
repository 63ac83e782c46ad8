/**
 * The migrations that key the tables by tenant first (0036 webhooks and events, 0037
 * configuration, 0038 what complaints hold, 0040 complaints and deadlines) convert a database in service in place: a database migrated to just before them
 * and holding rows of two tenants keeps every row, each tenant's rows stay its own, and the new
 * keys hold as the old ones did.
 */
import { randomUUID } from 'node:crypto';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantDataModelViolations } from '../src/db/distribution.js';
import { runMigrations } from '../src/db/migrate.js';
import { createEmptyDatabase, migrateUpTo } from './migrated-database.js';

/** The last migration before the tenant keys. */
const BEFORE = '0035_event_envelope_columns';
const CONVERTED = [
  'event_outbox',
  'events',
  'webhook_subscriptions',
  'webhook_secrets',
  'webhook_deliveries',
  'webhook_delivery_attempts',
  'calendars',
  'sla_policies',
  'sla_policy_versions',
  'reply_templates',
  'communications',
  'complaint_conflicts',
  'escalations',
  'follow_ups',
  'resolutions',
  'resolution_options',
  'pre_refunds',
  'complaint_open_spans',
  'report_deadline_days',
  'complaints',
  'deadlines',
  'complaint_timeline',
];

let url: string;
let dropDatabase: () => Promise<void>;
let client: pg.Client;

beforeAll(async () => {
  const database = await createEmptyDatabase('tenant_keys');
  url = database.url;
  dropDatabase = database.drop;
  await migrateUpTo(url, BEFORE);
  client = new pg.Client({ connectionString: url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await dropDatabase?.();
});

/** What one tenant holds of the converted tables, written as the code before them wrote it. */
async function seedTenant(tenantId: string) {
  const subscriptionId = randomUUID();
  const calendarId = randomUUID();
  const policyId = randomUUID();
  await client.query('insert into tenants (id, name) values ($1, $2)', [tenantId, `Tenant ${tenantId}`]);
  await client.query(
    `insert into webhook_subscriptions (id, tenant_id, url, event_types) values ($1, $2, 'https://crm.example/hooks', '{*}')`,
    [subscriptionId, tenantId],
  );
  await client.query(
    `insert into webhook_secrets (id, tenant_id, subscription_id, secret) values ($1, $2, $3, 'whsec_c2VjcmV0')`,
    [randomUUID(), tenantId, subscriptionId],
  );
  for (let n = 0; n < 3; n++) {
    const eventId = `evt_${tenantId.slice(0, 8)}${n}`;
    await client.query(
      `insert into events (id, tenant_id, type, data) values ($1, $2, 'webhook.ping', '{}')`,
      [eventId, tenantId],
    );
    const deliveryId = randomUUID();
    await client.query(
      `insert into webhook_deliveries (id, tenant_id, subscription_id, event_id, next_attempt_at)
       values ($1, $2, $3, $4, now())`,
      [deliveryId, tenantId, subscriptionId, eventId],
    );
    await client.query(
      `insert into webhook_delivery_attempts (tenant_id, delivery_id, attempt_number, attempted_at, latency_ms)
       values ($1, $2, 1, now(), 12)`,
      [tenantId, deliveryId],
    );
  }
  await client.query(
    `insert into calendars (id, tenant_id, name, time_zone, weekly_hours) values ($1, $2, 'Office', 'Asia/Shanghai', '{}')`,
    [calendarId, tenantId],
  );
  await client.query(
    `insert into sla_policies (id, tenant_id, name, priority, match, calendar_id, warn_at, targets)
     values ($1, $2, 'Standard', 1, '{}', $3, '{0.8}', '{}')`,
    [policyId, tenantId, calendarId],
  );
  await client.query(
    `insert into sla_policy_versions (policy_id, version, tenant_id, snapshot) values ($1, 1, $2, '{}'), ($1, 2, $2, '{}')`,
    [policyId, tenantId],
  );
  await client.query(
    `insert into reply_templates (id, tenant_id, key, locale, name, body) values ($1, $2, 'ack', 'en', 'Ack', 'Hello')`,
    [randomUUID(), tenantId],
  );
  const complaintId = randomUUID();
  const actor = JSON.stringify({ type: 'system', id: null, name: 'redress', onBehalfOf: null });
  const staff = JSON.stringify({ name: 'Li Na', role: 'handler' });
  await client.query(
    `insert into complaints (id, tenant_id, reference, channel, subject, description, received_at, received_by)
     values ($1, $2, 'C-000001', 'phone', 'Lift stopped', 'Stuck for 30 minutes', now(), 'li.na')`,
    [complaintId, tenantId],
  );
  await client.query(
    `insert into communications (id, tenant_id, complaint_id, direction, channel, body, contact_made, occurred_at, recorded_by)
     values ($1, $2, $3, 'outbound', 'phone', 'Called back', true, now(), $4)`,
    [randomUUID(), tenantId, complaintId, actor],
  );
  await client.query(
    `insert into complaint_conflicts (id, tenant_id, complaint_id, staff, reason, declared_by)
     values ($1, $2, $3, 'wang.wu', 'Named in the complaint', $4)`,
    [randomUUID(), tenantId, complaintId, actor],
  );
  await client.query(
    `insert into escalations (id, tenant_id, complaint_id, level, previous_level, trigger, reason, deadline_id, targets, actor)
     values ($1, $2, $3, 1, 0, 'breach', 'Breached', $4, '[]', $5)`,
    [randomUUID(), tenantId, complaintId, randomUUID(), actor],
  );
  await client.query(
    `insert into follow_ups (id, tenant_id, complaint_id, deadline_id, attempt, due_at) values ($1, $2, $3, $4, 1, now())`,
    [randomUUID(), tenantId, complaintId, randomUUID()],
  );
  const resolutionId = randomUUID();
  await client.query(
    `insert into resolutions (id, tenant_id, complaint_id, status, proposed_by, actor) values ($1, $2, $3, 'proposed', $4, $5)`,
    [resolutionId, tenantId, complaintId, staff, actor],
  );
  await client.query(
    `insert into resolution_options (id, tenant_id, resolution_id, position, kind, description, approval)
     values ($1, $2, $3, 1, 'repair', 'Repair the lift', 'not_required'), ($4, $2, $3, 2, 'refund', 'Refund', 'not_required')`,
    [randomUUID(), tenantId, resolutionId, randomUUID()],
  );
  await client.query(
    `insert into pre_refunds (id, tenant_id, complaint_id, amount, currency, refunded_by, refunded_at, deadline_id, actor)
     values ($1, $2, $3, 12.5, 'CNY', $4, now(), $5, $6)`,
    [randomUUID(), tenantId, complaintId, staff, randomUUID(), actor],
  );
  await client.query(
    `insert into deadlines (id, tenant_id, complaint_id, kind, starts_at, due_at, clock, duration_ms, policy_id, policy_version)
     values ($1, $2, $3, 'resolution', now(), now() + interval '1 day', 'calendar', 86400000, $4, 1)`,
    [randomUUID(), tenantId, complaintId, policyId],
  );
  // The kept report days come from the change rows the triggers wrote.
  await client.query("select fold_report_counts('Asia/Shanghai')");
  return { subscriptionId, calendarId, resolutionId };
}

/** Each converted table's rows per tenant. */
async function rowsPerTenant(): Promise<Record<string, Record<string, number>>> {
  const counts: Record<string, Record<string, number>> = {};
  for (const table of CONVERTED) {
    // The work list has no tenant before the migration: its events say whose it is.
    const { rows } = await client.query(
      table === 'event_outbox'
        ? 'select e.tenant_id, count(*)::int as n from event_outbox o join events e on e.position = o.position group by 1'
        : `select tenant_id, count(*)::int as n from ${table} group by 1`,
    );
    counts[table] = Object.fromEntries(rows.map((row) => [row.tenant_id, row.n]));
  }
  return counts;
}

describe('the tenant-key migrations', () => {
  it('convert a database in service in place, keeping every row with its tenant', async () => {
    const one = randomUUID();
    const two = randomUUID();
    const seeded = await seedTenant(one);
    await seedTenant(two);
    const before = await rowsPerTenant();
    expect(before.webhook_deliveries).toEqual({ [one]: 3, [two]: 3 });
    expect(before.event_outbox).toEqual({ [one]: 3, [two]: 3 });
    expect(before.complaint_open_spans).toEqual({ [one]: 1, [two]: 1 });
    expect(before.report_deadline_days![one]).toBeGreaterThan(0);

    await runMigrations(url);

    expect(await rowsPerTenant()).toEqual(before);
    const { rows: outbox } = await client.query(
      'select count(*)::int as n from event_outbox o join events e on e.tenant_id = o.tenant_id and e.position = o.position',
    );
    expect(outbox[0].n).toBe(6);
    expect(await tenantDataModelViolations(drizzle(client))).toEqual([]);

    // The keys that name the tenant hold as the old ones did: a calendar in use stays, and a
    // subscription takes its secrets, deliveries and their attempts with it, its tenant's only.
    await expect(
      client.query('delete from calendars where tenant_id = $1 and id = $2', [one, seeded.calendarId]),
    ).rejects.toMatchObject({ code: '23503' });
    await client.query('delete from webhook_subscriptions where tenant_id = $1 and id = $2', [
      one,
      seeded.subscriptionId,
    ]);
    const after = await rowsPerTenant();
    for (const table of ['webhook_secrets', 'webhook_deliveries', 'webhook_delivery_attempts']) {
      expect(after[table], table).toEqual({ [two]: before[table]![two] });
    }
    // A complaint takes what hangs off it, and only its tenant's; a deadline names its own tenant's.
    const { rows: complaintsOfOne } = await client.query('select id from complaints where tenant_id = $1', [
      one,
    ]);
    await expect(
      client.query('update deadlines set tenant_id = $1 where tenant_id = $2', [one, two]),
    ).rejects.toMatchObject({ code: '23503' });
    await client.query('delete from complaints where tenant_id = $1 and id = $2', [
      one,
      complaintsOfOne[0].id,
    ]);
    const afterComplaint = await rowsPerTenant();
    for (const table of [
      'deadlines',
      'communications',
      'escalations',
      'resolutions',
      'complaint_open_spans',
    ]) {
      expect(afterComplaint[table], table).toEqual({ [two]: before[table]![two] });
    }
    // The options of a resolution go with it, and only its own tenant's.
    await client.query('delete from resolutions where tenant_id = $1 and id = $2', [
      one,
      seeded.resolutionId,
    ]);
    expect((await rowsPerTenant()).resolution_options).toEqual({ [two]: 2 });
    // A delivery must name an event of its own tenant.
    const { rows: events } = await client.query('select id from events where tenant_id = $1 limit 1', [two]);
    const { rows: subscriptions } = await client.query(
      'select id from webhook_subscriptions where tenant_id = $1',
      [two],
    );
    await expect(
      client.query(
        `insert into webhook_deliveries (id, tenant_id, subscription_id, event_id, next_attempt_at)
         values ($1, $2, $3, $4, now())`,
        [randomUUID(), one, subscriptions[0].id, events[0].id],
      ),
    ).rejects.toMatchObject({ code: '23503' });
  });
});
