import { integer, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { instant } from './columns.js';
import { tenantIdColumn } from './tenancy.js';

/**
 * Shared reply wording (统一回复口径): one template per tenant, key and locale, written in
 * Handlebars with `{{variables}}` filled from the complaint. Every edit raises `version`, and a
 * communication that used a template records the version it used.
 */
export const replyTemplates = pgTable(
  'reply_templates',
  {
    id: uuid('id').notNull(),
    tenantId: tenantIdColumn(),
    key: text('key').notNull(),
    locale: text('locale').notNull(),
    name: text('name').notNull(),
    subject: text('subject'),
    body: text('body').notNull(),
    version: integer('version').notNull().default(1),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'reply_templates_pkey', columns: [table.tenantId, table.id] }),
    uniqueIndex('reply_templates_key_locale_key').on(table.tenantId, table.key, table.locale),
  ],
);
