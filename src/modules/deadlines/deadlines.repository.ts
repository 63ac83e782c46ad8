import { and, asc, eq, gte, inArray, lt, lte, type SQL, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { complaints, deadlines } from '../../db/schema/index.js';
import type { DeadlineKind } from '../sla-policies/sla-targets.js';

export type DeadlineRow = typeof deadlines.$inferSelect;
export type NewDeadlineRow = typeof deadlines.$inferInsert;
export type DeadlineStatus = DeadlineRow['status'];

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
     * Records a breach if, and only if, the deadline is still pending and still due at the time
     * the job was armed for. A job that runs twice, or one armed before a pause, changes nothing.
     */
    async markBreached(
      id: string,
      armedDueAt: Date,
      at: Date,
      tx: Queryable = db,
    ): Promise<DeadlineRow | undefined> {
      const [row] = await tx
        .update(deadlines)
        .set({
          status: 'breached',
          breachedAt: sql`greatest(${at}::timestamptz, ${deadlines.dueAt})`,
          updatedAt: at,
        })
        .where(and(eq(deadlines.id, id), eq(deadlines.status, 'pending'), eq(deadlines.dueAt, armedDueAt)))
        .returning();
      return row;
    },

    /** Records warning `index` unless it (or a later one) already was, or the deadline moved on. */
    async markWarned(id: string, index: number, armedDueAt: Date, at: Date, tx: Queryable = db) {
      const [row] = await tx
        .update(deadlines)
        .set({ warningsFired: index + 1, updatedAt: at })
        .where(
          and(
            eq(deadlines.id, id),
            eq(deadlines.status, 'pending'),
            eq(deadlines.dueAt, armedDueAt),
            lte(deadlines.warningsFired, index),
          ),
        )
        .returning();
      return row;
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
