import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeadlineMetrics } from '../src/modules/deadlines/deadline-metrics.js';
import { reconcileDeadlines } from '../src/modules/deadlines/deadline-reconciler.js';
import { call, complaintBody, createTestTenant, type TestApp, type TestTenant } from './harness.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';

let isolated: IsolatedTestApp;
let t: TestApp;
let tenant: TestTenant;

// A database of its own: the reconciler sweeps every tenant's deadlines, and must neither breach
// another file's nor count them here.
beforeAll(async () => {
  isolated = await startIsolatedTestApp('reconciler');
  t = isolated.app;
  tenant = await createTestTenant(t.tenancy);
});
afterAll(() => isolated?.close());

function reconcile() {
  return reconcileDeadlines({
    repository: t.services.repositories.deadlines,
    deadlines: t.services.deadlines,
    scheduler: t.deadlineQueue.scheduler,
    metrics: createDeadlineMetrics(new Registry()),
    now: () => Date.now(),
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
