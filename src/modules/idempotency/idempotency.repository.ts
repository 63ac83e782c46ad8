import { and, eq, isNull, lt, lte, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { idempotencyKeys } from '../../db/schema/index.js';

export type IdempotencyRow = typeof idempotencyKeys.$inferSelect;

export function createIdempotencyRepository(db: Queryable) {
  return {
    /** Claims a key for a new request; undefined when the key is already known. */
    async claim(
      row: { tenantId: string; key: string; requestFingerprint: string; lockedUntil: Date; expiresAt: Date },
      tx: Queryable = db,
    ): Promise<IdempotencyRow | undefined> {
      const [claimed] = await tx.insert(idempotencyKeys).values(row).onConflictDoNothing().returning();
      return claimed;
    },

    async find(tenantId: string, key: string, tx: Queryable = db): Promise<IdempotencyRow | undefined> {
      const [row] = await tx
        .select()
        .from(idempotencyKeys)
        .where(and(eq(idempotencyKeys.tenantId, tenantId), eq(idempotencyKeys.key, key)));
      return row;
    },

    /** Takes over a claim whose first request died without finishing (its lease ran out). */
    async takeOverExpiredLease(
      tenantId: string,
      key: string,
      now: Date,
      lockedUntil: Date,
      tx: Queryable = db,
    ): Promise<IdempotencyRow | undefined> {
      const [row] = await tx
        .update(idempotencyKeys)
        .set({ lockedUntil })
        .where(
          and(
            eq(idempotencyKeys.tenantId, tenantId),
            eq(idempotencyKeys.key, key),
            eq(idempotencyKeys.state, 'in_progress'),
            lt(idempotencyKeys.lockedUntil, now),
          ),
        )
        .returning();
      return row;
    },

    /**
     * Points a key still in progress, and not yet bound, at the resource its write made; called
     * in that write's transaction. False when another attempt bound or answered the key first.
     */
    async bindResource(tenantId: string, key: string, resourceId: string, tx: Queryable): Promise<boolean> {
      const bound = await tx
        .update(idempotencyKeys)
        .set({ resourceId })
        .where(
          and(
            eq(idempotencyKeys.tenantId, tenantId),
            eq(idempotencyKeys.key, key),
            eq(idempotencyKeys.state, 'in_progress'),
            isNull(idempotencyKeys.resourceId),
          ),
        )
        .returning({ key: idempotencyKeys.key });
      return bound.length > 0;
    },

    /**
     * Stores the answer of the attempt that holds the key. The first answer stays: a key already
     * answered is left alone, and a refusal is never stored over a key bound to a committed
     * resource (it can only come from a concurrent attempt that lost, whose write rolled back).
     */
    async complete(
      tenantId: string,
      key: string,
      response: { status: number; headers: Record<string, string>; body: string },
      tx: Queryable = db,
    ): Promise<void> {
      await tx
        .update(idempotencyKeys)
        .set({
          state: 'completed',
          responseStatus: response.status,
          responseHeaders: response.headers,
          responseBody: response.body,
        })
        .where(
          and(
            eq(idempotencyKeys.tenantId, tenantId),
            eq(idempotencyKeys.key, key),
            eq(idempotencyKeys.state, 'in_progress'),
            response.status >= 400 ? isNull(idempotencyKeys.resourceId) : undefined,
          ),
        );
    },

    /** Frees a claim whose request failed before changing anything, so a retry can run. */
    async release(tenantId: string, key: string, tx: Queryable = db): Promise<void> {
      await tx
        .delete(idempotencyKeys)
        .where(
          and(
            eq(idempotencyKeys.tenantId, tenantId),
            eq(idempotencyKeys.key, key),
            eq(idempotencyKeys.state, 'in_progress'),
            sql`${idempotencyKeys.resourceId} is null`,
          ),
        );
    },

    async forgetExpired(tenantId: string, key: string, now: Date, tx: Queryable = db): Promise<void> {
      await tx.delete(idempotencyKeys).where(
        and(
          eq(idempotencyKeys.tenantId, tenantId),
          eq(idempotencyKeys.key, key),
          // Expired as begin() judges it: at expiresAt, not a millisecond after, or begin() would
          // find the key still there and ask again until the clock moved on.
          lte(idempotencyKeys.expiresAt, now),
        ),
      );
    },

    /**
     * Deletes keys past their retention, of every tenant; returns how many went. By key, not by
     * ctid: on Citus a batch spans nodes, and a row's ctid means something on its own node only.
     */
    async purgeExpired(now: Date, batchSize: number, tx: Queryable = db): Promise<number> {
      const result = await tx.execute(sql`
        delete from ${idempotencyKeys}
        where (${idempotencyKeys.tenantId}, ${idempotencyKeys.key}) in (
          select ${idempotencyKeys.tenantId}, ${idempotencyKeys.key} from ${idempotencyKeys}
          where ${idempotencyKeys.expiresAt} < ${now} limit ${batchSize})`);
      return result.rowCount ?? 0;
    },
  };
}

export type IdempotencyRepository = ReturnType<typeof createIdempotencyRepository>;
