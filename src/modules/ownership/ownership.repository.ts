import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { complaintConflicts } from '../../db/schema/index.js';

export type ConflictRow = typeof complaintConflicts.$inferSelect;
export type NewConflictRow = typeof complaintConflicts.$inferInsert;

/** SQL of declared conflicts of interest; every function takes the tenant, and a transaction last. */
export function createOwnershipRepository(db: Queryable) {
  return {
    /** The conflicts declared in a complaint, oldest first. */
    async listConflicts(tenantId: string, complaintId: string, tx: Queryable = db): Promise<ConflictRow[]> {
      return tx
        .select()
        .from(complaintConflicts)
        .where(
          and(eq(complaintConflicts.tenantId, tenantId), eq(complaintConflicts.complaintId, complaintId)),
        )
        .orderBy(asc(complaintConflicts.createdAt), asc(complaintConflicts.id));
    },

    /** The conflicts declared in each of many complaints, in one query, oldest first. */
    async listConflictsOfComplaints(
      tenantId: string,
      complaintIds: readonly string[],
    ): Promise<ConflictRow[]> {
      if (complaintIds.length === 0) return [];
      return db
        .select()
        .from(complaintConflicts)
        .where(
          and(
            eq(complaintConflicts.tenantId, tenantId),
            inArray(complaintConflicts.complaintId, [...complaintIds]),
          ),
        )
        .orderBy(asc(complaintConflicts.createdAt), asc(complaintConflicts.id));
    },

    /** Records a declaration; undefined, writing nothing, when that person already declared one. */
    async insertConflict(row: NewConflictRow, tx: Queryable = db): Promise<ConflictRow | undefined> {
      const [inserted] = await tx
        .insert(complaintConflicts)
        .values(row)
        // The only unique key besides the random id is (complaint, lower(staff)).
        .onConflictDoNothing()
        .returning();
      return inserted;
    },
  };
}

export type OwnershipRepository = ReturnType<typeof createOwnershipRepository>;
