import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/lib/clock.js';
import { createTimelineIntegrityService } from '../src/modules/timeline-integrity/timeline-integrity.service.js';
import { postGraphql } from './graphql-client.js';
import {
  call,
  complaintBody,
  createTestTenant,
  startTestApp,
  type TestApp,
  type TestTenant,
} from './harness.js';

type Json = Record<string, unknown>;

let t: TestApp;
let tenant: TestTenant;

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTestTenant(t.tenancy);
});
afterAll(async () => {
  await t?.close();
});

async function send(method: 'GET' | 'POST', url: string, json?: unknown, key = tenant.adminKey) {
  const res = await call(t.app, key, { method, url, json });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json();
}

/** A complaint with a few entries: intake, a contact, a status change. */
async function complaintWithHistory(): Promise<Json & { id: string; reference: string }> {
  const complaint = await send('POST', '/v1/complaints', complaintBody());
  await send('POST', `/v1/complaints/${complaint.id}/communications`, {
    direction: 'outbound',
    channel: 'phone',
    body: '已致电客户确认收到投诉',
    contactMade: true,
  });
  await send('POST', `/v1/complaints/${complaint.id}/transitions`, { to: 'acknowledged' });
  return complaint;
}

const verification = (id: string, key = tenant.adminKey) =>
  call(t.app, key, { method: 'GET', url: `/v1/complaints/${id}/timeline/verification` });

/** The complaint's entries in id order, as stored. */
async function entries(complaintId: string): Promise<Array<{ id: string; entry_hash: Buffer }>> {
  const { rows } = await t.database.pool.query(
    'select t.id::text, t.entry_hash from complaint_timeline t where t.complaint_id = $1 order by t.id',
    [complaintId],
  );
  return rows;
}

/** Runs statements past the timeline's triggers, as someone with the database in hand could. */
async function tamper(...statements: Array<[string, unknown[]]>) {
  const client = await t.database.pool.connect();
  try {
    await client.query('begin');
    await client.query('set local session_replication_role = replica');
    for (const [text, values] of statements) await client.query(text, values);
    await client.query('commit');
  } finally {
    client.release();
  }
}

describe('the timeline hash chain', () => {
  it('links every entry to the one before it, from intake on, and an untouched complaint verifies', async () => {
    const complaint = await complaintWithHistory();
    const stored = await entries(complaint.id);
    expect(stored.length).toBeGreaterThanOrEqual(3);
    for (const entry of stored) expect(entry.entry_hash).toHaveLength(32);
    expect(new Set(stored.map((entry) => entry.entry_hash.toString('hex'))).size).toBe(stored.length);

    const res = await verification(complaint.id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      valid: true,
      entries: stored.length,
      head: stored.at(-1)!.entry_hash.toString('hex'),
      firstMismatch: null,
    });
    // By reference too.
    expect((await verification(complaint.reference)).json()).toMatchObject({ valid: true });
  });

  it('keeps one chain when writers of one complaint race', async () => {
    const complaint = await send('POST', '/v1/complaints', complaintBody());
    await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        send('POST', `/v1/complaints/${complaint.id}/communications`, {
          direction: 'inbound',
          channel: 'phone',
          body: `客户第${index + 1}次来电`,
          contactMade: true,
        }),
      ),
    );
    const res = (await verification(complaint.id)).json();
    expect(res).toMatchObject({ valid: true, entries: 9, firstMismatch: null });
  });

  it('chains several entries of one complaint written in one statement, each after the one before', async () => {
    const complaint = await send('POST', '/v1/complaints', complaintBody());
    await t.database.pool.query(
      `insert into complaint_timeline (tenant_id, complaint_id, type, actor_type, actor_name, data)
       select $1, $2, 'test.note', 'system', 'Redress', jsonb_build_object('n', n) from generate_series(1, 5) n`,
      [tenant.tenantId, complaint.id],
    );
    expect((await verification(complaint.id)).json()).toMatchObject({ valid: true, entries: 6 });
  });

  it('gives a writer that waited for another a later id, so id order stays chain order', async () => {
    const complaint = await send('POST', '/v1/complaints', complaintBody());
    const [holder, waiter] = [await t.database.pool.connect(), await t.database.pool.connect()];
    const insert = `insert into complaint_timeline (tenant_id, complaint_id, type, actor_type, actor_name)
      values ($1, $2, $3, 'system', 'Redress') returning id::text`;
    try {
      // One writer holds the complaint; another, which did not take it first, gets its id and waits.
      await holder.query('begin');
      await holder.query('select 1 from complaints where id = $1 for update', [complaint.id]);
      const waiterPid = (await waiter.query('select pg_backend_pid() as pid')).rows[0].pid;
      const waiting = waiter.query(insert, [tenant.tenantId, complaint.id, 'test.second']);
      await expect
        .poll(
          async () =>
            (
              await t.database.pool.query('select wait_event_type from pg_stat_activity where pid = $1', [
                waiterPid,
              ])
            ).rows[0]?.wait_event_type,
        )
        .toBe('Lock');
      const first = (await holder.query(insert, [tenant.tenantId, complaint.id, 'test.first'])).rows[0].id;
      await holder.query('commit');
      const second = (await waiting).rows[0].id;
      expect(BigInt(second)).toBeGreaterThan(BigInt(first));
    } finally {
      holder.release();
      waiter.release();
    }
    expect((await verification(complaint.id)).json()).toMatchObject({ valid: true, entries: 3 });
  });

  it('names the entry whose data was changed straight in SQL with the triggers off', async () => {
    const complaint = await complaintWithHistory();
    const stored = await entries(complaint.id);
    const target = stored[1]!;
    // The append-only trigger refuses it while on.
    await expect(
      t.database.pool.query(`update complaint_timeline set data = '{"body": "x"}' where id = $1`, [
        target.id,
      ]),
    ).rejects.toThrow(/append-only/);
    await tamper([
      `update complaint_timeline set data = coalesce(data, '{}') || '{"note": "rewritten"}' where id = $1`,
      [target.id],
    ]);
    const res = await verification(complaint.id);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      valid: false,
      entries: stored.length,
      firstMismatch: {
        entryId: target.id,
        position: 2,
        previousEntryId: stored[0]!.id,
        stored: target.entry_hash.toString('hex'),
      },
    });
    expect(res.json().firstMismatch.expected).not.toBe(target.entry_hash.toString('hex'));
  });

  it('detects a change to a column other than data, such as the time', async () => {
    const complaint = await complaintWithHistory();
    const stored = await entries(complaint.id);
    await tamper([
      `update complaint_timeline set occurred_at = occurred_at - interval '1 day' where id = $1`,
      [stored[0]!.id],
    ]);
    expect((await verification(complaint.id)).json()).toMatchObject({
      valid: false,
      firstMismatch: { entryId: stored[0]!.id, position: 1, previousEntryId: null },
    });
  });

  it('names the entry after one that was deleted', async () => {
    const complaint = await complaintWithHistory();
    const stored = await entries(complaint.id);
    await tamper([`delete from complaint_timeline where id = $1`, [stored[1]!.id]]);
    expect((await verification(complaint.id)).json()).toMatchObject({
      valid: false,
      entries: stored.length - 1,
      firstMismatch: { entryId: stored[2]!.id, position: 2, previousEntryId: stored[0]!.id },
    });
  });

  it('answers over GraphQL as over REST', async () => {
    const complaint = await complaintWithHistory();
    const answer = await postGraphql(
      t.app,
      tenant.adminKey,
      /* GraphQL */ `query ($id: ID!) { complaint(id: $id) { timelineVerification {
        valid entries head firstMismatch { entryId position previousEntryId stored expected } } } }`,
      { id: complaint.id },
    );
    expect(answer.errors).toEqual([]);
    expect(answer.data.complaint.timelineVerification).toEqual((await verification(complaint.id)).json());
  });

  it('is a 404 for another tenant, and needs complaints:read', async () => {
    const complaint = await complaintWithHistory();
    const other = await createTestTenant(t.tenancy);
    const theirs = await verification(complaint.id, other.adminKey);
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json()).toMatchObject({ code: 'not_found' });
    expect((await verification(complaint.id, await tenant.keyWith('webhooks:manage'))).statusCode).toBe(403);
    expect(
      (
        await call(t.app, null, {
          method: 'GET',
          url: `/v1/complaints/${complaint.id}/timeline/verification`,
        })
      ).statusCode,
    ).toBe(401);
    expect((await verification('not a key at all, far too long '.repeat(10))).statusCode).toBe(400);
  });
});

