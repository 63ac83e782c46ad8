import { sql } from 'drizzle-orm';
import {
  check,
  index,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  smallint,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { instant } from './columns.js';
import { type ActorRecord, complaintForeignKey, complaintIdColumn } from './complaints.js';
import { tenantIdColumn } from './tenancy.js';

export const followUpStatus = pgEnum('follow_up_status', ['pending', 'completed', 'cancelled']);
export const followUpOutcome = pgEnum('follow_up_outcome', [
  'satisfied',
  'unsatisfied',
  'unreachable',
  'declined',
]);

/**
 * One attempt at a follow-up visit (回访) after a resolution, due by its `follow_up` deadline. An
 * unreachable customer gets a new attempt (a new row) up to the tenant's followUpMaxAttempts.
 */
export const followUps = pgTable(
  'follow_ups',
  {
    id: uuid('id').notNull(),
    tenantId: tenantIdColumn(),
    complaintId: complaintIdColumn(),
    resolutionId: uuid('resolution_id'),
    deadlineId: uuid('deadline_id').notNull(),
    attempt: smallint('attempt').notNull(),
    status: followUpStatus('status').notNull().default('pending'),
    /** The deadline's due time, kept here so the work list sorts without a join. */
    dueAt: instant('due_at').notNull(),
    outcome: followUpOutcome('outcome'),
    score: smallint('score'),
    comment: text('comment'),
    contactedBy: text('contacted_by'),
    completedAt: instant('completed_at'),
    recordedBy: jsonb('recorded_by').$type<ActorRecord>(),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'follow_ups_pkey', columns: [table.tenantId, table.id] }),
    complaintForeignKey('follow_ups_complaint_fk', table),
    // The work list of a status in due order (pending, cancelled). Completed attempts, most of the
    // history, are left out, as deadlines_tenant_status_due_idx leaves out met deadlines: a walk of
    // follow_ups_tenant_due_any_status_idx filtered to completed finds a page at once.
    index('follow_ups_tenant_due_idx')
      .on(table.tenantId, table.status, table.dueAt, table.id)
      .where(sql`${table.status} <> 'completed'`),
    // The listing in due order when it is not narrowed to one status (see deadlines_tenant_due_idx).
    index('follow_ups_tenant_due_any_status_idx').on(table.tenantId, table.dueAt, table.id),
    index('follow_ups_complaint_idx').on(table.tenantId, table.complaintId, table.attempt),
    index('follow_ups_completed_idx')
      .on(table.tenantId, table.completedAt)
      .where(sql`${table.outcome} is not null`),
    // At most one attempt open per complaint.
    uniqueIndex('follow_ups_one_pending_key')
      .on(table.tenantId, table.complaintId)
      .where(sql`${table.status} = 'pending'`),
    check('follow_ups_score_range', sql`${table.score} is null or ${table.score} between 1 and 5`),
  ],
);

/**
 * Customers who declined follow-up visits, by identity (externalId, else phone, else email), so
 * nobody calls them again (DOMAIN §5).
 */
export const customerPreferences = pgTable(
  'customer_preferences',
  {
    tenantId: tenantIdColumn(),
    /** The customer identity key (customerIdentityKey): `ext:<id>`, `tel:[+]<digits>` or `email:<lower-case address>`. */
    customerKey: text('customer_key').notNull(),
    followUpsDeclinedAt: instant('follow_ups_declined_at'),
    /** The complaint on which the customer said so. */
    sourceComplaintId: uuid('source_complaint_id'),
    actor: jsonb('actor').$type<ActorRecord>().notNull(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.tenantId, table.customerKey] })],
);
