import { and, asc, eq, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { type ActorRecord, complaints, customerPreferences, followUps } from '../../db/schema/index.js';

export type FollowUpRow = typeof followUps.$inferSelect;
export type NewFollowUpRow = typeof followUps.$inferInsert;
/** A follow-up with what the work list shows of its complaint. */
export type FollowUpListRow = FollowUpRow & { reference: string; assignee: string | null };

export interface FollowUpFilters {
  statuses?: FollowUpRow['status'][];
  dueBefore?: Date;
  assignee?: string;
  complaintId?: string;
  /** Keyset position in (dueAt, id) order. */
  after?: { dueAt: Date; id: string };
}

const listColumns = { followUp: followUps, reference: complaints.reference, assignee: complaints.assignee };

/** A follow-up's complaint, by the key the two share. */
const complaintOfFollowUp = and(
  eq(complaints.tenantId, followUps.tenantId),
  eq(complaints.id, followUps.complaintId),
);

export function createFollowUpsRepository(db: Queryable) {
  return {
    async insert(row: NewFollowUpRow, tx: Queryable = db): Promise<FollowUpRow> {
      const [inserted] = await tx.insert(followUps).values(row).returning();
      return inserted!;
    },

    async find(tenantId: string, id: string, tx: Queryable = db): Promise<FollowUpListRow | undefined> {
      const [row] = await tx
        .select(listColumns)
        .from(followUps)
        .innerJoin(complaints, complaintOfFollowUp)
        .where(and(eq(followUps.tenantId, tenantId), eq(followUps.id, id)));
      return row ? { ...row.followUp, reference: row.reference, assignee: row.assignee } : undefined;
    },

    /** A follow-up locked for the caller's transaction, which already holds its complaint's lock. */
    async lock(tenantId: string, id: string, tx: Queryable): Promise<FollowUpRow | undefined> {
      const [row] = await tx
        .select()
        .from(followUps)
        .where(and(eq(followUps.tenantId, tenantId), eq(followUps.id, id)))
        .for('update');
      return row;
    },

    /** Which complaint a follow-up belongs to, read without locks so the complaint can be locked first. */
    async complaintIdOf(tenantId: string, id: string, tx: Queryable = db): Promise<string | undefined> {
      const [row] = await tx
        .select({ complaintId: followUps.complaintId })
        .from(followUps)
        .where(and(eq(followUps.tenantId, tenantId), eq(followUps.id, id)));
      return row?.complaintId;
    },

    /**
     * The attempt scheduled when this one was completed unreachable: the complaint's next attempt
     * in the same round of visits, the first made at or after this one's completion.
     */
    async nextAttemptAfter(
      followUp: Pick<FollowUpRow, 'tenantId' | 'complaintId' | 'resolutionId' | 'attempt' | 'completedAt'>,
      tx: Queryable = db,
    ): Promise<FollowUpListRow | undefined> {
      if (!followUp.completedAt) return undefined;
      const [row] = await tx
        .select(listColumns)
        .from(followUps)
        .innerJoin(complaints, complaintOfFollowUp)
        .where(
          and(
            eq(followUps.tenantId, followUp.tenantId),
            eq(followUps.complaintId, followUp.complaintId),
            eq(followUps.attempt, followUp.attempt + 1),
            sql`${followUps.resolutionId} is not distinct from ${followUp.resolutionId}`,
            gte(followUps.createdAt, followUp.completedAt),
          ),
        )
        .orderBy(asc(followUps.createdAt), asc(followUps.id))
        .limit(1);
      return row ? { ...row.followUp, reference: row.reference, assignee: row.assignee } : undefined;
    },

    /** The open attempt of a complaint, if any. */
    async pendingFor(tenantId: string, complaintId: string, tx: Queryable = db) {
      return tx
        .select()
        .from(followUps)
        .where(
          and(
            eq(followUps.tenantId, tenantId),
            eq(followUps.complaintId, complaintId),
            eq(followUps.status, 'pending'),
          ),
        );
    },

    async update(
      tenantId: string,
      id: string,
      changes: Partial<NewFollowUpRow>,
      at: Date,
      tx: Queryable = db,
    ): Promise<FollowUpRow> {
      const [row] = await tx
        .update(followUps)
        .set({ ...changes, updatedAt: at })
        .where(and(eq(followUps.tenantId, tenantId), eq(followUps.id, id)))
        .returning();
      return row!;
    },

    /** The query of list(), unrun: tests EXPLAIN it as the API sends it (toSQL). */
    listQuery(tenantId: string, filters: FollowUpFilters, limit: number, tx: Queryable = db) {
      const conditions: (SQL | undefined)[] = [eq(followUps.tenantId, tenantId)];
      if (filters.statuses?.length) conditions.push(inArray(followUps.status, filters.statuses));
      if (filters.dueBefore) conditions.push(lt(followUps.dueAt, filters.dueBefore));
      if (filters.assignee) conditions.push(eq(complaints.assignee, filters.assignee));
      if (filters.complaintId) conditions.push(eq(followUps.complaintId, filters.complaintId));
      if (filters.after) {
        conditions.push(
          sql`(${followUps.dueAt}, ${followUps.id}) > (${filters.after.dueAt}, ${filters.after.id})`,
        );
      }
      return tx
        .select(listColumns)
        .from(followUps)
        .innerJoin(complaints, complaintOfFollowUp)
        .where(and(...conditions))
        .orderBy(asc(followUps.dueAt), asc(followUps.id))
        .limit(limit + 1);
    },

    /** One page in due order; `limit + 1` rows tell whether another page exists. */
    async list(
      tenantId: string,
      filters: FollowUpFilters,
      limit: number,
      tx: Queryable = db,
    ): Promise<FollowUpListRow[]> {
      const rows = await this.listQuery(tenantId, filters, limit, tx);
      return rows.map((row) => ({ ...row.followUp, reference: row.reference, assignee: row.assignee }));
    },

    /** Every follow-up of several complaints in one query, each complaint's oldest first. */
    async listForComplaints(
      tenantId: string,
      complaintIds: string[],
      tx: Queryable = db,
    ): Promise<FollowUpListRow[]> {
      if (complaintIds.length === 0) return [];
      const rows = await tx
        .select(listColumns)
        .from(followUps)
        .innerJoin(complaints, complaintOfFollowUp)
        .where(and(eq(followUps.tenantId, tenantId), inArray(followUps.complaintId, complaintIds)))
        .orderBy(asc(followUps.createdAt), asc(followUps.id));
      return rows.map((row) => ({ ...row.followUp, reference: row.reference, assignee: row.assignee }));
    },

    /** Whether the customer with this identity asked for no follow-up visits. */
    async hasDeclined(tenantId: string, customerKey: string, tx: Queryable = db): Promise<boolean> {
      const [row] = await tx
        .select({ at: customerPreferences.followUpsDeclinedAt })
        .from(customerPreferences)
        .where(
          and(eq(customerPreferences.tenantId, tenantId), eq(customerPreferences.customerKey, customerKey)),
        );
      return Boolean(row?.at);
    },

    /** Remembers that the customer wants no follow-up visits. */
    async rememberDeclined(
      input: { tenantId: string; customerKey: string; complaintId: string; actor: ActorRecord; at: Date },
      tx: Queryable = db,
    ): Promise<void> {
      await tx
        .insert(customerPreferences)
        .values({
          tenantId: input.tenantId,
          customerKey: input.customerKey,
          followUpsDeclinedAt: input.at,
          sourceComplaintId: input.complaintId,
          actor: input.actor,
          updatedAt: input.at,
        })
        .onConflictDoUpdate({
          target: [customerPreferences.tenantId, customerPreferences.customerKey],
          set: {
            followUpsDeclinedAt: input.at,
            sourceComplaintId: input.complaintId,
            actor: input.actor,
            updatedAt: input.at,
          },
        });
    },
  };
}

export type FollowUpsRepository = ReturnType<typeof createFollowUpsRepository>;
