/**
 * The reports read kept counts (report_deadline_days, report_follow_up_days,
 * report_inventory_counts, the last made from complaints' open stretches in complaint_open_spans)
 * instead of the history. Whatever happens to a tenant's complaints, deadlines and follow-ups,
 * they must answer exactly what the straightforward queries over the source tables answer: the
 * queries below, as the reports ran before they kept anything. Intake and status changes go through the API (they write the timeline the
 * straightforward inventory reads); deadlines, follow-ups and groupings are changed in SQL, to
 * reach states the workflow takes days to.
 */
import { readFile } from 'node:fs/promises';
import { type SQL, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowedTransitions } from '../src/modules/complaints/complaint-status.js';
import { createReportCounts } from '../src/modules/reports/report-counts.js';
import { dayBounds, reportPeriod } from '../src/modules/reports/report-periods.js';
import {
  createReportsRepository,
  GROUP_BY,
  type GroupBy,
} from '../src/modules/reports/reports.repository.js';
import { call, complaintBody, createTestTenant, startTestApp, type TestApp } from './harness.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';
import { TIMELINE_BEFORE_COMPACTING } from './timeline-shapes.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

const TIME_ZONE = 'Asia/Shanghai';
/**
 * Zones a tenant's report days may be kept in: the default, whole hours with summer time, half
 * and quarter hours off UTC, and UTC itself.
 */
const TIME_ZONES = ['Asia/Shanghai', 'America/St_Johns', 'Asia/Kathmandu', 'Europe/London', 'UTC'] as const;
const OPEN_STATUSES = sql`('received', 'acknowledged', 'investigating', 'awaiting_customer')`;
const GROUP_COLUMN: Record<GroupBy | 'none', SQL> = {
  channel: sql`c.channel::text`,
  category: sql`c.category`,
  severity: sql`c.severity::text`,
  assignee: sql`c.assignee`,
  none: sql`null::text`,
};

/**
 * The status each of a tenant's complaints changed since `asOf` had then, as its last timeline
 * entry up to `asOf` that set one says: the entries are read first, then shown
 * (timeline_entry_data) in a statement of their own, as the timeline does, since on Citus a
 * function that reads other tables cannot run inside a statement sent to a shard.
 */
async function statusesFromTimeline(tenantId: string, asOf: Date) {
  const entries = await t.database.db.execute<Record<string, unknown>>(sql`
    select t.tenant_id, t.complaint_id, t.id, t.type, t.changes, t.data, t.occurred_at, t.subject_id
    from complaints c
      cross join lateral (
        select t.* from complaint_timeline t
        where t.tenant_id = ${tenantId}::uuid and t.complaint_id = c.id
          and t.type in ('complaint.status_changed', 'complaint.acceptance_overridden', 'complaint.created')
          and t.occurred_at <= ${asOf}::timestamptz
        order by t.id desc limit 1) as t
    where c.tenant_id = ${tenantId}::uuid and c.updated_at > ${asOf}::timestamptz
      and t.type in ('complaint.status_changed', 'complaint.created')`);
  const shown = await t.database.db.execute<{ complaint_id: string; status: string }>(sql`
    select e.complaint_id, case e.type
        when 'complaint.status_changed' then timeline_entry_data(e.tenant_id, e.complaint_id, e.id, e.type,
          e.changes, e.data, e.occurred_at, e.subject_id) ->> 'to'
        else timeline_entry_data(e.tenant_id, e.complaint_id, e.id, e.type, e.changes, e.data,
          e.occurred_at, e.subject_id) -> 'complaint' ->> 'status' end as status
    from jsonb_to_recordset(${JSON.stringify(entries.rows)}::jsonb) as e(tenant_id uuid, complaint_id uuid,
      id bigint, type text, changes jsonb, data jsonb, occurred_at timestamptz, subject_id uuid)`);
  return {
    ids: shown.rows.map((row) => row.complaint_id),
    statuses: shown.rows.map((row) => row.status),
  };
}