describe('the daily timeline digest', () => {
  it('emits one timeline.digest event per tenant-day, hashing the heads, and not again when run again', async () => {
    const own = await createTestTenant(t.tenancy);
    const made: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await call(t.app, own.adminKey, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody(),
      });
      expect(res.statusCode, res.body).toBe(201);
      made.push(res.json().id);
    }
    // Run as if tomorrow: today is the finished day it digests.
    const tomorrow = { now: () => new Date(systemClock.now().getTime() + 86_400_000) };
    const today = systemClock.now().toISOString().slice(0, 10);
    const service = createTimelineIntegrityService({
      db: t.database.db,
      repository: t.services.repositories.timelineIntegrity,
      complaints: t.services.complaints,
      events: t.services.repositories.events,
      clock: tomorrow,
    });
    const digestEvents = async () =>
      (
        await t.database.pool.query(
          `select id, data from events where tenant_id = $1 and type = 'timeline.digest' order by position`,
          [own.tenantId],
        )
      ).rows;

    // Today is not over: the tenant, made today, has no digest yet.
    await createTimelineIntegrityService({
      db: t.database.db,
      repository: t.services.repositories.timelineIntegrity,
      complaints: t.services.complaints,
      events: t.services.repositories.events,
      clock: systemClock,
    }).digestFinishedDays();
    expect(await digestEvents()).toEqual([]);

    expect(await service.digestFinishedDays()).toBeGreaterThanOrEqual(1);
    const [event, ...more] = await digestEvents();
    expect(more).toEqual([]);
    const heads = await Promise.all(
      [...made].sort().map(async (id) => {
        const res = await call(t.app, own.adminKey, {
          method: 'GET',
          url: `/v1/complaints/${id}/timeline/verification`,
        });
        return Buffer.concat([Buffer.from(id.replace(/-/g, ''), 'hex'), Buffer.from(res.json().head, 'hex')]);
      }),
    );
    expect(event.data).toEqual({
      day: today,
      complaints: 3,
      digest: createHash('sha256').update(Buffer.concat(heads)).digest('hex'),
      algorithm: 'sha256-heads-v1',
    });

    // Again, by a second worker and a retry of the day: nothing new.
    expect(await service.digestTenantDay(own.tenantId, today)).toBe(false);
    await service.digestFinishedDays();
    expect(await digestEvents()).toHaveLength(1);
  });
});
