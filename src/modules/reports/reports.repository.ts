import { sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import {
  complaintOpenSpans,
  complaints,
  deadlines,
  overdueDuring,
  recordedOverdue,
  reportDeadlineChanges,
  reportDeadlineDays,
  reportFollowUpChanges,
  reportFollowUpDays,
} from '../../db/schema/index.js';
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
     * The daily inventory in one statement: the complaints received in [start, end), open at
     * `asOf`, with a deadline falling due in the day, and open at `asOf` with a deadline overdue
     * then (not paused then); counted by handler, by severity and in total with GROUPING SETS.
     * Each set comes from an index for the day or the instant, so a day costs what was received,
     * open and due then, not the history: what was open, with its handler and severity, from
     * complaint_open_spans' index alone; what was overdue from deadlines_overdue_during_idx alone,
     * with the live backlog past due.
     * Only complaints received or due that day and not open are looked up.
     */
    async dailyInventory(
      tenantId: string,
      window: { start: Date; end: Date; asOf: Date },
      tx: Queryable = db,
    ): Promise<InventoryRow[]> {
      const { start, end, asOf } = window;
      const result = await tx.execute<Record<string, unknown>>(sql`
        with received as (
          select c.id from ${complaints} c
          where c.tenant_id = ${tenantId}::uuid and c.received_at >= ${start}::timestamptz
            and c.received_at < ${end}::timestamptz
        ), due as (
          select distinct d.complaint_id as id from ${deadlines} d
          where d.tenant_id = ${tenantId}::uuid and d.due_at >= ${start}::timestamptz
            and d.due_at < ${end}::timestamptz and d.status <> 'cancelled'
        ), open as (
          select s.complaint_id as id, s.assignee, s.severity from ${complaintOpenSpans} s
          where s.tenant_id = ${tenantId}::uuid and s.open_during @> ${asOf}::timestamptz
        ), overdue as (
          select ${deadlines.complaintId} as id from ${deadlines}
          where ${deadlines.tenantId} = ${tenantId}::uuid and ${recordedOverdue(deadlines)}
            and ${overdueDuring(deadlines)} @> ${asOf}::timestamptz
            and not (${deadlines.status} = 'paused' and ${deadlines.pausedAt} <= ${asOf}::timestamptz)
          union
          -- Past due and not yet breached: the live backlog, which records nothing until it is.
          select d.complaint_id from ${deadlines} d
          where d.tenant_id = ${tenantId}::uuid and d.status in ('pending', 'paused')
            and d.due_at < ${asOf}::timestamptz
            and not (d.status = 'paused' and d.paused_at <= ${asOf}::timestamptz)
        ), not_open as (
          select id from received union select id from due except select id from open
        ), counted as (
          select o.id, o.assignee, o.severity, true as open, o.id in (select id from overdue) as overdue
          from open o
          union all
          select c.id, c.assignee, c.severity, false, false
          from not_open x join ${complaints} c on c.tenant_id = ${tenantId}::uuid and c.id = x.id
          where c.received_at < ${end}::timestamptz
        )
        select grouping(k.assignee) = 0 as by_assignee, grouping(k.severity) = 0 as by_severity,
          k.assignee, k.severity::text as severity,
          count(*) filter (where k.id in (select id from received))::int as received,
          count(*) filter (where k.open)::int as open,
          count(*) filter (where k.id in (select id from due))::int as due_today,
          count(*) filter (where k.overdue)::int as overdue
        from counted k
        group by grouping sets ((k.assignee), (k.severity), ())
        order by by_assignee desc, by_severity desc, k.assignee nulls last, k.severity`);
      return result.rows.map((row) => ({
        dimension: row.by_assignee ? 'assignee' : row.by_severity ? 'severity' : 'total',
        value: (row.by_assignee ? row.assignee : row.by_severity ? row.severity : null) as string | null,
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
