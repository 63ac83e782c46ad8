import { sql } from 'drizzle-orm';
import {
  check,
  index,
  jsonb,
  numeric,
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
import { tenantForeignKey, tenantIdColumn } from './tenancy.js';

/** What a resolution option offers the customer (DOMAIN §4). */
export const resolutionOptionKind = pgEnum('resolution_option_kind', [
  'refund',
  'exchange',
  'repair',
  'compensation',
  'apology',
  'explanation',
  'other',
]);

/**
 * Where a proposal stands: options waiting for an approver, offered to the customer, chosen,
 * carried out; or ended without a result (every option rejected, or the customer declined all).
 */
export const resolutionStatus = pgEnum('resolution_status', [
  'awaiting_approval',
  'proposed',
  'chosen',
  'executed',
  'rejected',
  'declined',
]);

/** Whether an option needed an approver above its proposer (按权限核决表审批), and what they said. */
export const resolutionApproval = pgEnum('resolution_approval', [
  'not_required',
  'pending',
  'approved',
  'rejected',
]);

export const preRefundStatus = pgEnum('pre_refund_status', [
  'awaiting_verification',
  'confirmed',
  'disputed',
]);

/** A member of staff as the calling system names them: a person and their role in settings.roles. */
export interface StaffRecord {
  name: string;
  role: string;
}

/** Money amounts: up to 15 whole digits and 4 decimals, enough for every ISO 4217 minor unit. */
const amountColumn = (name: string) => numeric(name, { precision: 19, scale: 4, mode: 'number' });

/** A proposed resolution of a complaint: one or more options offered to the customer. */
export const resolutions = pgTable(
  'resolutions',
  {
    id: uuid('id').notNull(),
    tenantId: tenantIdColumn(),
    complaintId: complaintIdColumn(),
    status: resolutionStatus('status').notNull(),
    proposedBy: jsonb('proposed_by').$type<StaffRecord>().notNull(),
    note: text('note'),
    chosenOptionId: uuid('chosen_option_id'),
    choiceNote: text('choice_note'),
    choiceRecordedAt: instant('choice_recorded_at'),
    executedAt: instant('executed_at'),
    executedBy: text('executed_by'),
    /** The outbound communication that carried the resolution notice to the customer. */
    noticeCommunicationId: uuid('notice_communication_id'),
    notice: jsonb('notice').$type<{ measures: string; reasons: string; followUpPlan: string }>(),
    actor: jsonb('actor').$type<ActorRecord>().notNull(),
    version: smallint('version').notNull().default(1),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'resolutions_pkey', columns: [table.tenantId, table.id] }),
    complaintForeignKey('resolutions_complaint_fk', table),
    index('resolutions_complaint_idx').on(table.tenantId, table.complaintId, table.createdAt),
    // One proposal in play per complaint: a second would leave the customer two answers.
    uniqueIndex('resolutions_one_open_key')
      .on(table.tenantId, table.complaintId)
      .where(sql`${table.status} in ('awaiting_approval', 'proposed', 'chosen')`),
  ],
);

export const resolutionOptions = pgTable(
  'resolution_options',
  {
    id: uuid('id').notNull(),
    tenantId: tenantIdColumn(),
    resolutionId: uuid('resolution_id').notNull(),
    position: smallint('position').notNull(),
    kind: resolutionOptionKind('kind').notNull(),
    description: text('description').notNull(),
    amount: amountColumn('amount'),
    currency: text('currency'),
    approval: resolutionApproval('approval').notNull(),
    decidedBy: jsonb('decided_by').$type<StaffRecord>(),
    decidedAt: instant('decided_at'),
    decisionNote: text('decision_note'),
  },
  (table) => [
    primaryKey({ name: 'resolution_options_pkey', columns: [table.tenantId, table.id] }),
    tenantForeignKey(
      'resolution_options_resolution_fk',
      { tenantId: table.tenantId, column: table.resolutionId },
      resolutions,
    ).onDelete('cascade'),
    index('resolution_options_resolution_idx').on(table.tenantId, table.resolutionId, table.position),
    check(
      'resolution_options_money_whole',
      sql`(${table.amount} is null) = (${table.currency} is null) and (${table.amount} is null or ${table.amount} >= 0)`,
    ),
  ],
);

/**
 * A pre-refund (预退费): the principal paid back at once in a strong, small case, to be verified
 * within the policy's `preRefundVerification` target (3 days by default).
 */
export const preRefunds = pgTable(
  'pre_refunds',
  {
    id: uuid('id').notNull(),
    tenantId: tenantIdColumn(),
    complaintId: complaintIdColumn(),
    amount: amountColumn('amount').notNull(),
    currency: text('currency').notNull(),
    refundedBy: jsonb('refunded_by').$type<StaffRecord>().notNull(),
    paymentReference: text('payment_reference'),
    note: text('note'),
    refundedAt: instant('refunded_at').notNull(),
    status: preRefundStatus('status').notNull().default('awaiting_verification'),
    deadlineId: uuid('deadline_id').notNull(),
    verifiedAt: instant('verified_at'),
    verifiedBy: jsonb('verified_by').$type<StaffRecord>(),
    verificationNote: text('verification_note'),
    actor: jsonb('actor').$type<ActorRecord>().notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'pre_refunds_pkey', columns: [table.tenantId, table.id] }),
    complaintForeignKey('pre_refunds_complaint_fk', table),
    index('pre_refunds_complaint_idx').on(table.tenantId, table.complaintId, table.createdAt),
  ],
);
