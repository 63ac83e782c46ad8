import { and, asc, eq } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { escalations } from '../../db/schema/index.js';

export type EscalationRow = typeof escalations.$inferSelect;
export type NewEscalationRow = typeof escalations.$inferInsert;

export function createEscalationsRepository(db: Queryable) {
  return {
    /** Inserts an escalation; undefined when its breach was already escalated (a repeated job). */
    async insert(row: NewEscalationRow, tx: Queryable = db): Promise<EscalationRow | undefined> {
      const [inserted] = await tx.insert(escalations).values(row).onConflictDoNothing().returning();
      return inserted;
    },

    async listForComplaint(tenantId: string, complaintId: string, tx: Queryable = db) {
      return tx
        .select()
        .from(escalations)
        .where(and(eq(escalations.tenantId, tenantId), eq(escalations.complaintId, complaintId)))
        .orderBy(asc(escalations.createdAt), asc(escalations.level));
    },
  };
}

export type EscalationsRepository = ReturnType<typeof createEscalationsRepository>;
