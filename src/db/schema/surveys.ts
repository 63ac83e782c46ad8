import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, primaryKey, smallint, text, uuid } from 'drizzle-orm/pg-core';
import { instant } from './columns.js';
import { type ActorRecord, complaintChannel, complaintForeignKey, complaintIdColumn } from './complaints.js';
import { tenantIdColumn } from './tenancy.js';

/**
 * A satisfaction survey (满意度调查, seeds 000 and 003) sent for a complaint, whatever its status
 * and whether or not it owes a follow-up visit, and the customer's answer: a score from 1 to 5
 * and a comment.
 */
export const satisfactionSurveys = pgTable(
  'satisfaction_surveys',
  {
    id: uuid('id').notNull(),
    tenantId: tenantIdColumn(),
    complaintId: complaintIdColumn(),
    /** How the survey reached the customer. */
    channel: complaintChannel('channel').notNull(),
    sentAt: instant('sent_at').notNull(),
    sentBy: jsonb('sent_by').$type<ActorRecord>().notNull(),
    score: smallint('score'),
    comment: text('comment'),
    answeredAt: instant('answered_at'),
    answeredBy: jsonb('answered_by').$type<ActorRecord>(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'satisfaction_surveys_pkey', columns: [table.tenantId, table.id] }),
    complaintForeignKey('satisfaction_surveys_complaint_fk', table),
    index('satisfaction_surveys_complaint_idx').on(table.tenantId, table.complaintId, table.sentAt, table.id),
    // The CSAT report reads the answers of a period.
    index('satisfaction_surveys_answered_idx')
      .on(table.tenantId, table.answeredAt)
      .where(sql`${table.answeredAt} is not null`),
    check(
      'satisfaction_surveys_answer_check',
      sql`(${table.answeredAt} is null) = (${table.score} is null) and (${table.score} is null or ${table.score} between 1 and 5)`,
    ),
  ],
);
