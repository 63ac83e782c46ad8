import { readdir, readFile } from 'node:fs/promises';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tx } from '../src/db/client.js';
import { systemClock } from '../src/lib/clock.js';
import { type EventConsumer, type EventRelay, startEventRelay } from '../src/modules/events/event-relay.js';
import { purgeOldEvents } from '../src/modules/events/events.jobs.js';
import type { EventRow } from '../src/modules/events/events.repository.js';
import { eventProblems } from './event-catalogue.js';
import {
  call,
  complaintBody,
  createTestTenant,
  startTestApp,
  type TestApp,
  type TestTenant,
} from './harness.js';
import { createIsolatedDatabase, type IsolatedDatabase } from './isolated-database.js';
import { eventually } from './worker-process.js';

// Event payloads are free JSON whose nested members the assertions read.
// biome-ignore lint/suspicious/noExplicitAny: see above
type EventData = Record<string, any>;
let t: TestApp;
let tenant: TestTenant;
const silent = pino({ level: 'silent' });

let database: IsolatedDatabase;

// A database of its own: the relay tests must be the only relays of their events, and the worker
// another file runs on the shared database would otherwise claim some of them first.
beforeAll(async () => {
  database = await createIsolatedDatabase('events');
  t = await startTestApp({ DATABASE_URL: database.url });
  tenant = await createTestTenant(t.tenancy);
});
afterAll(async () => {
  await t?.close();
  await database?.drop();
});

