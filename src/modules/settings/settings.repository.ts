import { eq, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { workflowSettings } from '../../db/schema/index.js';

export type WorkflowSettingsRow = typeof workflowSettings.$inferSelect;

export function createSettingsRepository(db: Queryable) {
  return {
    async find(tenantId: string, options: { forUpdate?: boolean } = {}, tx: Queryable = db) {
      const query = tx.select().from(workflowSettings).where(eq(workflowSettings.tenantId, tenantId));
      const [row] = options.forUpdate ? await query.for('update') : await query;
      return row;
    },

    /** Stores a new version of the settings; the first write makes version 2 (1 is the defaults). */
    async save(tenantId: string, settings: Record<string, unknown>, at: Date, tx: Queryable = db) {
      const [row] = await tx
        .insert(workflowSettings)
        .values({ tenantId, settings, version: 2, updatedAt: at })
        .onConflictDoUpdate({
          target: workflowSettings.tenantId,
          set: { settings, version: sql`${workflowSettings.version} + 1`, updatedAt: at },
        })
        .returning();
      return row!;
    },
  };
}

export type SettingsRepository = ReturnType<typeof createSettingsRepository>;
