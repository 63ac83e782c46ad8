import { and, asc, eq, type SQL, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { replyTemplates } from '../../db/schema/index.js';

export type ReplyTemplateRow = typeof replyTemplates.$inferSelect;
export type NewReplyTemplateRow = typeof replyTemplates.$inferInsert;

export function createReplyTemplatesRepository(db: Queryable) {
  return {
    /** Inserts a template; undefined when the tenant already has one for the key and locale. */
    async insert(row: NewReplyTemplateRow, tx: Queryable = db): Promise<ReplyTemplateRow | undefined> {
      const [inserted] = await tx.insert(replyTemplates).values(row).onConflictDoNothing().returning();
      return inserted;
    },

    /** Gives a new tenant the seed templates (seed_reply_templates in ./sql/). */
    async seedDefaults(tenantId: string, tx: Queryable = db): Promise<void> {
      await tx.execute(sql`select seed_reply_templates(${tenantId}::uuid)`);
    },

    async find(
      tenantId: string,
      id: string,
      options: { forUpdate?: boolean } = {},
      tx: Queryable = db,
    ): Promise<ReplyTemplateRow | undefined> {
      const query = tx
        .select()
        .from(replyTemplates)
        .where(and(eq(replyTemplates.tenantId, tenantId), eq(replyTemplates.id, id)));
      const [row] = options.forUpdate ? await query.for('update') : await query;
      return row;
    },

    async list(
      tenantId: string,
      filters: { key?: string; locale?: string },
      tx: Queryable = db,
    ): Promise<ReplyTemplateRow[]> {
      const conditions: (SQL | undefined)[] = [eq(replyTemplates.tenantId, tenantId)];
      if (filters.key) conditions.push(eq(replyTemplates.key, filters.key));
      if (filters.locale) conditions.push(eq(replyTemplates.locale, filters.locale));
      return tx
        .select()
        .from(replyTemplates)
        .where(and(...conditions))
        .orderBy(asc(replyTemplates.key), asc(replyTemplates.locale));
    },

    /** Writes a new version of a template; the caller holds its row lock. */
    async update(
      tenantId: string,
      id: string,
      changes: Partial<Pick<NewReplyTemplateRow, 'name' | 'subject' | 'body'>>,
      at: Date,
      tx: Queryable = db,
    ): Promise<ReplyTemplateRow> {
      const [row] = await tx
        .update(replyTemplates)
        .set({ ...changes, version: sql`${replyTemplates.version} + 1`, updatedAt: at })
        .where(and(eq(replyTemplates.tenantId, tenantId), eq(replyTemplates.id, id)))
        .returning();
      return row!;
    },

    async delete(tenantId: string, id: string, tx: Queryable = db): Promise<boolean> {
      const deleted = await tx
        .delete(replyTemplates)
        .where(and(eq(replyTemplates.tenantId, tenantId), eq(replyTemplates.id, id)))
        .returning({ id: replyTemplates.id });
      return deleted.length > 0;
    },
  };
}

export type ReplyTemplatesRepository = ReturnType<typeof createReplyTemplatesRepository>;