/**
 * The daily inventory straight from complaints, their timeline and deadlines: what was received
 * that day, open as the day ended (from the timeline), due that day, and open with a deadline
 * overdue then. A complaint open at `asOf` was received before it (the span opens just after).
 */
async function inventoryFromHistory(tenantId: string, window: { start: Date; end: Date; asOf: Date }) {
  const { start, end, asOf } = window;
  const { ids, statuses } = await statusesFromTimeline(tenantId, asOf);
  const statusThen = sql`(select s.status from unnest(${sql.param(ids)}::uuid[], ${sql.param(statuses)}::text[]) as s (complaint_id, status)
    where s.complaint_id = c.id)`;
  const result = await t.database.db.execute<Record<string, unknown>>(sql`
    with flags as (
      select c.assignee, c.severity::text as severity,
        c.received_at >= ${start}::timestamptz and c.received_at < ${end}::timestamptz as received,
        c.received_at < ${asOf}::timestamptz and (case when c.updated_at <= ${asOf}::timestamptz then c.status::text
          else coalesce((select case t.type
                when 'complaint.status_changed' then ${statusThen}
                when 'complaint.acceptance_overridden' then 'received'
                -- Declined at intake: never open, though the entry of its rejection, part of the
                -- same intake, comes a moment after the created one.
                else case when c.rejection_code is not null or exists (select 1 from complaint_timeline o
                    where o.tenant_id = c.tenant_id and o.complaint_id = c.id
                      and o.type = 'complaint.acceptance_overridden')
                  then 'rejected'
                  else ${statusThen} end end
            from complaint_timeline t
            where t.tenant_id = c.tenant_id and t.complaint_id = c.id
              and t.type in ('complaint.status_changed', 'complaint.acceptance_overridden', 'complaint.created')
              and t.occurred_at <= ${asOf}::timestamptz
            order by t.id desc limit 1),
            case when c.rejection_code is not null or exists (select 1 from complaint_timeline t
                where t.tenant_id = c.tenant_id and t.complaint_id = c.id
                  and t.type = 'complaint.acceptance_overridden')
              then 'rejected' else 'received' end) end) in ${OPEN_STATUSES} as open,
        exists (select 1 from deadlines d where d.tenant_id = c.tenant_id and d.complaint_id = c.id
          and d.due_at >= ${start}::timestamptz and d.due_at < ${end}::timestamptz and d.status <> 'cancelled') as due_today,
        exists (select 1 from deadlines d where d.tenant_id = c.tenant_id and d.complaint_id = c.id
          and d.due_at < ${asOf}::timestamptz
          and (d.met_at is null or d.met_at > ${asOf}::timestamptz)
          and (d.cancelled_at is null or d.cancelled_at > ${asOf}::timestamptz)
          and not (d.status = 'paused' and d.paused_at <= ${asOf}::timestamptz)) as overdue
      from complaints c
      where c.tenant_id = ${tenantId}::uuid and c.received_at < ${end}::timestamptz
    )
    select grouping(assignee) = 0 as by_assignee, grouping(severity) = 0 as by_severity, assignee, severity,
      count(*) filter (where received)::int as received, count(*) filter (where open)::int as open,
      count(*) filter (where due_today)::int as due_today, count(*) filter (where open and overdue)::int as overdue
    from flags
    where received or open or due_today
    group by grouping sets ((assignee), (severity), ())
    order by by_assignee desc, by_severity desc, assignee nulls last, severity`);
  return result.rows.map((row) => ({
    dimension: row.by_assignee ? 'assignee' : row.by_severity ? 'severity' : 'total',
    value: row.by_assignee ? row.assignee : row.by_severity ? row.severity : null,
    received: row.received,
    open: row.open,
    dueToday: row.due_today,
    overdue: row.overdue,
  }));
}

