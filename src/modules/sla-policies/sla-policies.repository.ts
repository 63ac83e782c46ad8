import { and, asc, eq } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { slaPolicies, slaPolicyVersions } from '../../db/schema/index.js';

export type PolicyRow = typeof slaPolicies.$inferSelect;
export type NewPolicyRow = typeof slaPolicies.$inferInsert;

export function createSlaPoliciesRepository(db: Queryable) {
  return {
    /** Inserts a policy and the snapshot of its first version. */
    async insert(row: NewPolicyRow, tx: Queryable = db): Promise<PolicyRow> {
      const [inserted] = await tx.insert(slaPolicies).values(row).returning();
      await this.snapshot(inserted!, tx);
      return inserted!;
    },

    async snapshot(row: PolicyRow, tx: Queryable = db): Promise<void> {
      const { createdAt, updatedAt, ...rest } = row;
      await tx.insert(slaPolicyVersions).values({
        policyId: row.id,
        version: row.version,
        tenantId: row.tenantId,
        snapshot: { ...rest, createdAt: createdAt.toISOString(), updatedAt: updatedAt.toISOString() },
        createdAt: updatedAt,
      });
    },

    async find(tenantId: string, id: string, options: { forUpdate?: boolean } = {}, tx: Queryable = db) {
      const query = tx
        .select()
        .from(slaPolicies)
        .where(and(eq(slaPolicies.tenantId, tenantId), eq(slaPolicies.id, id)));
      const [row] = options.forUpdate ? await query.for('update') : await query;
      return row;
    },

    async list(tenantId: string, tx: Queryable = db): Promise<PolicyRow[]> {
      return tx
        .select()
        .from(slaPolicies)
        .where(eq(slaPolicies.tenantId, tenantId))
        .orderBy(asc(slaPolicies.priority), asc(slaPolicies.createdAt));
    },

    async listActive(tenantId: string, tx: Queryable = db): Promise<PolicyRow[]> {
      return tx
        .select()
        .from(slaPolicies)
        .where(and(eq(slaPolicies.tenantId, tenantId), eq(slaPolicies.active, true)));
    },

    /** Writes a new version of a policy (the caller holds its row lock) and snapshots it. */
    async update(
      tenantId: string,
      id: string,
      changes: Partial<Omit<NewPolicyRow, 'id' | 'tenantId' | 'createdAt' | 'version'>>,
      nextVersion: number,
      at: Date,
      tx: Queryable = db,
    ): Promise<PolicyRow> {
      const [row] = await tx
        .update(slaPolicies)
        .set({ ...changes, version: nextVersion, updatedAt: at })
        .where(and(eq(slaPolicies.tenantId, tenantId), eq(slaPolicies.id, id)))
        .returning();
      await this.snapshot(row!, tx);
      return row!;
    },
  };
}

export type SlaPoliciesRepository = ReturnType<typeof createSlaPoliciesRepository>;
