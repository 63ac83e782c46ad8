/**
 * Migration event_feed_order gives every event already written its place in its tenant's feed,
 * in place: a database migrated to just before it, with events of two tenants (relayed and not,
 * committed out of position order, and a ping), keeps every row, numbers each tenant's feed in the
 * order the feed read before, and cursors handed out before it read on from where they were.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../src/db/migrate.js';
import { encodeCursor } from '../src/lib/cursor.js';
import { call, startTestApp, type TestApp } from './harness.js';
import { type DatabaseBeforeMigration, databaseBefore } from './migrated-database.js';

let database: DatabaseBeforeMigration;
let url: string;
let client: pg.Client;
let t: TestApp | undefined;

beforeAll(async () => {
  database = await databaseBefore('event_feed', '_event_feed_order');
  ({ url, client } = database);
});
afterAll(async () => {
  await t?.close();
  await database?.close();
});

/** An event as the code before the migration wrote it; its position. */
async function writeEvent(
  on: pg.Client,
  tenantId: string,
  name: string,
  subscriptionId: string | null = null,
) {
  // Pings all, with the data the event catalogue gives a ping: the feed shows only what it names.
  const { rows } = await on.query(
    `insert into events (id, tenant_id, type, data, subscription_id)
     values ($1, $2, 'webhook.ping', jsonb_build_object('webhook',
       jsonb_build_object('id', gen_random_uuid(), 'url', 'https://crm.example/hooks')), $3) returning position`,
    [`evt_${name}`, tenantId, subscriptionId],
  );
  return Number(rows[0].position);
}

/**
 * Writes the tenant's events so that (txid, position) order differs from position order: `b` is
 * written after `a` by a transaction that began writing first. The order the feed read: x, b, a, y.
 */
async function seedTenant(tenantId: string, label: string) {
  await client.query('insert into tenants (id, name) values ($1, $2)', [tenantId, `Tenant ${label}`]);
  const subscriptionId = randomUUID();
  await client.query(
    `insert into webhook_subscriptions (id, tenant_id, url, event_types) values ($1, $2, 'https://crm.example/hooks', '{*}')`,
    [subscriptionId, tenantId],
  );
  await writeEvent(client, tenantId, `${label}_x`);
  const early = new pg.Client({ connectionString: url });
  await early.connect();
  try {
    await early.query('begin');
    await early.query('select pg_current_xact_id()'); // its transaction id comes first…
    await writeEvent(client, tenantId, `${label}_a`);
    await writeEvent(early, tenantId, `${label}_b`); // …its event's position after a's
    await early.query('commit');
  } finally {
    await early.end();
  }
  await writeEvent(client, tenantId, `${label}_ping`, subscriptionId);
  await writeEvent(client, tenantId, `${label}_y`);
}

/** What the feed read before the migration: the tenant's events in (txid, position) order. */
async function oldFeed(tenantId: string) {
  const { rows } = await client.query<{ id: string; txid: string; position: string }>(
    `select id, txid::text, position::text from events
     where tenant_id = $1 and subscription_id is null order by txid, position`,
    [tenantId],
  );
  return rows.map((row) => ({ id: row.id, cursor: encodeCursor([row.txid, Number(row.position)]) }));
}

async function readAll(key: string, after?: string) {
  const seen: string[] = [];
  let cursor = after;
  for (;;) {
    const res = await call(t!.app, key, {
      method: 'GET',
      url: `/v1/events?limit=2${cursor ? `&after=${cursor}` : ''}`,
    });
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json();
    seen.push(...page.data.map((event: { id: string }) => event.id));
    if (page.data.length === 0) return { seen, cursor: page.nextCursor as string };
    cursor = page.nextCursor;
  }
}

describe('migration event_feed_order', () => {
  it("places every event in its tenant's feed in the order the feed read, and old cursors read on", async () => {
    const one = randomUUID();
    const two = randomUUID();
    await seedTenant(one, 'one');
    await seedTenant(two, 'two');
    const feedOfOne = await oldFeed(one);
    expect(feedOfOne.map((event) => event.id)).toEqual(['evt_one_x', 'evt_one_b', 'evt_one_a', 'evt_one_y']);
    // The relay had fanned out the tenants' first events; the rest wait on its work list.
    await client.query(
      `delete from event_outbox where (tenant_id, position) in
         (select tenant_id, position from events where id in ('evt_one_x', 'evt_one_b', 'evt_two_x'))`,
    );
    const { rows: counted } = await client.query('select count(*)::int as n from events');

    await runMigrations(url);

    const { rows: kept } = await client.query('select count(*)::int as n from events');
    expect(kept[0].n).toBe(counted[0].n);
    const { rows: placed } = await client.query(
      `select f.tenant_id, f.feed_position::int, e.id, f.type = e.type as same_type from event_feed f
       join events e on e.tenant_id = f.tenant_id and e.position = f.event_position
       order by f.tenant_id = $1 desc, f.feed_position`,
      [one],
    );
    expect(placed.map((row) => [row.tenant_id, row.feed_position, row.id])).toEqual([
      [one, 1, 'evt_one_x'],
      [one, 2, 'evt_one_b'],
      [one, 3, 'evt_one_a'],
      [one, 4, 'evt_one_y'],
      [two, 1, 'evt_two_x'],
      [two, 2, 'evt_two_b'],
      [two, 3, 'evt_two_a'],
      [two, 4, 'evt_two_y'],
    ]);
    expect(placed.every((row) => row.same_type)).toBe(true);
    const { rows: heads } = await client.query(
      'select tenant_id, last_position::int from event_feed_heads order by tenant_id = $1 desc',
      [one],
    );
    expect(heads).toEqual([
      { tenant_id: one, last_position: 4 },
      { tenant_id: two, last_position: 4 },
    ]);
    const { rows: txid } = await client.query(
      `select count(*)::int as n from information_schema.columns where table_name = 'events' and column_name = 'txid'`,
    );
    expect(txid[0].n).toBe(0);

    t = await startTestApp({ DATABASE_URL: url });
    const { plaintextKey: key } = await t.tenancy.createApiKey(one, {
      name: 'integrator',
      scopes: ['complaints:read'],
    });
    // A cursor handed out before: after the first two events the feed showed, and the start.
    expect((await readAll(key, feedOfOne[1]!.cursor)).seen).toEqual(['evt_one_a', 'evt_one_y']);
    expect((await readAll(key, encodeCursor(['0', 0]))).seen).toEqual(feedOfOne.map((event) => event.id));

    // The relay then claims what waited on its work list: it keeps the places the migration gave,
    // and places what is written from now on after them.
    await writeEvent(client, one, 'one_z');
    await t.database.db.transaction((tx) => t!.services.repositories.events.claimUnrelayed(100, tx));
    const { rows: waiting } = await client.query('select count(*)::int as n from event_outbox');
    expect(waiting[0].n).toBe(0);
    const read = await readAll(key);
    expect(read.seen).toEqual([...feedOfOne.map((event) => event.id), 'evt_one_z']);
    expect((await readAll(key, read.cursor)).seen).toEqual([]);
  });
});
