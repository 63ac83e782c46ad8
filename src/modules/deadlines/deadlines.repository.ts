import { and, asc, eq, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { preparedStatement } from '../../db/prepared.js';
import {
  type ActorRecord,
  complaints,
  deadlineBreachChanges,
  deadlineBreachCounts,
  deadlines,
  nextWakeAt,
} from '../../db/schema/index.js';
import { withTraceContext } from '../../db/trace-context.js';
import { FINISHED_STATUSES } from '../complaints/complaint-status.js';
import type { NeedType } from '../complaints/immediate-first.js';
import { TOP_LEVEL } from '../escalations/escalation-levels.js';
import type { DeadlineKind } from '../sla-policies/sla-targets.js';

export type DeadlineRow = typeof deadlines.$inferSelect;
export type NewDeadlineRow = typeof deadlines.$inferInsert;
export type DeadlineStatus = DeadlineRow['status'];

/** What the worker needs back from recording a wake-up (metrics, logs). */
export interface RecordedWakeUp {
  id: string;
  kind: DeadlineRow['kind'];
  status: DeadlineRow['status'];
  tenantId: string;
  complaintId: string;
  dueAt: Date;
  warnAts: Date[];
  warningsFired: number;
  breachedAt: Date | null;
  /** Whether the breach raised the complaint's escalation level. */
  escalated: boolean;
}

type RecordedWakeUpRow = {
  id: string;
  kind: DeadlineRow['kind'];
  status: DeadlineRow['status'];
  tenant_id: string;
  complaint_id: string;
  due_at: string | Date;
  warn_ats: Array<string | Date> | string;
  warnings_fired: number;
  breached_at: string | Date | null;
  escalated: boolean | null;
} & Record<string, unknown>;

/**
 * The most wake-ups one transaction records. A batch holds its complaints' row locks until it
 * commits, so it is kept to what takes a few milliseconds (about 20 ms for 50 breaches that all
 * escalate); throughput comes from running batches side by side.
 */
export const MAX_WAKE_UPS_PER_TRANSACTION = 50;

/** A wake-up to record, with the ids of what it writes chosen up front (so a retry is recognisable). */
export type WakeUpToRecord = { deadlineId: string; armedFor: Date; eventId: string } & (
  | { type: 'breach'; escalationId: string; escalationEventId: string }
  | { type: 'warning'; index: number }
);

export interface DeadlineFilters {
  statuses?: DeadlineStatus[];
  kinds?: DeadlineKind[];
  dueBefore?: Date;
  dueAfter?: Date;
  assignee?: string;
  /** Deadlines of complaints with one of these need types. */
  needTypes?: NeedType[];
  /** Deadlines of complaints whose need type is not this one (unclassified ones included). */
  needTypeOtherThan?: NeedType;
  complaintId?: string;
  /** Keyset position in (dueAt, id) order. */
  after?: { dueAt: Date; id: string };
}

/**
 * Deadlines by status across all tenants, for the redress_deadlines gauge: one of the few
 * statements that spans tenants. Pending and paused are counted from deadlines_open_id_idx,
 * which holds the live backlog only; breached from the maintained counts (deadline_breach_counts
 * and the changes not yet folded into them). Neither reads the history, so a scrape costs the same
 * however many deadlines were met or breached before (255 ms, and rising, at 1M complaints).
 * Three sums side by side rather than sums within a sum: Citus runs a subquery in FROM across
 * its nodes, but refuses one in the select list.
 */
export const deadlineCountsByStatus = preparedStatement<
  Record<string, never>,
  { pending: number; paused: number; breached: number }
>(
  'deadline_counts_by_status',
  sql`select open.pending, open.paused, (kept.breached + unfolded.breached)::int as breached
    from (select count(*) filter (where ${deadlines.status} = 'pending')::int as pending,
            count(*) filter (where ${deadlines.status} = 'paused')::int as paused
          from ${deadlines} where ${deadlines.status} in ('pending', 'paused')) as open,
      (select coalesce(sum(${deadlineBreachCounts.breached}), 0) as breached from ${deadlineBreachCounts}) as kept,
      (select coalesce(sum(${deadlineBreachChanges.change}), 0) as breached from ${deadlineBreachChanges}) as unfolded`,
);

export function createDeadlinesRepository(db: Queryable) {
  return {
    async insertMany(rows: NewDeadlineRow[], tx: Queryable = db): Promise<DeadlineRow[]> {
      if (rows.length === 0) return [];
      return tx.insert(deadlines).values(rows).returning();
    },

    async find(tenantId: string, id: string, tx: Queryable = db): Promise<DeadlineRow | undefined> {
      const [row] = await tx
        .select()
        .from(deadlines)
        .where(and(eq(deadlines.tenantId, tenantId), eq(deadlines.id, id)));
      return row;
    },

    /**
     * The worker's read: jobs carry the deadline id only, so it is looked up without a tenant,
     * and only while pending, which deadlines_open_id_idx holds by id alone.
     */
    async findPendingById(id: string, tx: Queryable = db): Promise<DeadlineRow | undefined> {
      const [row] = await tx
        .select()
        .from(deadlines)
        .where(and(eq(deadlines.id, id), eq(deadlines.status, 'pending')));
      return row;
    },

    async listForComplaint(
      tenantId: string,
      complaintId: string,
      tx: Queryable = db,
    ): Promise<DeadlineRow[]> {
      return tx
        .select()
        .from(deadlines)
        .where(and(eq(deadlines.tenantId, tenantId), eq(deadlines.complaintId, complaintId)))
        .orderBy(asc(deadlines.createdAt), asc(deadlines.dueAt), asc(deadlines.id));
    },

    /** The deadlines of several complaints in one query, each complaint's in the order of {@link listForComplaint}. */
    async listForComplaints(
      tenantId: string,
      complaintIds: string[],
      tx: Queryable = db,
    ): Promise<DeadlineRow[]> {
      if (complaintIds.length === 0) return [];
      return tx
        .select()
        .from(deadlines)
        .where(and(eq(deadlines.tenantId, tenantId), inArray(deadlines.complaintId, complaintIds)))
        .orderBy(asc(deadlines.createdAt), asc(deadlines.dueAt), asc(deadlines.id));
    },

    /** Unmet deadlines (pending, paused, or breached and still to be met late) of a complaint, locked for the caller's transaction. */
    async lockUnmetForComplaint(
      tenantId: string,
      complaintId: string,
      tx: Queryable = db,
    ): Promise<DeadlineRow[]> {
      return tx
        .select()
        .from(deadlines)
        .where(
          and(
            eq(deadlines.tenantId, tenantId),
            eq(deadlines.complaintId, complaintId),
            inArray(deadlines.status, ['pending', 'paused', 'breached']),
          ),
        )
        .orderBy(asc(deadlines.dueAt))
        .for('update');
    },

    /** The earliest pending deadline of each complaint, for the `nextDeadline` of complaint answers. */
    async nextPendingFor(
      tenantId: string,
      complaintIds: string[],
      tx: Queryable = db,
    ): Promise<Map<string, DeadlineRow>> {
      if (complaintIds.length === 0) return new Map();
      const rows = await tx
        .selectDistinctOn([deadlines.complaintId])
        .from(deadlines)
        .where(
          and(
            eq(deadlines.tenantId, tenantId),
            inArray(deadlines.complaintId, complaintIds),
            eq(deadlines.status, 'pending'),
          ),
        )
        .orderBy(deadlines.complaintId, asc(deadlines.dueAt));
      return new Map(rows.map((row) => [row.complaintId, row]));
    },

    list(tenantId: string, filters: DeadlineFilters, limit: number, tx: Queryable = db) {
      const conditions: (SQL | undefined)[] = [eq(deadlines.tenantId, tenantId)];
      if (filters.statuses?.length) conditions.push(inArray(deadlines.status, filters.statuses));
      if (filters.kinds?.length) conditions.push(inArray(deadlines.kind, filters.kinds));
      if (filters.dueBefore) conditions.push(lt(deadlines.dueAt, filters.dueBefore));
      if (filters.dueAfter) conditions.push(gte(deadlines.dueAt, filters.dueAfter));
      if (filters.complaintId) conditions.push(eq(deadlines.complaintId, filters.complaintId));
      if (filters.assignee) {
        conditions.push(
          sql`exists (select 1 from ${complaints} where ${complaints.tenantId} = ${deadlines.tenantId} and ${complaints.id} = ${deadlines.complaintId} and ${complaints.assignee} = ${filters.assignee})`,
        );
      }
      if (filters.needTypes?.length) {
        conditions.push(
          sql`exists (select 1 from ${complaints} where ${complaints.tenantId} = ${deadlines.tenantId} and ${complaints.id} = ${deadlines.complaintId} and ${inArray(complaints.needType, filters.needTypes)})`,
        );
      }
      if (filters.needTypeOtherThan) {
        conditions.push(
          sql`exists (select 1 from ${complaints} where ${complaints.tenantId} = ${deadlines.tenantId} and ${complaints.id} = ${deadlines.complaintId} and ${complaints.needType} is distinct from ${filters.needTypeOtherThan})`,
        );
      }
      if (filters.after) {
        conditions.push(
          sql`(${deadlines.dueAt}, ${deadlines.id}) > (${filters.after.dueAt}, ${filters.after.id})`,
        );
      }
      return tx
        .select()
        .from(deadlines)
        .where(and(...conditions))
        .orderBy(asc(deadlines.dueAt), asc(deadlines.id))
        .limit(limit + 1);
    },

    async update(
      key: { tenantId: string; id: string },
      changes: Partial<NewDeadlineRow>,
      at: Date,
      tx: Queryable = db,
    ): Promise<DeadlineRow> {
      const [row] = await tx
        .update(deadlines)
        .set({ ...changes, updatedAt: at })
        .where(and(eq(deadlines.tenantId, key.tenantId), eq(deadlines.id, key.id)))
        .returning();
      return row!;
    },

    /**
     * The worker's write: records each wake-up (record_deadline_wake_ups in ./sql/) that is still
     * due as armed, with its event; a breach also gets its timeline entry and raises the complaint
     * one escalation level, unless it is at TOP_LEVEL or finished. A wake-up that finds nothing due
     * (the job ran before, or the deadline was met, paused or moved) writes nothing and comes back
     * undefined. The whole batch is one round trip and one transaction; the answer is in the order
     * of `wakeUps`.
     */
    async recordWakeUps(
      wakeUps: readonly WakeUpToRecord[],
      at: Date,
      actor: ActorRecord,
      tx: Queryable = db,
    ): Promise<Array<RecordedWakeUp | undefined>> {
      if (wakeUps.length === 0) return [];
      const items = wakeUps.map((wakeUp, i) => ({
        i,
        deadlineId: wakeUp.deadlineId,
        armedFor: wakeUp.armedFor.toISOString(),
        warningIndex: wakeUp.type === 'warning' ? wakeUp.index : -1,
        eventId: wakeUp.eventId,
        escalationId: wakeUp.type === 'breach' ? wakeUp.escalationId : null,
        escalationEventId: wakeUp.type === 'breach' ? wakeUp.escalationEventId : null,
      }));
      // The batch's events carry the trace context of the job that started the batch.
      const result = await withTraceContext(tx, (q) =>
        q.execute<RecordedWakeUpRow & { i: number }>(sql`
        select * from record_deadline_wake_ups(${JSON.stringify(items)}::jsonb, ${at}::timestamptz,
          ${JSON.stringify(actor)}::jsonb, ${TOP_LEVEL}::smallint,
          ${sql.param(FINISHED_STATUSES)}::complaint_status[])`),
      );
      const recorded: Array<RecordedWakeUp | undefined> = wakeUps.map(() => undefined);
      for (const row of result.rows) {
        recorded[row.i] = {
          id: row.id,
          kind: row.kind,
          status: row.status,
          tenantId: row.tenant_id,
          complaintId: row.complaint_id,
          dueAt: new Date(row.due_at),
          warnAts: deadlines.warnAts.mapFromDriverValue(row.warn_ats as never) as Date[],
          warningsFired: Number(row.warnings_fired),
          breachedAt: row.breached_at === null ? null : new Date(row.breached_at),
          escalated: row.escalated === true,
        };
      }
      return recorded;
    },

    /** The query of pendingWakingBy(), unrun: tests EXPLAIN it (toSQL). */
    pendingWakingQuery(
      until: Date,
      after: { wakeAt: Date; id: string } | null,
      limit: number,
      tx: Queryable = db,
    ) {
      const wakeAt = nextWakeAt(deadlines);
      return (
        tx
          // Read with due_at's own mapping: the same type, so the same Date.
          .select({ deadline: deadlines, wakeAt: sql`${wakeAt}`.mapWith(deadlines.dueAt) })
          .from(deadlines)
          .where(
            and(
              eq(deadlines.status, 'pending'),
              sql`${wakeAt} <= ${until}`,
              after ? sql`(${wakeAt}, ${deadlines.id}) > (${after.wakeAt}, ${after.id})` : undefined,
            ),
          )
          .orderBy(wakeAt, asc(deadlines.id))
          .limit(limit)
      );
    },

    /**
     * The pending deadlines that next need waking at or before `until`, in that order, with the
     * time (`wakeAt`) to page on: the reconciler's sweep, through deadlines_pending_wake_idx.
     */
    async pendingWakingBy(
      until: Date,
      after: { wakeAt: Date; id: string } | null,
      limit: number,
      tx: Queryable = db,
    ) {
      const rows = await this.pendingWakingQuery(until, after, limit, tx);
      return rows.map((row) => ({ ...row.deadline, wakeAt: row.wakeAt }));
    },

    /** Deadlines by status (pending, paused, breached) across all tenants, for the metrics gauge. */
    async countByStatus(tx: Queryable = db): Promise<Record<string, number>> {
      const [counts] = (await deadlineCountsByStatus.execute(tx, {})).rows;
      return { ...counts! };
    },

    /**
     * Moves the breach count changes written since the last fold into deadline_breach_counts, so
     * counting never reads more than a few minutes of them. Safe to run at any time and from
     * several workers: a change is deleted by the fold that counts it, in the same statement, and
     * the counts are locked in tenant order. Returns how many changes it folded.
     */
    async foldBreachCounts(tx: Queryable = db): Promise<number> {
      const result = await tx.execute<{ folded: number }>(sql`
        with moved as (
          delete from ${deadlineBreachChanges}
          returning ${deadlineBreachChanges.tenantId} as tenant_id, ${deadlineBreachChanges.change} as change
        ), folded as (
          insert into ${deadlineBreachCounts} as counts (tenant_id, breached)
          select tenant_id, sum(change) from moved group by tenant_id order by tenant_id
          on conflict (tenant_id) do update set breached = counts.breached + excluded.breached
        )
        select count(*)::int as folded from moved`);
      return result.rows[0]?.folded ?? 0;
    },
  };
}

export type DeadlinesRepository = ReturnType<typeof createDeadlinesRepository>;
