import { and, eq, sql } from 'drizzle-orm';
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

    /**
     * Stores the next version of the settings if they are still at `readVersion`; undefined when
     * another writer got there first. Version 1 is the defaults, with no row: the first write
     * inserts version 2, and of writers racing to be first, the others find the row and lose.
     */
    async save(
      tenantId: string,
      settings: Record<string, unknown>,
      at: Date,
      readVersion: number,
      tx: Queryable = db,
    ): Promise<WorkflowSettingsRow | undefined> {
      if (readVersion === 1) {
        const [row] = await tx
          .insert(workflowSettings)
          .values({ tenantId, settings, version: 2, updatedAt: at })
          .onConflictDoNothing({ target: workflowSettings.tenantId })
          .returning();
        return row;
      }
      const [row] = await tx
        .update(workflowSettings)
        .set({ settings, version: sql`${workflowSettings.version} + 1`, updatedAt: at })
        .where(and(eq(workflowSettings.tenantId, tenantId), eq(workflowSettings.version, readVersion)))
        .returning();
      return row;
    },
  };
}

export type SettingsRepository = ReturnType<typeof createSettingsRepository>;
