import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  smallint,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { instant } from './columns.js';
import { tenantIdColumn } from './tenancy.js';

export const complaintChannel = pgEnum('complaint_channel', [
  'phone',
  'email',
  'web',
  'app',
  'chat',
  'social_media',
  'online_forum',
  'walk_in',
  'letter',
  'fax',
  'partner_api',
]);

export const complaintStatus = pgEnum('complaint_status', [
  'received',
  'acknowledged',
  'investigating',
  'awaiting_customer',
  'resolved',
  'closed',
  'rejected',
  'withdrawn',
]);

export const complaintSeverity = pgEnum('complaint_severity', ['general', 'major']);
export const complaintPriority = pgEnum('complaint_priority', ['low', 'normal', 'high', 'urgent']);
export const communicationDirection = pgEnum('communication_direction', ['inbound', 'outbound']);

export const complaints = pgTable(
  'complaints',
  {
    id: uuid('id').primaryKey(),
    tenantId: tenantIdColumn(),
    reference: text('reference').notNull(),
    status: complaintStatus('status').notNull().default('received'),
    channel: complaintChannel('channel').notNull(),
    severity: complaintSeverity('severity').notNull().default('general'),
    priority: complaintPriority('priority').notNull().default('normal'),
    category: text('category'),
    subject: text('subject').notNull(),
    description: text('description').notNull(),
    // Customer identity is kept in columns (not one JSON blob) so it can be searched and indexed.
    customerName: text('customer_name'),
    customerPhone: text('customer_phone'),
    customerEmail: text('customer_email'),
    customerAddress: text('customer_address'),
    customerExternalId: text('customer_external_id'),
    desiredOutcome: text('desired_outcome'),
    occurredAt: instant('occurred_at'),
    receivedAt: instant('received_at').notNull(),
    receivedBy: text('received_by').notNull(),
    assignee: text('assignee'),
    escalationLevel: smallint('escalation_level').notNull().default(0),
    externalRef: text('external_ref'),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    version: integer('version').notNull().default(1),
    /** Last event sequence number handed out for this complaint (see events.sequence). */
    eventSequence: bigint('event_sequence', { mode: 'number' }).notNull().default(0),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('complaints_tenant_reference_key').on(table.tenantId, table.reference),
    uniqueIndex('complaints_tenant_external_ref_key')
      .on(table.tenantId, table.externalRef)
      .where(sql`${table.externalRef} is not null`),
    // The default listing order: newest received first, id as the tie-breaker for keyset paging.
    index('complaints_tenant_received_idx').on(table.tenantId, table.receivedAt.desc(), table.id.desc()),
    index('complaints_tenant_status_idx').on(table.tenantId, table.status, table.receivedAt.desc()),
    index('complaints_tenant_assignee_idx').on(table.tenantId, table.assignee, table.receivedAt.desc()),
    // Trigram indexes serve substring search in any script, Chinese included, where word-based
    // full-text search would need a segmenter.
    index('complaints_search_trgm_idx').using(
      'gin',
      table.subject.op('gin_trgm_ops'),
      table.description.op('gin_trgm_ops'),
      table.customerName.op('gin_trgm_ops'),
    ),
    check('complaints_escalation_level_range', sql`${table.escalationLevel} between 0 and 3`),
    check('complaints_version_positive', sql`${table.version} >= 1`),
  ],
);

/** The complaint a row belongs to; removed with it. */
export const complaintIdColumn = () =>
  uuid('complaint_id')
    .notNull()
    .references(() => complaints.id, { onDelete: 'cascade' });

export const communications = pgTable(
  'communications',
  {
    id: uuid('id').primaryKey(),
    tenantId: tenantIdColumn(),
    complaintId: complaintIdColumn(),
    direction: communicationDirection('direction').notNull(),
    channel: complaintChannel('channel').notNull(),
    body: text('body').notNull(),
    contactMade: boolean('contact_made').notNull(),
    occurredAt: instant('occurred_at').notNull(),
    recordedBy: jsonb('recorded_by').$type<ActorRecord>().notNull(),
    /** The reply template the text came from, and the version of it that was used. */
    templateId: uuid('template_id'),
    templateVersion: integer('template_version'),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [index('communications_complaint_idx').on(table.tenantId, table.complaintId, table.occurredAt)],
);

/** Who did something: the API key that called, and the person it acted for when the caller said. */
export interface ActorRecord {
  type: 'api_key' | 'system';
  id: string | null;
  name: string;
  onBehalfOf: string | null;
}

/**
 * The append-only history of a complaint. A database trigger (migration 0002) refuses UPDATE
 * and DELETE, so not even a bug in this service can rewrite the record a regulator reads.
 */
export const complaintTimeline = pgTable(
  'complaint_timeline',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    tenantId: tenantIdColumn(),
    complaintId: complaintIdColumn(),
    type: text('type').notNull(),
    actor: jsonb('actor').$type<ActorRecord>().notNull(),
    changes: jsonb('changes').$type<Array<{ field: string; before: unknown; after: unknown }>>(),
    data: jsonb('data').$type<Record<string, unknown>>(),
    occurredAt: instant('occurred_at').notNull().defaultNow(),
  },
  (table) => [index('complaint_timeline_complaint_idx').on(table.tenantId, table.complaintId, table.id)],
);
