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

/**
 * Why a complaint went up a level: a missed deadline, a major complaint, a handler, or a customer
 * unsatisfied at the follow-up visit.
 */
export const escalationTrigger = pgEnum('escalation_trigger', ['breach', 'major', 'manual', 'unsatisfied']);

/** Who hears of an escalation to a level (DOMAIN §4: team lead, department manager, crisis team). */
export interface EscalationTarget {
  role: string;
  name?: string | undefined;
  email?: string | undefined;
}

/**
 * Every escalation of a complaint, append-only. The level only rises, so a complaint has at most
 * three; a breach escalates at most once (the unique deadline), however often its job runs.
 */
export const escalations = pgTable(
  'escalations',
  {
    id: uuid('id').notNull(),
    tenantId: tenantIdColumn(),
    complaintId: complaintIdColumn(),
    level: smallint('level').notNull(),
    previousLevel: smallint('previous_level').notNull(),
    trigger: escalationTrigger('trigger').notNull(),
    reason: text('reason').notNull(),
    /** The breached deadline that caused it, for `breach` escalations. */
    deadlineId: uuid('deadline_id'),
    targets: jsonb('targets').$type<EscalationTarget[]>().notNull(),
    actor: jsonb('actor').$type<ActorRecord>().notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'escalations_pkey', columns: [table.tenantId, table.id] }),
    complaintForeignKey('escalations_complaint_fk', table),
    index('escalations_complaint_idx').on(table.tenantId, table.complaintId, table.createdAt),
    uniqueIndex('escalations_deadline_key')
      .on(table.tenantId, table.deadlineId)
      .where(sql`${table.deadlineId} is not null`),
    check(
      'escalations_level_rises',
      sql`${table.level} between 1 and 3 and ${table.level} > ${table.previousLevel}`,
    ),
  ],
);
