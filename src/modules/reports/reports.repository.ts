import { type SQL, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';

export const GROUP_BY = ['channel', 'category', 'severity', 'assignee'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

/** The column each grouping reads; a fixed map, so nothing the caller sends reaches the SQL text. */
const GROUP_COLUMN: Record<GroupBy | 'none', SQL> = {
  channel: sql`c.channel::text`,
  category: sql`c.category`,
  severity: sql`c.severity::text`,
  assignee: sql`c.assignee`,
  none: sql`null::text`,
};

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

const OPEN_STATUSES = sql`('received', 'acknowledged', 'investigating', 'awaiting_customer')`;

export function createReportsRepository(db: Queryable) {
  return {
    /**
     * The daily inventory in one statement: per complaint, whether it was received in [start, end),
     * was open at `asOf` (its status then: the current one unless it changed after, else the last
     * status the timeline gave it before: at intake, which may have declined it, by a status change
     * or by an acceptance override), had a deadline falling due in the day, and had one overdue
     * at `asOf`; counted by handler, by severity and in total with GROUPING SETS.
     *
     * Only complaints that can count are looked at, each found through an index: received that
     * day, open now, or with a deadline due that day or unmet and overdue. A complaint open at
     * `asOf` but not now changed after `asOf`, and a deadline overdue then but settled now was
     * settled after it; neither can happen when `asOf` is now, so only a past day's inventory
     * reads those, by scanning the tenant's rows. Today's costs what is open, not the history.
     */
    async dailyInventory(
      tenantId: string,
      window: { start: Date; end: Date; asOf: Date },
      tx: Queryable = db,
    ): Promise<InventoryRow[]> {
      const { start, end, asOf } = window;
      // A day still running is taken as of now; only a past day is taken as of its end.
      const past = asOf.getTime() >= end.getTime();
      const changedSince = past
        ? sql`union
          select c.id from complaints c
          where c.tenant_id = ${tenantId}::uuid and c.updated_at > ${asOf}::timestamptz and c.received_at < ${end}::timestamptz
          union
          select d.complaint_id from deadlines d
          where d.tenant_id = ${tenantId}::uuid and d.due_at < ${asOf}::timestamptz
            and (d.met_at > ${asOf}::timestamptz or d.cancelled_at > ${asOf}::timestamptz)`
        : sql``;
      const result = await tx.execute<Record<string, unknown>>(sql`
        with candidates as (
          select c.id from complaints c
          where c.tenant_id = ${tenantId}::uuid and c.received_at >= ${start}::timestamptz and c.received_at < ${end}::timestamptz
          union
          select c.id from complaints c
          where c.tenant_id = ${tenantId}::uuid and c.status in ${OPEN_STATUSES} and c.received_at < ${end}::timestamptz
          union
          select d.complaint_id from deadlines d
          where d.tenant_id = ${tenantId}::uuid and d.due_at >= ${start}::timestamptz and d.due_at < ${end}::timestamptz
            and d.status <> 'cancelled'
          union
          select d.complaint_id from deadlines d
          where d.tenant_id = ${tenantId}::uuid and d.status in ('pending', 'paused', 'breached')
            and d.due_at < ${asOf}::timestamptz
          ${changedSince}
        ), flags as (
          select c.assignee, c.severity::text as severity,
            c.received_at >= ${start}::timestamptz and c.received_at < ${end}::timestamptz as received,
            (case when c.updated_at <= ${asOf}::timestamptz then c.status::text
              else coalesce((select case t.type
                    when 'complaint.status_changed' then t.data ->> 'to'
                    when 'complaint.acceptance_overridden' then 'received'
                    else t.data -> 'complaint' ->> 'status' end
                from complaint_timeline t
                where t.tenant_id = c.tenant_id and t.complaint_id = c.id
                  and t.type in ('complaint.status_changed', 'complaint.acceptance_overridden', 'complaint.created')
                  and t.occurred_at <= ${asOf}::timestamptz
                order by t.id desc limit 1),
                -- Recorded after asOf with an earlier receivedAt: as intake left it, declined (it
                -- still is, or an override took it in since) or received.
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
          from candidates k join complaints c on c.id = k.id
          where c.tenant_id = ${tenantId}::uuid and c.received_at < ${end}::timestamptz
        )
        select grouping(assignee) = 0 as by_assignee, grouping(severity) = 0 as by_severity, assignee, severity,
          count(*) filter (where received)::int as received,
          count(*) filter (where open)::int as open,
          count(*) filter (where due_today)::int as due_today,
          count(*) filter (where overdue)::int as overdue
        from flags
        where received or open or due_today or overdue
        group by grouping sets ((assignee), (severity), ())
        order by by_assignee desc, by_severity desc, assignee nulls last, severity`);
      return result.rows.map((row) => ({
        dimension: row.by_assignee ? 'assignee' : row.by_severity ? 'severity' : 'total',
        value: (row.by_assignee ? row.assignee : row.by_severity ? row.severity : null) as string | null,
        received: Number(row.received),
        open: Number(row.open),
        dueToday: Number(row.due_today),
        overdue: Number(row.overdue),
      }));
    },

    /** Deadlines falling due in [start, end), by kind and group: met on time, met late, breached, pending. */
    async slaCompliance(
      tenantId: string,
      window: { start: Date; end: Date },
      groupBy: GroupBy | 'none',
      tx: Queryable = db,
    ): Promise<ComplianceRow[]> {
      const group = GROUP_COLUMN[groupBy];
      const result = await tx.execute<Record<string, unknown>>(sql`
        select ${group} as grp, d.kind::text as kind,
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
        group: row.grp as string | null,
        kind: row.kind as string,
        metOnTime: Number(row.met_on_time),
        metLate: Number(row.met_late),
        breached: Number(row.breached),
        pending: Number(row.pending),
      }));
    },

    /** Follow-up outcomes recorded in [start, end), by group, with the average score given. */
    async satisfaction(
      tenantId: string,
      window: { start: Date; end: Date },
      groupBy: GroupBy | 'none',
      tx: Queryable = db,
    ): Promise<SatisfactionRow[]> {
      const group = GROUP_COLUMN[groupBy];
      const result = await tx.execute<Record<string, unknown>>(sql`
        select ${group} as grp,
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