async function createComplaint(key = tenant.adminKey, overrides: Record<string, unknown> = {}) {
  const res = await call(t.app, key, {
    method: 'POST',
    url: '/v1/complaints',
    json: complaintBody(overrides),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/**
 * The feed shows what the outbox relay has placed in it: a relay with no consumers, run while
 * the feed is read (the relay tests below must be the only relays of their events).
 */
let feedRelay: EventRelay | undefined;
function relayForTheFeed() {
  beforeAll(() => {
    feedRelay = startEventRelay({
      db: t.database.db,
      databaseUrl: t.env.DATABASE_URL,
      events: t.services.repositories.events,
      consumers: [],
      log: silent,
    });
  });
  afterAll(async () => {
    await feedRelay?.stop();
    feedRelay = undefined;
  });
}

async function feed(query: string, key = tenant.adminKey) {
  return call(t.app, key, { method: 'GET', url: `/v1/events${query}` });
}

/** Reads the whole feed from `after`, page by page, as a consumer would. */
async function readAll(key: string, after?: string, extra = '') {
  const seen: Array<{ id: string; type: string; data: EventData }> = [];
  let cursor = after;
  await feedRelay?.drain();
  for (;;) {
    const res = await feed(`?limit=3${cursor ? `&after=${cursor}` : ''}${extra}`, key);
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json();
    expect(page.data.flatMap(eventProblems)).toEqual([]);
    seen.push(...page.data);
    expect(page.nextCursor).toEqual(expect.any(String));
    if (page.data.length === 0) return { seen, cursor: page.nextCursor as string };
    cursor = page.nextCursor;
  }
}

/** Reads from `after` until at least `count` events have come, the relay having placed them. */
async function readAtLeast(key: string, count: number, after?: string, extra = '') {
  return eventually(async () => {
    const read = await readAll(key, after, extra);
    return read.seen.length >= count ? read : undefined;
  }, 10_000);
}

describe('GET /v1/events', () => {
  relayForTheFeed();

  it('carries every change as a Standard Webhooks envelope, in order, page by page', async () => {
    const own = await createTestTenant(t.tenancy);
    const complaint = await createComplaint(own.adminKey);
    await call(t.app, own.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${complaint.id}/transitions`,
      json: { to: 'acknowledged' },
    });
    await call(t.app, own.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${complaint.id}/communications`,
      json: { direction: 'outbound', channel: 'phone', body: 'Called back', contactMade: true },
    });
    // The call back made contact: it meets the first contact and the web complaint's online reply.
    const { seen, cursor } = await readAtLeast(own.adminKey, 5);
    expect(seen.map((e) => e.type)).toEqual([
      'complaint.created',
      'complaint.status_changed',
      'communication.recorded',
      'deadline.met',
      'deadline.met',
    ]);
    expect(seen.map((e) => e.data.sequence)).toEqual([1, 2, 3, 4, 5]);
    const [created] = seen;
    expect(created).toEqual({
      id: expect.stringMatching(/^evt_[0-9A-Za-z]{24}$/),
      type: 'complaint.created',
      timestamp: complaint.createdAt,
      data: expect.objectContaining({
        tenantId: own.tenantId,
        complaintId: complaint.id,
        reference: complaint.reference,
        sequence: 1,
        complaint: expect.objectContaining({ id: complaint.id, reference: complaint.reference }),
        actor: expect.objectContaining({ type: 'api_key' }),
      }),
    });

    // Reading on from the last cursor finds only what is new.
    await call(t.app, own.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${complaint.id}/escalations`,
      json: { level: 1, reason: 'Supervisor asked for' },
    });
    const more = await readAtLeast(own.adminKey, 1, cursor);
    expect(more.seen.map((e) => e.type)).toEqual(['complaint.escalated']);
  });

  it('selects types by exact name and wildcard', async () => {
    const own = await createTestTenant(t.tenancy);
    const complaint = await createComplaint(own.adminKey);
    await call(t.app, own.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${complaint.id}/communications`,
      json: { direction: 'outbound', channel: 'phone', body: 'Called back', contactMade: true },
    });
    const deadlines = await readAtLeast(own.adminKey, 2, undefined, '&types=deadline.*');
    expect(deadlines.seen.map((e) => e.type)).toEqual(['deadline.met', 'deadline.met']);
    const mixed = await readAtLeast(
      own.adminKey,
      2,
      undefined,
      '&types=complaint.created,communication.recorded',
    );
    expect(mixed.seen.map((e) => e.type)).toEqual(['complaint.created', 'communication.recorded']);
    const all = await readAtLeast(own.adminKey, 4, undefined, '&types=*');
    expect(all.seen).toHaveLength(4);
  });

  it('never skips an event whose transaction commits after later ones', async () => {
    const own = await createTestTenant(t.tenancy);
    const early = await createComplaint(own.adminKey);
    const { cursor } = await readAtLeast(own.adminKey, 1);
    // A transaction that writes an event and stays open, as a slow request would…
    const slow = new pg.Client({ connectionString: t.env.DATABASE_URL });
    await slow.connect();
    try {
      await slow.query('begin');
      // An edit that changed nothing, of the complaint as it was taken in: a complaint.updated as
      // the event catalogue has it, so the feed can show it.
      await slow.query(
        `insert into events (id, tenant_id, type, complaint_id, sequence, reference, data)
         select 'evt_slowslowslowslowslowslow', tenant_id, 'complaint.updated', complaint_id, 99, reference,
                data || '{"changes": []}'::jsonb
         from events where tenant_id = $1 and complaint_id = $2 and type = 'complaint.created'`,
        [own.tenantId, early.id],
      );
      // …while a later one commits, and the relay places it in the feed: the reader passes it.
      const later = await createComplaint(own.adminKey);
      const meanwhile = await readAtLeast(own.adminKey, 1, cursor);
      expect(meanwhile.seen.map((e) => e.data.complaintId)).toEqual([later.id]);
      // Read in the slow transaction, which sees its own event and the later one.
      const { rows } = await slow.query(
        `select (select position from events where id = 'evt_slowslowslowslowslowslow') <
           (select position from events where tenant_id = $1 and complaint_id = $2) as slow_is_older`,
        [own.tenantId, later.id],
      );
      expect(rows[0].slow_is_older).toBe(true);
      await slow.query('commit');
      // The slow event, written first, has its place after what the reader has passed.
      const after = await readAtLeast(own.adminKey, 1, meanwhile.cursor);
      expect(after.seen.map((e) => e.id)).toEqual(['evt_slowslowslowslowslowslow']);
    } finally {
      await slow.end();
    }
  });

  it("leaves a tenant another relay is placing to that relay, and shows the tenant's events once it commits", async () => {
    const own = await createTestTenant(t.tenancy);
    await createComplaint(own.adminKey);
    const { cursor } = await readAtLeast(own.adminKey, 1);
    // Another relay at work on this tenant: it holds the tenant's feed head until it commits.
    const other = new pg.Client({ connectionString: t.env.DATABASE_URL });
    await other.connect();
    try {
      await other.query('begin');
      await other.query('select 1 from event_feed_heads where tenant_id = $1 for update', [own.tenantId]);
      const next = await createComplaint(own.adminKey);
      const held = await readAll(own.adminKey, cursor);
      expect(held.seen).toEqual([]);
      const { rows } = await t.database.pool.query(
        'select count(*)::int as waiting from event_outbox where tenant_id = $1',
        [own.tenantId],
      );
      expect(rows[0].waiting).toBe(1);
      await other.query('commit');
      const after = await readAtLeast(own.adminKey, 1, held.cursor);
      expect(after.seen.map((e) => e.data.complaintId)).toEqual([next.id]);
    } finally {
      await other.end();
    }
  });

  it('shows each tenant its own events only', async () => {
    const one = await createTestTenant(t.tenancy);
    const two = await createTestTenant(t.tenancy);
    const mine = await createComplaint(one.adminKey);
    await createComplaint(two.adminKey);
    const { seen } = await readAtLeast(one.adminKey, 1);
    expect(seen.map((e) => e.data.complaintId)).toEqual([mine.id]);
    expect(seen.every((e) => e.data.tenantId === one.tenantId)).toBe(true);
  });

  it('refuses bad cursors, unknown types and callers without the read scope', async () => {
    for (const query of [
      '?after=not-a-cursor',
      `?after=${Buffer.from('["x",1]').toString('base64url')}`,
      `?after=${Buffer.from('[1.5]').toString('base64url')}`,
      `?after=${Buffer.from('[-1]').toString('base64url')}`,
      `?after=${Buffer.from('[]').toString('base64url')}`,
      `?after=${Buffer.from('["12",1,2]').toString('base64url')}`,
      '?types=deadline.breach',
      '?types=complaint.*,nope',
      '?types=',
      '?limit=0',
      '?limit=501',
      '?since=yesterday',
    ]) {
      const res = await feed(query);
      expect(res.statusCode, query).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(['validation_failed', 'invalid_cursor']).toContain(res.json().code);
    }
    expect((await feed('', null as unknown as string)).statusCode).toBe(401);
    const webhooksOnly = await tenant.keyWith('webhooks:manage');
    expect((await feed('', webhooksOnly)).statusCode).toBe(403);
  });
});

describe('the outbox relay', () => {
  /** A consumer that records what it was handed, optionally failing once inside the claim. */
  function recorder(options: { failOnce?: boolean } = {}) {
    const handed: EventRow[] = [];
    let failed = false;
    const consumer: EventConsumer = {
      name: 'test',
      async withinClaim(rows: EventRow[], _tx: Tx) {
        if (options.failOnce && !failed) {
          failed = true;
          throw new Error('receiver down');
        }
        handed.push(...rows);
      },
    };
    return { consumer, handed };
  }

  /** A relay of this file's database that hands what it relays to `consumer`. */
  const relayTo = (consumer: EventConsumer, options: { batchSize?: number; pollIntervalMs?: number } = {}) =>
    startEventRelay({
      db: t.database.db,
      databaseUrl: t.env.DATABASE_URL,
      events: t.services.repositories.events,
      consumers: [consumer],
      log: silent,
      ...options,
    });

  it('hands every event to its consumers exactly once, even with two relays at work', async () => {
    const own = await createTestTenant(t.tenancy);
    const first = recorder();
    const second = recorder();
    const relays = [first, second].map(({ consumer }) => relayTo(consumer, { batchSize: 2 }));
    try {
      const created = await Promise.all(Array.from({ length: 12 }, () => createComplaint(own.adminKey)));
      const ids = new Set(created.map((c) => c.id));
      const ours = () =>
        [...first.handed, ...second.handed].filter((row) => row.complaintId && ids.has(row.complaintId));
      // NOTIFY wakes the relays on commit; no drain() call is needed.
      await eventually(async () => ours().length >= 12, 5_000);
      await Promise.all(relays.map((relay) => relay.drain()));
      const handedIds = ours().map((row) => row.id);
      expect(handedIds).toHaveLength(12);
      expect(new Set(handedIds).size).toBe(12);
      const { rows } = await t.database.pool.query(
        'select count(*)::int as unrelayed from event_outbox where tenant_id = $1',
        [own.tenantId],
      );
      expect(rows[0].unrelayed).toBe(0);
      // Each relay placed what it claimed in the tenant's feed: every event once, none skipped.
      const { seen } = await readAll(own.adminKey);
      expect(seen.map((event) => event.data.complaintId).sort()).toEqual([...ids].sort());
    } finally {
      await Promise.all(relays.map((relay) => relay.stop()));
    }
  });

  it('withdraws its word that it is awake when it stops, so writers wake the next relay at once', async () => {
    const own = await createTestTenant(t.tenancy);
    const { consumer, handed } = recorder();
    const relay = relayTo(consumer);
    const complaint = await createComplaint(own.adminKey);
    await eventually(async () => handed.some((row) => row.complaintId === complaint.id), 5_000);
    await relay.stop();
    // Awake for good (on Citus: relayAwakeForGood) stays so; any word for a while is withdrawn.
    const { rows } = await t.database.pool.query(
      `select bool_or(awake_until > clock_timestamp() and awake_until <> 'infinity') as awake
       from outbox_relay_state`,
    );
    expect(rows[0].awake).toBe(false);
  });

  it('leaves events in the outbox when a consumer fails, and relays them on the next pass', async () => {
    const own = await createTestTenant(t.tenancy);
    const { consumer, handed } = recorder({ failOnce: true });
    const relay = relayTo(consumer, { pollIntervalMs: 100 });
    try {
      const complaint = await createComplaint(own.adminKey);
      await eventually(async () => handed.some((row) => row.complaintId === complaint.id), 5_000);
      expect(handed.filter((row) => row.complaintId === complaint.id)).toHaveLength(1);
    } finally {
      await relay.stop();
    }
  });

  it('wakes the relay for a transaction that inserted while it was awake and commits after it slept', async () => {
    const own = await createTestTenant(t.tenancy);
    const { consumer, handed } = recorder();
    // Its fallback poll far off, so only a NOTIFY can bring the late event in time.
    const relay = relayTo(consumer, { pollIntervalMs: 30_000 });
    const client = new pg.Client({ connectionString: t.env.DATABASE_URL });
    await client.connect();
    try {
      // A relay of an earlier test may have left word that it is awake: let that run out first.
      // On Citus the relay is awake for good and polls (relayAwakeForGood): what this test then
      // shows is that the poll, not a NOTIFY, brings the late event.
      await eventually(async () => {
        const { rows } = await client.query(
          `select coalesce(bool_or(awake_until > clock_timestamp() and awake_until <> 'infinity'), false) as awake
           from outbox_relay_state`,
        );
        return !rows[0].awake;
      });
      const first = await createComplaint(own.adminKey);
      await eventually(async () => handed.some((row) => row.complaintId === first.id), 5_000);
      await client.query('begin');
      const { rows } = await client.query(
        `insert into events (id, tenant_id, type, data) values ('evt_latecommit' || floor(random() * 1e9)::text, $1, 'test.late', '{}')
         returning id`,
        [own.tenantId],
      );
      // Asked apart from the insert: Citus refuses a subquery in an INSERT.
      const { rows: relayState } = await client.query(
        'select awake_until > clock_timestamp() as relay_awake from outbox_relay_state',
      );
      // Inserted while the relay was awake (writers then leave NOTIFY to the relay's lingering)...
      expect(relayState[0].relay_awake).toBe(true);
      // ...and committed once it has stopped lingering and gone back to sleep.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await client.query('commit');
      await eventually(async () => handed.some((row) => row.id === rows[0].id), 2_000);
    } finally {
      await client.end();
      await relay.stop();
    }
  });
});

describe('event retention', () => {
  it('purges relayed events past retention, and keeps what is newer or not yet relayed', async () => {
    const own = await createTestTenant(t.tenancy);
    const old = await createComplaint(own.adminKey);
    const unrelayed = await createComplaint(own.adminKey);
    const recent = await createComplaint(own.adminKey);
    // Nothing relays in this file's database: every event is still on the relay's work list.
    await t.database.pool.query(
      `update events set occurred_at = now() - interval '40 days' where complaint_id in ($1, $2)`,
      [old.id, unrelayed.id],
    );
    await t.database.pool.query(
      'delete from event_outbox where position in (select position from events where complaint_id in ($1, $2))',
      [old.id, recent.id],
    );
    await purgeOldEvents({
      repository: t.services.repositories.events,
      retentionDays: 30,
      clock: systemClock,
      log: silent,
    });
    const { rows } = await t.database.pool.query(
      'select complaint_id from events where tenant_id = $1 order by position',
      [own.tenantId],
    );
    expect(rows.map((row) => row.complaint_id)).toEqual([unrelayed.id, recent.id]);
  });
});

describe('migration event_envelope_columns', () => {
  relayForTheFeed();

  /** The migration's statement that rewrites stored events, as drizzle's migrator runs it. */
  async function rewriteStatement(): Promise<string> {
    const folder = new URL('../migrations/', import.meta.url);
    const file = (await readdir(folder)).find((name) => name.endsWith('_event_envelope_columns.sql'));
    expect(file).toBeDefined();
    const statements = (await readFile(new URL(file!, folder), 'utf8')).split('--> statement-breakpoint');
    const rewrite = statements.find((statement) => statement.trim().startsWith('UPDATE events'));
    expect(rewrite).toBeDefined();
    return rewrite!;
  }

  it('moves the envelope out of stored events, which consumers receive as before, as they do events not yet moved', async () => {
    const own = await createTestTenant(t.tenancy);
    const complaint = await createComplaint(own.adminKey);
    const escalated = await call(t.app, own.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${complaint.id}/escalations`,
      json: { level: 1, reason: 'The customer asked for a supervisor' },
    });
    expect(escalated.statusCode, escalated.body).toBe(201);
    const { seen: received } = await readAtLeast(own.adminKey, 2);
    expect(received.map((event) => event.type)).toEqual(['complaint.created', 'complaint.escalated']);
    const ownEvents = 'select count(*)::int as n from events where tenant_id = $1';
    const { rows: counted } = await t.database.pool.query(ownEvents, [own.tenantId]);

    // Written as an API of before the migration wrote them: the whole envelope in data, no reference.
    // Made by a select and written row by row: Citus refuses jsonb_build_object (STABLE) in an UPDATE.
    const { rows: asBefore } = await t.database.pool.query(
      `select position, data || jsonb_strip_nulls(jsonb_build_object('tenantId', tenant_id,
         'complaintId', complaint_id, 'reference', reference, 'sequence', sequence)) as data
       from events where tenant_id = $1`,
      [own.tenantId],
    );
    for (const row of asBefore) {
      await t.database.pool.query(
        'update events set data = $3, reference = null where tenant_id = $1 and position = $2',
        [own.tenantId, row.position, row.data],
      );
    }
    expect((await readAll(own.adminKey)).seen).toEqual(received);

    await t.database.pool.query(await rewriteStatement());
    const { rows } = await t.database.pool.query(
      'select reference, data from events where tenant_id = $1 order by position',
      [own.tenantId],
    );
    expect(rows).toHaveLength(counted[0].n);
    for (const row of rows) {
      expect(row.data).not.toHaveProperty('tenantId');
      expect(row.data).not.toHaveProperty('complaintId');
      expect(row.data).not.toHaveProperty('sequence');
    }
    expect(rows.filter((row) => row.reference !== null).map((row) => row.reference)).toEqual([
      complaint.reference,
      complaint.reference,
    ]);
    expect((await readAll(own.adminKey)).seen).toEqual(received);
  });
});
