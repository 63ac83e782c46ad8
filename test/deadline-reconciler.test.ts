import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeadlineMetrics } from '../src/modules/deadlines/deadline-metrics.js';
import { reconcileDeadlines } from '../src/modules/deadlines/deadline-reconciler.js';
import { ARMING_HORIZON_MS, nextWakeUp } from '../src/modules/deadlines/deadline-scheduler.js';
import { call, complaintBody, createTestTenant, type TestApp, type TestTenant } from './harness.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';
import { patientDeadlineQueue } from './redis-keys.js';

let isolated: IsolatedTestApp;
let t: TestApp;
let tenant: TestTenant;

// A database of its own: the reconciler sweeps every tenant's deadlines, and must neither breach
// another file's nor count them here.
/**
 * The queue the sweeps arm on, and the test looks into: the worker's kind, which waits for Redis,
 * not the API's, whose commands give up after a second.
 */
let queue: ReturnType<typeof patientDeadlineQueue>;
beforeAll(async () => {
  isolated = await startIsolatedTestApp('reconciler');
  t = isolated.app;
  queue = patientDeadlineQueue(t.env.REDIS_PREFIX, t.env.DEADLINE_QUEUE_SHARDS);
  tenant = await createTestTenant(t.tenancy);
});
afterAll(async () => {
  await queue?.close();
  await isolated?.close();
});

/** One sweep, as if it ran `aheadMs` from now (the jobs it adds still count from the real now). */
function reconcile(aheadMs = 0) {
  return reconcileDeadlines({
    repository: t.services.repositories.deadlines,
    deadlines: t.services.deadlines,
    scheduler: queue.scheduler,
    metrics: createDeadlineMetrics(new Registry()),
    now: () => Date.now() + aheadMs,
    log: pino({ level: 'silent' }),
  });
}

describe('the reconciler after a time without a worker', () => {
  it('breaches every overdue deadline once, in batches, escalating each complaint per breach', async () => {
    const complaintIds: string[] = [];
    for (let n = 0; n < 25; n++) {
      const res = await call(t.app, tenant.adminKey, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody({ channel: 'web' }),
      });
      expect(res.statusCode, res.body).toBe(201);
      complaintIds.push(res.json().id);
    }
    // As if the worker had been down for a day: every pending deadline fell due an hour ago.
    const { rowCount: overdue } = await t.database.pool.query(
      `update deadlines set due_at = now() - interval '1 hour', warn_ats = '{}'
       where complaint_id = any($1) and status = 'pending'`,
      [complaintIds],
    );
    expect(overdue).toBeGreaterThan(50); // more than one batch

    const report = await reconcile();
    expect(report.breachedOverdue).toBe(overdue);

    const { rows } = await t.database.pool.query(
      `select
         (select count(*)::int from deadlines where complaint_id = any($1) and status = 'breached') as breached,
         (select count(*)::int from events where complaint_id = any($1) and type = 'deadline.breached') as breach_events,
         (select count(distinct data->'deadline'->>'id')::int from events
           where complaint_id = any($1) and type = 'deadline.breached') as distinct_breached`,
      [complaintIds],
    );
    expect(rows[0]).toEqual({ breached: overdue, breach_events: overdue, distinct_breached: overdue });
    // Each breach raises its complaint a level, up to 3, and the events stay numbered in order.
    for (const id of complaintIds.slice(0, 3)) {
      const complaint = (
        await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${id}` })
      ).json();
      const { rows: breaches } = await t.database.pool.query(
        `select count(*)::int as n from deadlines where complaint_id = $1 and status = 'breached'`,
        [id],
      );
      expect(complaint.escalationLevel).toBe(Math.min(3, breaches[0].n));
      const { rows: sequences } = await t.database.pool.query(
        'select sequence from events where complaint_id = $1 order by position',
        [id],
      );
      expect(sequences.map((row) => Number(row.sequence))).toEqual(sequences.map((_, index) => index + 1));
    }

    // A second sweep, or a second worker's, finds nothing left to do.
    expect((await reconcile()).breachedOverdue).toBe(0);
  });
});

describe('the reconciler and the arming horizon', () => {
  it('arms a wake-up once it comes within the horizon, and not before', async () => {
    const res = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody({ channel: 'web' }),
    });
    expect(res.statusCode, res.body).toBe(201);
    const deadlines = await t.services.repositories.deadlines.listForComplaint(
      tenant.tenantId,
      res.json().id,
    );
    // A web complaint's deadlines are hours away: intake armed none of them.
    const wakeUps = deadlines.flatMap((deadline) => nextWakeUp(deadline) ?? []);
    expect(wakeUps.length).toBeGreaterThan(1);
    const inRedis = async () =>
      (
        await Promise.all(wakeUps.map((wakeUp) => queue.queueFor(wakeUp.job.deadlineId).getJob(wakeUp.jobId)))
      ).map(Boolean);
    expect(await inRedis()).toEqual(wakeUps.map(() => false));

    const first = Math.min(...wakeUps.map((wakeUp) => wakeUp.at));
    const soonest = wakeUps.map((wakeUp) => wakeUp.at === first);
    // A sweep just before the earliest wake-up comes within the horizon arms nothing; the next
    // one, once it has, arms that one alone.
    await reconcile(first - Date.now() - ARMING_HORIZON_MS - 60_000);
    expect(await inRedis()).toEqual(wakeUps.map(() => false));
    const report = await reconcile(first - Date.now() - ARMING_HORIZON_MS + 60_000);
    expect(report.rearmed).toBe(soonest.filter(Boolean).length);
    expect(await inRedis()).toEqual(soonest);
  });
});
