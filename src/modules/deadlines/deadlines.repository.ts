import { and, asc, eq, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { type ActorRecord, complaints, complaintTimeline, deadlines, events } from '../../db/schema/index.js';
import type { DeadlineKind } from '../sla-policies/sla-targets.js';

export type DeadlineRow = typeof deadlines.$inferSelect;
export type NewDeadlineRow = typeof deadlines.$inferInsert;
export type DeadlineStatus = DeadlineRow['status'];

/** What the worker needs back from recording a wake-up (metrics, logs). */
export interface RecordedWakeUp {
  id: string;
  kind: DeadlineRow['kind'];
  tenantId: string;
  complaintId: string;
  dueAt: Date;
  breachedAt: Date | null;
}

type RecordedWakeUpRow = {
  id: string;
  kind: DeadlineRow['kind'];
  tenant_id: string;
  complaint_id: string;
  due_at: string | Date;
  breached_at: string | Date | null;
} & Record<string, unknown>;

export interface DeadlineFilters {
  statuses?: DeadlineStatus[];
  kinds?: DeadlineKind[];
  dueBefore?: Date;
  dueAfter?: Date;
  assignee?: string;
  complaintId?: string;
  /** Keyset position in (dueAt, id) order. */
  after?: { dueAt: Date; id: string };
}

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

    /** The worker's read: jobs carry the deadline id only, so it is looked up without a tenant. */
    async findById(id: string, tx: Queryable = db): Promise<DeadlineRow | undefined> {
      const [row] = await tx.select().from(deadlines).where(eq(deadlines.id, id));
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

    async list(
      tenantId: string,
      filters: DeadlineFilters,
      limit: number,
      tx: Queryable = db,
    ): Promise<DeadlineRow[]> {
      const conditions: (SQL | undefined)[] = [eq(deadlines.tenantId, tenantId)];
      if (filters.statuses?.length) conditions.push(inArray(deadlines.status, filters.statuses));
      if (filters.kinds?.length) conditions.push(inArray(deadlines.kind, filters.kinds));
      if (filters.dueBefore) conditions.push(lt(deadlines.dueAt, filters.dueBefore));
      if (filters.dueAfter) conditions.push(gte(deadlines.dueAt, filters.dueAfter));
      if (filters.complaintId) conditions.push(eq(deadlines.complaintId, filters.complaintId));
      if (filters.assignee) {
        conditions.push(
          sql`exists (select 1 from ${complaints} where ${complaints.id} = ${deadlines.complaintId} and ${complaints.assignee} = ${filters.assignee})`,
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
      id: string,
      changes: Partial<NewDeadlineRow>,
      at: Date,
      tx: Queryable = db,
    ): Promise<DeadlineRow> {
      const [row] = await tx
        .update(deadlines)
        .set({ ...changes, updatedAt: at })
        .where(eq(deadlines.id, id))
        .returning();
      return row!;
    },

    /**
     * The worker's write, in one statement (one round trip, atomic without BEGIN/COMMIT): records a
     * breach or warning with a conditional update, numbers the complaint's next event, and writes
     * the event (and, for a breach, the timeline entry). When the condition fails — the job ran
     * before, or the deadline was met, paused or moved — nothing at all is written.
     */
    async recordWakeUp(
      input: {
        deadlineId: string;
        armedFor: Date;
        at: Date;
        eventId: string;
        actor: ActorRecord;
        wakeUp: { type: 'breach' } | { type: 'warning'; index: number };
      },
      tx: Queryable = db,
    ): Promise<RecordedWakeUp | undefined> {
      const { deadlineId, armedFor, at, eventId, actor, wakeUp } = input;
      const isBreach = wakeUp.type === 'breach';
      const index = wakeUp.type === 'warning' ? wakeUp.index : -1;
      const result = await tx.execute<RecordedWakeUpRow>(sql`
        with d as (
          update ${deadlines}
          set status = case when ${isBreach}::boolean then 'breached'::deadline_status else status end,
              breached_at = case when ${isBreach}::boolean then greatest(${at}::timestamptz, due_at) else breached_at end,
              warnings_fired = case when ${isBreach}::boolean then warnings_fired else ${index + 1}::int end,
              updated_at = ${at}::timestamptz
          where id = ${deadlineId}::uuid and status = 'pending' and due_at = ${armedFor}::timestamptz
            and (${isBreach}::boolean or warnings_fired <= ${index}::int)
          returning deadlines.*, deadline_view(deadlines) as view
        ), c as (
          update ${complaints} set event_sequence = complaints.event_sequence + 1
          from d where complaints.id = d.complaint_id and complaints.tenant_id = d.tenant_id
          returning complaints.id, complaints.tenant_id, complaints.reference, complaints.event_sequence
        ), e as (
          insert into ${events} (id, tenant_id, type, complaint_id, sequence, occurred_at, data)
          select ${eventId}::text, c.tenant_id, ${isBreach ? 'deadline.breached' : 'deadline.warning'}::text, c.id, c.event_sequence, ${at}::timestamptz,
            jsonb_build_object('tenantId', c.tenant_id, 'complaintId', c.id, 'reference', c.reference,
              'sequence', c.event_sequence, 'deadline', d.view)
            || case when ${isBreach}::boolean then '{}'::jsonb
               else jsonb_build_object('warning', jsonb_build_object('index', ${index}::int, 'fraction', d.warn_fractions[${index + 1}::int]::numeric))
               end
          from c cross join d
        ), t as (
          insert into ${complaintTimeline} (tenant_id, complaint_id, type, actor, occurred_at, data)
          select d.tenant_id, d.complaint_id, 'deadline.breached', ${JSON.stringify(actor)}::jsonb, ${at}::timestamptz,
            jsonb_build_object('deadlineId', d.id, 'kind', d.kind, 'dueAt', iso_utc(d.due_at))
          from d where ${isBreach}::boolean
        )
        select d.id, d.kind, d.tenant_id, d.complaint_id, d.due_at, d.breached_at from d`);
      const row = result.rows[0];
      if (!row) return undefined;
      return {
        id: row.id,
        kind: row.kind,
        tenantId: row.tenant_id,
        complaintId: row.complaint_id,
        dueAt: new Date(row.due_at),
        breachedAt: row.breached_at === null ? null : new Date(row.breached_at),
      };
    },

    /** Pending deadlines in due order after a position, for the reconciler's sweep. */
    async pendingPage(after: { dueAt: Date; id: string } | null, limit: number, tx: Queryable = db) {
      return tx
        .select()
        .from(deadlines)
        .where(
          and(
            eq(deadlines.status, 'pending'),
            after ? sql`(${deadlines.dueAt}, ${deadlines.id}) > (${after.dueAt}, ${after.id})` : undefined,
          ),
        )
        .orderBy(asc(deadlines.dueAt), asc(deadlines.id))
        .limit(limit);
    },

    async countByStatus(tx: Queryable = db): Promise<Record<string, number>> {
      const rows = await tx
        .select({ status: deadlines.status, count: sql<number>`count(*)::int` })
        .from(deadlines)
        .where(inArray(deadlines.status, ['pending', 'breached', 'paused']))
        .groupBy(deadlines.status);
      return Object.fromEntries(rows.map((row) => [row.status, row.count]));
    },
  };
}

export type DeadlinesRepository = ReturnType<typeof createDeadlinesRepository>;
