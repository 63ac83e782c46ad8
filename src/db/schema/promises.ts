import { index, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { instant } from './columns.js';
import { type ActorRecord, complaintForeignKey, complaintIdColumn } from './complaints.js';
import { tenantIdColumn } from './tenancy.js';

/**
 * A commitment a handler made to the customer (every promise tracked, seeds 000 and 002): what,
 * and by when. Its `promise` deadline is the one truth of whether it was kept, broken or
 * withdrawn; the row keeps what the deadline cannot: the words, who made it, and why it was
 * withdrawn.
 */
export const promises = pgTable(
  'promises',
  {
    id: uuid('id').notNull(),
    tenantId: tenantIdColumn(),
    complaintId: complaintIdColumn(),
    description: text('description').notNull(),
    /** Who made the promise to the customer, when not the caller. */
    madeBy: text('made_by'),
    madeAt: instant('made_at').notNull(),
    deadlineId: uuid('deadline_id').notNull(),
    keptNote: text('kept_note'),
    keptBy: jsonb('kept_by').$type<ActorRecord>(),
    withdrawalReason: text('withdrawal_reason'),
    withdrawnBy: jsonb('withdrawn_by').$type<ActorRecord>(),
    actor: jsonb('actor').$type<ActorRecord>().notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'promises_pkey', columns: [table.tenantId, table.id] }),
    complaintForeignKey('promises_complaint_fk', table),
    index('promises_complaint_idx').on(table.tenantId, table.complaintId, table.madeAt, table.id),
  ],
);
