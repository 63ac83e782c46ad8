import { sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import {
  deadlines,
  reportDeadlineChanges,
  reportDeadlineDays,
  reportFollowUpChanges,
  reportFollowUpDays,
  reportInventoryCounts,
  reportInventoryMarks,
  reportInventoryTouches,
} from '../../db/schema/index.js';
import { inventoryMarksOf } from './report-inventory.js';
import type { ReportPeriod } from './report-periods.js';

export const GROUP_BY = ['channel', 'category', 'severity', 'assignee'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export interface InventoryCounts {
  received: number;
  open: number;
  dueToday: number;
  overdue: number;
}

export interface InventoryRow extends InventoryCounts {
  dimension: 'total' | 'assignee' | 'severity';
  value: string | null;
}

export interface ComplianceRow {
  group: string | null;
  kind: string;
  metOnTime: number;
  metLate: number;
  breached: number;
  pending: number;
}

export interface SatisfactionRow {
  group: string | null;
  satisfied: number;
  unsatisfied: number;
  unreachable: number;
  declined: number;
  scored: number;
  averageScore: number | null;
}

export function createReportsRepository(db: Queryable) {
  return {
    /**
     * The daily inventory in one statement, from the counts kept per local day and month
     * (report_inventory_counts): received and due on the day, and the open and overdue counts'
     * changes summed over the months before and the days of the month up to it, a few rows per
     * group however long the history. The complaints the counts may not answer for at `asOf` are
     * read themselves, each now (inventoryMarksOf) in place of what its kept marks add: those
     * noted for the fold, those with a deadline pending past its due time before `asOf` (the
     * live backlog, which no row records as overdue yet), and, when `asOf` falls
     * before the day's end, those whose stretches turn after it. The tenant's zone comes in as a
     * value (the one its settings name, which the caller bounded the day in), and every table is
     * read naming the tenant: on Citus the statement then runs whole on the node that holds it.
     */
    async dailyInventory(
      tenantId: string,
      window: { start: Date; end: Date; asOf: Date; timeZone: string },
      tx: Queryable = db,
    ): Promise<InventoryRow[]> {
      const { start, end, asOf, timeZone } = window;
      const result = await tx.execute<Record<string, unknown>>(sql`
        with period as (
          select ${timeZone}::text as time_zone, p.day, date_trunc('month', p.day)::date as month
          from (select (${start}::timestamptz at time zone ${timeZone}::text)::date as day) as p
        ), kept as (
          select r.dimension, r.value, 0 as received, 0 as due, r.open_change as open, r.overdue_change as overdue
          from period p
            join ${reportInventoryCounts} r on r.tenant_id = ${tenantId}::uuid and r.period = 'month' and r.day < p.month
          union all
          select r.dimension, r.value, r.received * (r.day = p.day)::int, r.due * (r.day = p.day)::int, r.open_change,
            r.overdue_change
          from period p
            join ${reportInventoryCounts} r on r.tenant_id = ${tenantId}::uuid and r.period = 'day'
              and r.day >= p.month and r.day <= p.day
        ), unanswered as (
          select x.tenant_id, x.complaint_id from ${reportInventoryTouches} x where x.tenant_id = ${tenantId}::uuid
          union
          select d.tenant_id, d.complaint_id from ${deadlines} d
          where d.tenant_id = ${tenantId}::uuid and d.status = 'pending' and d.due_at < ${asOf}::timestamptz
          union
          select m.tenant_id, m.complaint_id from ${reportInventoryMarks} m
          where ${asOf}::timestamptz < ${end}::timestamptz
            and m.tenant_id = ${tenantId}::uuid and m.turns_until >= ${asOf}::timestamptz
        ), live as (${inventoryMarksOf(sql`unanswered`, sql`${tenantId}::uuid`)}
        ), corrections as (
          select g.dimension, g.value, (l.received_at >= ${start}::timestamptz and l.received_at < ${end}::timestamptz)::int,
            (exists (select 1 from unnest(l.due_at) as u (due_at)
              where u.due_at >= ${start}::timestamptz and u.due_at < ${end}::timestamptz))::int,
            (l.open @> ${asOf}::timestamptz)::int, (l.overdue_now @> ${asOf}::timestamptz)::int
          from live l
            cross join lateral report_inventory_groups(l.severity, l.assignee) as g
          union all
          select c.dimension, c.value, -c.received * (c.day = p.day)::int, -c.due * (c.day = p.day)::int,
            -c.open_change * (c.day <= p.day)::int, -c.overdue_change * (c.day <= p.day)::int
          from period p
            join ${reportInventoryMarks} m on m.tenant_id = ${tenantId}::uuid
            join unanswered u on u.complaint_id = m.complaint_id
            cross join lateral report_inventory_contributions(m.assignee, m.severity, m.received_at, m.due_at, m.open,
              m.overdue, p.time_zone) as c
        ), counts as (
          select dimension, value, received, due, open, overdue from kept
          union all
          select * from corrections
          union all
          -- The total shows even when nothing counts.
          select 'none', null, 0, 0, 0, 0
        )
        select dimension, value, sum(received)::int as received, sum(open)::int as open, sum(due)::int as due_today,
          sum(overdue)::int as overdue
        from counts
        group by dimension, value
        having dimension = 'none' or (sum(received), sum(open), sum(due), sum(overdue)) <> (0, 0, 0, 0)
        order by array_position(array['assignee', 'severity', 'none'], dimension),
          case when dimension = 'severity' then value::complaint_severity end, value nulls last`);
      return result.rows.map((row) => ({
        dimension: row.dimension === 'none' ? 'total' : (row.dimension as 'assignee' | 'severity'),
        value: row.value as string | null,
        received: Number(row.received),
        open: Number(row.open),
        dueToday: Number(row.due_today),
        overdue: Number(row.overdue),
      }));
    },

    /**
     * Deadlines falling due in the period, by kind and group: met on time, met late, breached,
     * pending (deadline_report_counts says which). The period's days are kept in the tenant's time
     * zone, so it reads their rows and the changes not yet folded into them, and no deadline.
     */
    async slaCompliance(
      tenantId: string,
      period: ReportPeriod,
      groupBy: GroupBy | 'none',
      tx: Queryable = db,
    ): Promise<ComplianceRow[]> {
      const result = await tx.execute<Record<string, unknown>>(sql`
        select grp, kind, sum(met_on_time)::int as met_on_time, sum(met_late)::int as met_late,
          sum(breached)::int as breached, sum(pending)::int as pending
        from (
          select r.value as grp, r.kind::text as kind, r.counted, r.met_on_time, r.met_late, r.breached, r.pending
          from ${reportDeadlineDays} r
          where r.tenant_id = ${tenantId}::uuid and r.dimension = ${groupBy}
            and r.day >= ${period.from}::date and r.day <= ${period.to}::date
          union all
          select g.value, x.kind::text, x.counted, x.met_on_time, x.met_late, x.breached, x.pending
          from ${reportDeadlineChanges} x
            cross join lateral report_groups(x.channel, x.category, x.severity, x.assignee) g
          where x.tenant_id = ${tenantId}::uuid and g.dimension = ${groupBy}
            and x.due_at >= ${period.start}::timestamptz and x.due_at < ${period.end}::timestamptz
        ) as counts
        group by grp, kind
        having sum(counted) > 0
        order by grp nulls last, kind`);
      return result.rows.map((row) => ({
        group: row.grp as string | null,
        kind: row.kind as string,
        metOnTime: Number(row.met_on_time),
        metLate: Number(row.met_late),
        breached: Number(row.breached),
        pending: Number(row.pending),
      }));
    },

    /**
     * Follow-up outcomes recorded in the period, by group, with the average score given
     * (follow_up_report_counts says what counts); kept days and unfolded changes as slaCompliance.
     */
    async satisfaction(
      tenantId: string,
      period: ReportPeriod,
      groupBy: GroupBy | 'none',
      tx: Queryable = db,
    ): Promise<SatisfactionRow[]> {
      const result = await tx.execute<Record<string, unknown>>(sql`
        select grp, sum(satisfied)::int as satisfied, sum(unsatisfied)::int as unsatisfied,
          sum(unreachable)::int as unreachable, sum(declined)::int as declined, sum(scored)::int as scored,
          round(sum(score_sum)::numeric / nullif(sum(scored), 0)::numeric, 2)::float8 as average_score
        from (
          select r.value as grp, r.counted, r.satisfied, r.unsatisfied, r.unreachable, r.declined, r.scored, r.score_sum
          from ${reportFollowUpDays} r
          where r.tenant_id = ${tenantId}::uuid and r.dimension = ${groupBy}
            and r.day >= ${period.from}::date and r.day <= ${period.to}::date
          union all
          select g.value, x.counted, x.satisfied, x.unsatisfied, x.unreachable, x.declined, x.scored, x.score_sum
          from ${reportFollowUpChanges} x
            cross join lateral report_groups(x.channel, x.category, x.severity, x.assignee) g
          where x.tenant_id = ${tenantId}::uuid and g.dimension = ${groupBy}
            and x.completed_at >= ${period.start}::timestamptz and x.completed_at < ${period.end}::timestamptz
        ) as counts
        group by grp
        having sum(counted) > 0
        order by grp nulls last`);
      return result.rows.map((row) => ({
        group: row.grp as string | null,
        satisfied: Number(row.satisfied),
        unsatisfied: Number(row.unsatisfied),
        unreachable: Number(row.unreachable),
        declined: Number(row.declined),
        scored: Number(row.scored),
        averageScore: row.average_score === null ? null : Number(row.average_score),
      }));
    },
  };
}

export type ReportsRepository = ReturnType<typeof createReportsRepository>;
