import { bigint, index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { instant } from './columns.js';
import { tenantIdColumn } from './tenancy.js';

/**
 * The transactional outbox: every state change writes its event here in the same transaction.
 * Delivery (webhooks, the pull feed, subscriptions) reads from this table and nothing else.
 */
export const events = pgTable(
  'events',
  {
    /** Global order of commit-time insertion; the pull feed's cursor. */
    position: bigint('position', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    id: text('id').notNull().unique(),
    tenantId: tenantIdColumn(),
    type: text('type').notNull(),
    complaintId: uuid('complaint_id'),
    /** Per-complaint sequence number, so consumers can order and de-duplicate per complaint. */
    sequence: bigint('sequence', { mode: 'number' }),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    occurredAt: instant('occurred_at').notNull().defaultNow(),
  },
  (table) => [
    index('events_tenant_position_idx').on(table.tenantId, table.position),
    index('events_occurred_idx').on(table.occurredAt),
  ],
);