/** SLA compliance straight from the deadlines due in the period. */
async function complianceFromDeadlines(
  tenantId: string,
  window: { start: Date; end: Date },
  groupBy: GroupBy | 'none',
) {
  const result = await t.database.db.execute<Record<string, unknown>>(sql`
    select ${GROUP_COLUMN[groupBy]} as grp, d.kind::text as kind,
      count(*) filter (where d.met_at is not null and d.met_at <= d.due_at)::int as met_on_time,
      count(*) filter (where d.met_at is not null and d.met_at > d.due_at)::int as met_late,
      count(*) filter (where d.status = 'breached')::int as breached,
      count(*) filter (where d.status in ('pending', 'paused'))::int as pending
    from deadlines d join complaints c on c.tenant_id = d.tenant_id and c.id = d.complaint_id
    where d.tenant_id = ${tenantId}::uuid and d.due_at >= ${window.start}::timestamptz
      and d.due_at < ${window.end}::timestamptz and d.status <> 'cancelled'
    group by 1, 2
    order by 1 nulls last, 2`);
  return result.rows.map((row) => ({
    group: row.grp,
    kind: row.kind,
    metOnTime: row.met_on_time,
    metLate: row.met_late,
    breached: row.breached,
    pending: row.pending,
  }));
}

/** Satisfaction straight from the follow-ups completed in the period. */
async function satisfactionFromFollowUps(
  tenantId: string,
  window: { start: Date; end: Date },
  groupBy: GroupBy | 'none',
) {
  const result = await t.database.db.execute<Record<string, unknown>>(sql`
    select ${GROUP_COLUMN[groupBy]} as grp,
      count(*) filter (where f.outcome = 'satisfied')::int as satisfied,
      count(*) filter (where f.outcome = 'unsatisfied')::int as unsatisfied,
      count(*) filter (where f.outcome = 'unreachable')::int as unreachable,
      count(*) filter (where f.outcome = 'declined')::int as declined,
      count(f.score)::int as scored,
      round(avg(f.score), 2)::float8 as average_score
    from follow_ups f join complaints c on c.tenant_id = f.tenant_id and c.id = f.complaint_id
    where f.tenant_id = ${tenantId}::uuid and f.outcome is not null
      and f.completed_at >= ${window.start}::timestamptz and f.completed_at < ${window.end}::timestamptz
    group by 1
    order by 1 nulls last`);
  return result.rows.map((row) => ({
    group: row.grp,
    satisfied: row.satisfied,
    unsatisfied: row.unsatisfied,
    unreachable: row.unreachable,
    declined: row.declined,
    scored: row.scored,
    averageScore: row.average_score,
  }));
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const localDate = (instant: Date, timeZone: string = TIME_ZONE) =>
  instant.toLocaleDateString('sv-SE', { timeZone });

/** Sets a tenant's time zone through the API, as an administrator would. */
async function setTimeZone(adminKey: string, timeZone: string) {
  const url = '/v1/settings/workflow';
  const current = await call(t.app, adminKey, { method: 'GET', url });
  const put = await call(t.app, adminKey, {
    method: 'PUT',
    url,
    headers: { 'if-match': current.headers.etag as string },
    json: { ...(current.json() as Record<string, unknown>), timeZone },
  });
  expect(put.statusCode, put.body).toBe(200);
}

const pick = <T>(items: readonly T[], n: number): T => items[n % items.length]!;
const CHANNELS = ['phone', 'web', 'email', 'letter'] as const;
const CATEGORIES = ['billing', 'facilities', null] as const;
const ASSIGNEES = ['li.na', 'wang.wu', null] as const;
const SEVERITIES = ['general', 'major'] as const;
const OUTCOMES = ['satisfied', 'unsatisfied', 'unreachable', 'declined'] as const;

const operation = fc.oneof(
  fc.record({
    op: fc.constant('create' as const),
    hoursAgo: fc.integer({ min: 0, max: 10 * 24 }),
    channel: fc.nat(),
    category: fc.nat(),
    assignee: fc.nat(),
    declined: fc.boolean(),
  }),
  fc.record({ op: fc.constant('transition' as const), complaint: fc.nat(), to: fc.nat() }),
  fc.record({
    op: fc.constant('regroup' as const),
    complaint: fc.nat(),
    field: fc.constantFrom('channel', 'category', 'severity', 'assignee'),
    value: fc.nat(),
  }),
  fc.record({
    op: fc.constant('deadline' as const),
    deadline: fc.nat(),
    change: fc.constantFrom('met', 'cancel', 'breach', 'pause', 'move'),
    hours: fc.integer({ min: -72, max: 72 }),
  }),
  fc.record({
    op: fc.constant('followUp' as const),
    complaint: fc.nat(),
    outcome: fc.nat(),
    score: fc.option(fc.integer({ min: 1, max: 5 })),
    hoursAgo: fc.integer({ min: 0, max: 10 * 24 }),
  }),
  fc.constant({ op: 'fold' as const }),
  fc.constant({ op: 'mark' as const }),
  fc.record({ op: fc.constant('zone' as const), timeZone: fc.constantFrom(...TIME_ZONES) }),
);

describe('reports', () => {
  const reports = () => createReportsRepository(t.database.db);
  const counts = () => createReportCounts(t.database.db);

  it('agree exactly with the straightforward queries over the source tables, whatever happened', {
    // A dozen histories through the API: on a Citus cluster they take longer than the default.
    timeout: 180_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(operation, { minLength: 4, maxLength: 24 }),
        fc.array(fc.tuple(fc.integer({ min: -12, max: 1 }), fc.integer({ min: 0, max: 12 })), {
          minLength: 2,
          maxLength: 4,
        }),
        fc.constantFrom(...TIME_ZONES),
        async (operations, periods, firstTimeZone) => {
          const tenant = await createTestTenant(t.tenancy);
          let timeZone = firstTimeZone;
          if (timeZone !== TIME_ZONE) await setTimeZone(tenant.adminKey, timeZone);
          const complaintIds: string[] = [];
          const marks: Date[] = [];
          const db = t.database.db;
          for (const step of operations) {
            switch (step.op) {
              case 'create': {
                const res = await call(t.app, tenant.adminKey, {
                  method: 'POST',
                  url: '/v1/complaints',
                  json: complaintBody({
                    channel: pick(CHANNELS, step.channel),
                    category: pick(CATEGORIES, step.category) ?? undefined,
                    assignee: pick(ASSIGNEES, step.assignee) ?? undefined,
                    receivedAt: new Date(Date.now() - step.hoursAgo * HOUR).toISOString(),
                    ...(step.declined ? { complainantRelation: 'other' } : {}),
                  }),
                });
                expect(res.statusCode, res.body).toBe(201);
                complaintIds.push(res.json().id);
                break;
              }
              case 'transition': {
                if (complaintIds.length === 0) break;
                const id = pick(complaintIds, step.complaint);
                const current = (
                  await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${id}` })
                ).json();
                const moves = allowedTransitions(current.status);
                if (moves.length === 0) break;
                // A move the workflow refuses now (a resolution still owed, say) changes nothing.
                await call(t.app, tenant.adminKey, {
                  method: 'POST',
                  url: `/v1/complaints/${id}/transitions`,
                  json: { to: pick(moves, step.to), reason: 'Parity check' },
                });
                break;
              }
              case 'regroup': {
                if (complaintIds.length === 0) break;
                const id = pick(complaintIds, step.complaint);
                const value = {
                  channel: pick(CHANNELS, step.value),
                  category: pick(CATEGORIES, step.value),
                  severity: pick(SEVERITIES, step.value),
                  assignee: pick(ASSIGNEES, step.value),
                }[step.field];
                await db.execute(sql`update complaints set ${sql.identifier(step.field)} = ${value}
                  where tenant_id = ${tenant.tenantId}::uuid and id = ${id}::uuid`);
                break;
              }
              case 'deadline': {
                const rows = (
                  await db.execute<{
                    id: string;
                    due_at: string;
                    received_at: string;
                    met: boolean;
                    settled: boolean;
                  }>(
                    sql`select d.id, d.due_at, c.received_at, d.met_at is not null as met,
                          d.met_at is not null or d.breached_at is not null as settled
                        from deadlines d join complaints c on c.tenant_id = d.tenant_id and c.id = d.complaint_id
                        where d.tenant_id = ${tenant.tenantId}::uuid order by d.id`,
                  )
                ).rows;
                if (rows.length === 0) break;
                const row = pick(rows, step.deadline);
                // A met or breached deadline keeps its due time, and a met one when it was met
                // (refuse_settled_deadline_rewrite): nothing Redress does changes them.
                if ((step.change === 'move' && row.settled) || (step.change === 'met' && row.met)) break;
                const moved = new Date(new Date(row.due_at).getTime() + step.hours * HOUR);
                // Every deadline is reckoned from its complaint's receipt on, which no one can
                // change: a move never makes one fall due before the complaint came in.
                const at =
                  step.change === 'move'
                    ? new Date(Math.max(moved.getTime(), new Date(row.received_at).getTime()))
                    : moved;
                const set = {
                  met: sql`status = 'met', met_at = ${at}::timestamptz`,
                  cancel: sql`status = 'cancelled', cancelled_at = ${at}::timestamptz`,
                  breach: sql`status = 'breached', breached_at = due_at`,
                  pause: sql`status = 'paused', paused_at = ${at}::timestamptz`,
                  move: sql`due_at = ${at}::timestamptz`,
                }[step.change];
                await db.execute(
                  sql`update deadlines set ${set} where tenant_id = ${tenant.tenantId}::uuid and id = ${row.id}::uuid`,
                );
                break;
              }
              case 'followUp': {
                if (complaintIds.length === 0) break;
                const id = pick(complaintIds, step.complaint);
                const at = new Date(Date.now() - step.hoursAgo * HOUR);
                await db.execute(sql`
                  insert into follow_ups (id, tenant_id, complaint_id, deadline_id, attempt, status, due_at, outcome, score, completed_at)
                  select gen_random_uuid(), d.tenant_id, d.complaint_id, d.id,
                    (select count(*) + 1 from follow_ups f where f.tenant_id = d.tenant_id and f.complaint_id = d.complaint_id),
                    'completed', ${at}::timestamptz, ${pick(OUTCOMES, step.outcome)}, ${step.score}, ${at}::timestamptz
                  from deadlines d where d.tenant_id = ${tenant.tenantId}::uuid and d.complaint_id = ${id}::uuid
                  limit 1`);
                break;
              }
              case 'fold':
                await counts().fold();
                break;
              case 'mark':
                marks.push(new Date());
                break;
              case 'zone':
                await setTimeZone(tenant.adminKey, step.timeZone);
                timeZone = step.timeZone;
                break;
            }
          }

          marks.push(new Date());
          for (const [fromOffset, length] of periods) {
            const from = localDate(new Date(Date.now() + fromOffset * DAY), timeZone);
            const to = localDate(new Date(Date.now() + (fromOffset + length) * DAY), timeZone);
            const period = reportPeriod(from, to, timeZone);
            for (const groupBy of ['none', ...GROUP_BY] as const) {
              expect(await reports().slaCompliance(tenant.tenantId, period, groupBy)).toEqual(
                await complianceFromDeadlines(tenant.tenantId, period, groupBy),
              );
              expect(await reports().satisfaction(tenant.tenantId, period, groupBy)).toEqual(
                await satisfactionFromFollowUps(tenant.tenantId, period, groupBy),
              );
            }
            const day = dayBounds(from, timeZone);
            const asOf = day.end.getTime() < Date.now() ? day.end : new Date();
            expect(await reports().dailyInventory(tenant.tenantId, { ...day, asOf, timeZone })).toEqual(
              await inventoryFromHistory(tenant.tenantId, { ...day, asOf }),
            );
          }
          // The inventory at the instants between the changes, where the open stretches turn.
          for (const asOf of marks) {
            const day = dayBounds(localDate(asOf, timeZone), timeZone);
            expect(await reports().dailyInventory(tenant.tenantId, { ...day, asOf, timeZone })).toEqual(
              await inventoryFromHistory(tenant.tenantId, { ...day, asOf }),
            );
          }
          // The triggers kept the counts exact: a recount finds nothing to correct.
          expect(await counts().recount(tenant.tenantId)).toBe(0);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('stay exact while regroupings, deadline changes and folds race each other', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await call(t.app, tenant.adminKey, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody({
          channel: pick(CHANNELS, i),
          receivedAt: new Date(Date.now() - i * DAY).toISOString(),
        }),
      });
      expect(res.statusCode, res.body).toBe(201);
      ids.push(res.json().id);
    }
    const { pool } = t.database;
    const deadlineIds = (
      await pool.query<{ id: string; complaint_id: string; due_at: Date }>(
        'select id, complaint_id, due_at from deadlines where tenant_id = $1 order by id',
        [tenant.tenantId],
      )
    ).rows;
    // The pool opens its connections first, so that the writes race each other rather than the
    // connects (on a busy Citus coordinator a connection can take seconds to open).
    await Promise.all(Array.from({ length: 3 * deadlineIds.length }, () => pool.query('select 1')));
    // Each deadline change and each regrouping of its complaint in its own transaction, all at
    // once: whichever commits first, each must count the other's outcome. The instant it was met
    // is reckoned here: Citus refuses an UPDATE that adds an interval to a column.
    const writes = deadlineIds.flatMap((deadline, i) => [
      pool.query(`update deadlines set status = 'met', met_at = $3 where tenant_id = $2 and id = $1`, [
        deadline.id,
        tenant.tenantId,
        new Date(deadline.due_at.getTime() + ((i % 3) - 1) * HOUR),
      ]),
      pool.query('update complaints set assignee = $2, category = $3 where tenant_id = $1 and id = $4', [
        tenant.tenantId,
        pick(ASSIGNEES, i),
        pick(CATEGORIES, i + 1),
        deadline.complaint_id,
      ]),
      pool.query('update complaints set severity = $2 where tenant_id = $1 and id = $3', [
        tenant.tenantId,
        pick(SEVERITIES, i),
        deadline.complaint_id,
      ]),
      i % 4 === 0 ? counts().fold() : Promise.resolve(),
    ]);
    await Promise.all(writes);

    const period = reportPeriod(
      localDate(new Date(Date.now() - 14 * DAY)),
      localDate(new Date(Date.now() + 14 * DAY)),
      TIME_ZONE,
    );
    for (const groupBy of ['none', ...GROUP_BY] as const) {
      expect(await reports().slaCompliance(tenant.tenantId, period, groupBy)).toEqual(
        await complianceFromDeadlines(tenant.tenantId, period, groupBy),
      );
    }
    expect(await counts().recount(tenant.tenantId)).toBe(0);
  });

  it('are recounted exactly from the source tables when the kept counts went wrong', async () => {
    const tenant = await createTestTenant(t.tenancy);
    for (const channel of ['phone', 'web']) {
      const res = await call(t.app, tenant.adminKey, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody({ channel, receivedAt: new Date(Date.now() - 5 * DAY).toISOString() }),
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    await counts().fold();
    const period = reportPeriod(localDate(new Date(Date.now() - 7 * DAY)), localDate(new Date()), TIME_ZONE);
    const truth = await complianceFromDeadlines(tenant.tenantId, period, 'channel');
    expect(truth.length).toBeGreaterThan(0);
    // Counts lost and counts made up, as a restore from an older backup of one table might leave.
    await t.database.db.execute(sql`update report_deadline_days set pending = pending + 3, counted = counted + 3
      where tenant_id = ${tenant.tenantId}::uuid and dimension = 'channel' and value = 'phone'`);
    await t.database.db.execute(sql`delete from report_deadline_days
      where tenant_id = ${tenant.tenantId}::uuid and dimension = 'channel' and value = 'web'`);
    expect(await reports().slaCompliance(tenant.tenantId, period, 'channel')).not.toEqual(truth);

    expect(await counts().recount(tenant.tenantId)).toBeGreaterThan(0);
    expect(await reports().slaCompliance(tenant.tenantId, period, 'channel')).toEqual(truth);
    expect(await counts().recount(tenant.tenantId)).toBe(0);
  });
});

// Migration 0028 came before Redress could be distributed, so a database went through it on one
// server: its statement runs again on a database on one server, even when the suite runs on
// Citus, where the copy of the timeline as it was then would be made on the shards, by a function
// that reads other tables.
describe('the open stretches of migration report_rollups', () => {
  let isolated: IsolatedTestApp;
  let one: TestApp;
  beforeAll(async () => {
    isolated = await startIsolatedTestApp('report_rollups', {}, { distribute: false });
    one = isolated.app;
  });
  afterAll(async () => {
    await isolated?.close();
  });

  it('find the open stretches the migration built from the timeline as the triggers keep them', async () => {
    const tenant = await createTestTenant(one.tenancy);
    const post = (url: string, json: unknown) =>
      call(one.app, tenant.adminKey, { method: 'POST', url, json });
    const created = async (overrides: Record<string, unknown>) => {
      const res = await post('/v1/complaints', complaintBody(overrides));
      expect(res.statusCode, res.body).toBe(201);
      return res.json().id as string;
    };
    const daysAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString();
    await created({ receivedAt: daysAgo(3), assignee: 'li.na' });
    const withdrawn = await created({ receivedAt: daysAgo(2) });
    expect(
      (await post(`/v1/complaints/${withdrawn}/transitions`, { to: 'withdrawn', reason: 'x' })).statusCode,
    ).toBe(200);
    const declined = await created({ receivedAt: daysAgo(4), complainantRelation: 'other' });
    await created({ receivedAt: daysAgo(1), complainantRelation: 'other' });
    const override = await post(`/v1/complaints/${declined}/acceptance-override`, {
      reason: 'The customer sent the power of attorney',
      supervisor: 'Chen Jie',
    });
    expect(override.statusCode, override.body).toBe(200);

    // The migration's statement, its INSERT line left off, read for this tenant only.
    const migration = await readFile(
      new URL('../migrations/0028_report_rollups.sql', import.meta.url),
      'utf8',
    );
    const insert =
      /INSERT INTO complaint_open_spans \([^)]*\)\n(WITH entries AS[\s\S]*?);--> statement-breakpoint/.exec(
        migration,
      );
    expect(insert).not.toBeNull();
    const stretches = 'tenant_id, complaint_id, open_during::text';
    // It read the timeline as it was then: a temporary table of that shape, first on the search
    // path, stands in for it in this session.
    const client = await one.database.pool.connect();
    let built: { rows: unknown[] };
    try {
      await client.query(`create temporary table complaint_timeline as ${TIMELINE_BEFORE_COMPACTING}`);
      built = await client.query(
        `select ${stretches} from (${insert![1]!}) as built(tenant_id, complaint_id, open_during, assignee, severity)
           where tenant_id = $1::uuid order by complaint_id, open_during`,
        [tenant.tenantId],
      );
    } finally {
      await client.query('drop table if exists pg_temp.complaint_timeline');
      client.release();
    }
    const kept = await one.database.db.execute(sql`select ${sql.raw(stretches)} from complaint_open_spans
        where tenant_id = ${tenant.tenantId}::uuid order by complaint_id, open_during`);
    // Three complaints were open at some time: one still, one until withdrawn, one since its override.
    expect(kept.rows).toHaveLength(3);
    expect(built.rows).toEqual(kept.rows);
  });
});
