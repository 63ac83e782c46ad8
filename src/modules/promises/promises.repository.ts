import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db, Queryable } from '../../db/client.js';
import { deadlines, promises } from '../../db/schema/index.js';
import type { DeadlineRow } from '../deadlines/deadlines.repository.js';

export type PromiseRow = typeof promises.$inferSelect;
/** A promise with its `promise` deadline, which says whether it was kept, broken or withdrawn. */
export interface PromiseWithDeadline {
  promise: PromiseRow;
  deadline: DeadlineRow;
}

/** SQL of promises; every function takes the tenant id and an optional transaction last. */
export function createPromisesRepository(db: Db) {
  const withDeadline = (tx: Queryable) =>
    tx
      .select({ promise: promises, deadline: deadlines })
      .from(promises)
      .innerJoin(
        deadlines,
        and(eq(deadlines.tenantId, promises.tenantId), eq(deadlines.id, promises.deadlineId)),
      );

  return {
    async insert(row: typeof promises.$inferInsert, tx: Queryable = db): Promise<PromiseRow> {
      const [inserted] = await tx.insert(promises).values(row).returning();
      return inserted!;
    },

    async find(
      tenantId: string,
      complaintId: string,
      id: string,
      tx: Queryable = db,
    ): Promise<PromiseWithDeadline | undefined> {
      const [row] = await withDeadline(tx).where(
        and(eq(promises.tenantId, tenantId), eq(promises.complaintId, complaintId), eq(promises.id, id)),
      );
      return row;
    },

    async update(
      tenantId: string,
      id: string,
      changes: Partial<typeof promises.$inferInsert>,
      tx: Queryable = db,
    ): Promise<void> {
      await tx
        .update(promises)
        .set(changes)
        .where(and(eq(promises.tenantId, tenantId), eq(promises.id, id)));
    },

    /** The promises of several complaints in one query, each complaint's in the order they were made. */
    async listForComplaints(
      tenantId: string,
      complaintIds: string[],
      tx: Queryable = db,
    ): Promise<PromiseWithDeadline[]> {
      if (complaintIds.length === 0) return [];
      return withDeadline(tx)
        .where(and(eq(promises.tenantId, tenantId), inArray(promises.complaintId, complaintIds)))
        .orderBy(asc(promises.complaintId), asc(promises.madeAt), asc(promises.id));
    },
  };
}

export type PromisesRepository = ReturnType<typeof createPromisesRepository>;
