import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  customType,
  date,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { instant } from './columns.js';
import { complaintChannel, complaintForeignKey, complaintIdColumn, complaintSeverity } from './complaints.js';
import { deadlineKind } from './sla.js';
import { tenantIdColumn } from './tenancy.js';

/** A PostgreSQL tstzrange, read and written in its text form (`[from,to)`). */
const tstzrange = customType<{ data: string; driverData: string }>({
  dataType: () => 'tstzrange',
});

/** A PostgreSQL tstzmultirange, read and written in its text form (`{[from,to),...}`). */
const tstzmultirange = customType<{ data: string; driverData: string }>({
  dataType: () => 'tstzmultirange',
});

/** The groupings the report counts are kept by; `none` is the report without one. */
const keptDimension = sql`dimension in ('none', 'channel', 'category', 'severity', 'assignee')`;

/**
 * When each complaint was open (received, acknowledged, investigating or awaiting the customer):
 * one row per stretch, from intake or a reopening to the change that ended it, kept by triggers
 * on `complaints` (open_complaint_spans at intake, track_complaint_open_spans on a status change;
 * src/modules/reports/sql/). The daily inventory's marks read a complaint's stretches here, where
 * the timeline would have to be read entry by entry.
 */
export const complaintOpenSpans = pgTable(
  'complaint_open_spans',
  {
    tenantId: tenantIdColumn(),
    complaintId: complaintIdColumn(),
    /** Numbers the stretches, so each has a key with its tenant and complaint. */
    id: bigint('id', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    /** Opened by intake: from just after `received_at`; reopened: from the change, inclusive. */
    openDuring: tstzrange('open_during').notNull(),
  },
  (table) => [
    primaryKey({ name: 'complaint_open_spans_pkey', columns: [table.tenantId, table.complaintId, table.id] }),
    complaintForeignKey('complaint_open_spans_complaint_fk', table),
  ],
);

/** The groupings the daily inventory's counts are kept by. */
const inventoryDimension = sql`dimension in ('none', 'severity', 'assignee')`;

/**
 * What each complaint adds to the daily inventory's counts, as last counted: its handler and
 * severity, when it was received, when its deadlines (not cancelled) fall due, and when it was
 * open, and open and overdue as its row records (a deadline breached, or met or cancelled late).
 * A deadline still pending past its due time is not here: the report reads that live backlog
 * itself. report_inventory_contributions (src/modules/reports/sql/report_inventory.sql) says
 * what the marks add to which day; the fold (report-inventory.ts) keeps them and the counts
 * together, so the counts are always the sum of every complaint's marks.
 */
export const reportInventoryMarks = pgTable(
  'report_inventory_marks',
  {
    tenantId: uuid('tenant_id').notNull(),
    complaintId: uuid('complaint_id').notNull(),
    assignee: text('assignee'),
    severity: complaintSeverity('severity').notNull(),
    receivedAt: instant('received_at').notNull(),
    dueAt: instant('due_at').array().notNull(),
    open: tstzmultirange('open').notNull(),
    overdue: tstzmultirange('overdue').notNull(),
    /**
     * The last instant a stretch turns at (null for none): an inventory as of an earlier instant
     * reads this complaint itself, as its day's counts hold turns it must not count yet.
     */
    turnsUntil: instant('turns_until'),
  },
  (table) => [
    primaryKey({ name: 'report_inventory_marks_pkey', columns: [table.tenantId, table.complaintId] }),
    index('report_inventory_marks_turns_idx').on(table.tenantId, table.turnsUntil),
  ],
);

/**
 * Complaints whose inventory marks may no longer be what their rows say: noted by triggers on
 * complaints and deadlines (report_inventory.sql) in the writer's transaction, taken away by the
 * fold once it has counted them again. Writers only insert here. The report reads these
 * complaints themselves, so it is exact before the fold.
 */
export const reportInventoryTouches = pgTable(
  'report_inventory_touches',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    complaintId: uuid('complaint_id').notNull(),
  },
  (table) => [primaryKey({ columns: [table.tenantId, table.id] })],
);

/**
 * One row per tenant whose report counts have been folded or recounted: the fold and the recount
 * of a tenant take its row FOR UPDATE (lock_report_counts in src/modules/reports/sql/), so they
 * never move the same tenant's counts at once, whichever server runs them. A row lock, not an
 * advisory lock: on Citus an advisory lock holds only on the coordinator that grants it, while
 * this row lies with the tenant's other rows and every coordinator locks the same one. The row
 * holds nothing else; tenants are never made to wait on each other.
 */
export const reportCountLocks = pgTable('report_count_locks', {
  tenantId: tenantIdColumn().primaryKey(),
});

/**
 * The daily inventory's counts per tenant, grouping and local day in the tenant's time zone, and
 * again per month (`period`), so an inventory reads a few rows per group however long the history:
 * complaints received and due on the day, and the day's change in how many are open and how many
 * open and overdue, whose sum over every earlier day is the count at the day's end. The sum of
 * every complaint's marks (report_inventory_marks); `npm run cli -- reports recount` recounts both
 * from the complaints.
 */
export const reportInventoryCounts = pgTable(
  'report_inventory_counts',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: bigint('id', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    /** `day`, or `month` for the month starting on `day`. */
    period: text('period').notNull(),
    day: date('day').notNull(),
    dimension: text('dimension').notNull(),
    value: text('value'),
    received: bigint('received', { mode: 'number' }).notNull(),
    due: bigint('due', { mode: 'number' }).notNull(),
    openChange: bigint('open_change', { mode: 'number' }).notNull(),
    overdueChange: bigint('overdue_change', { mode: 'number' }).notNull(),
  },
  (table) => [
    primaryKey({ name: 'report_inventory_counts_pkey', columns: [table.tenantId, table.id] }),
    unique('report_inventory_counts_group')
      .on(table.tenantId, table.period, table.day, table.dimension, table.value)
      .nullsNotDistinct(),
    check('report_inventory_counts_dimension', inventoryDimension),
    check('report_inventory_counts_period', sql`period in ('day', 'month')`),
  ],
);

/**
 * The SLA compliance report's counts per tenant, day of `due_at` in the tenant's time zone,
 * deadline kind and grouping (`dimension` is none, channel, category, severity or assignee; `value`
 * the group), so a year's report sums a year of days rather than every deadline due in it, and a
 * report of whole local days reads no deadline at all. A change of the tenant's time zone recounts
 * its days (recount_report_counts). Triggers on deadlines and
 * complaints (count_report_new_deadlines, count_report_deadlines, regroup_report_counts in
 * src/modules/reports/sql/) write each change to report_deadline_changes; the maintenance task
 * fold-report-counts moves those here. The counts are both tables' sum, and
 * `npm run cli -- reports recount` recounts them from the deadlines.
 */
export const reportDeadlineDays = pgTable(
  'report_deadline_days',
  {
    tenantId: uuid('tenant_id').notNull(),
    /** A key with the tenant: the group's own columns cannot be one, as a group's value may be null. */
    id: bigint('id', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    day: date('day').notNull(),
    kind: deadlineKind('kind').notNull(),
    dimension: text('dimension').notNull(),
    value: text('value'),
    /** Deadlines counted (every one not cancelled): a group shows even when all else is zero. */
    counted: bigint('counted', { mode: 'number' }).notNull(),
    metOnTime: bigint('met_on_time', { mode: 'number' }).notNull(),
    metLate: bigint('met_late', { mode: 'number' }).notNull(),
    breached: bigint('breached', { mode: 'number' }).notNull(),
    pending: bigint('pending', { mode: 'number' }).notNull(),
  },
  (table) => [
    primaryKey({ name: 'report_deadline_days_pkey', columns: [table.tenantId, table.id] }),
    unique('report_deadline_days_group')
      .on(table.tenantId, table.dimension, table.day, table.kind, table.value)
      .nullsNotDistinct(),
    check('report_deadline_days_dimension', keptDimension),
  ],
);

/**
 * Changes to the SLA compliance counts not yet folded into report_deadline_days: a deadline's
 * contribution taken away (-1 and its counts) and put back as it now stands, with every grouping
 * of its complaint. Writers only insert here, so no write waits on another's counts.
 */
export const reportDeadlineChanges = pgTable(
  'report_deadline_changes',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    /**
     * The deadline's due instant to the quarter hour (report_quarter_hour): the fold puts it on its
     * day in the tenant's time zone.
     */
    dueAt: instant('due_at').notNull(),
    kind: deadlineKind('kind').notNull(),
    channel: complaintChannel('channel').notNull(),
    category: text('category'),
    severity: complaintSeverity('severity').notNull(),
    assignee: text('assignee'),
    counted: integer('counted').notNull(),
    metOnTime: integer('met_on_time').notNull(),
    metLate: integer('met_late').notNull(),
    breached: integer('breached').notNull(),
    pending: integer('pending').notNull(),
  },
  (table) => [primaryKey({ columns: [table.tenantId, table.id] })],
);

/**
 * The satisfaction half of the SLA compliance report per tenant, local day of `completed_at` and
 * grouping, kept like report_deadline_days (count_report_follow_ups): follow-ups with an outcome.
 */
export const reportFollowUpDays = pgTable(
  'report_follow_up_days',
  {
    tenantId: uuid('tenant_id').notNull(),
    /** A key with the tenant, as report_deadline_days has. */
    id: bigint('id', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    day: date('day').notNull(),
    dimension: text('dimension').notNull(),
    value: text('value'),
    counted: bigint('counted', { mode: 'number' }).notNull(),
    satisfied: bigint('satisfied', { mode: 'number' }).notNull(),
    unsatisfied: bigint('unsatisfied', { mode: 'number' }).notNull(),
    unreachable: bigint('unreachable', { mode: 'number' }).notNull(),
    declined: bigint('declined', { mode: 'number' }).notNull(),
    scored: bigint('scored', { mode: 'number' }).notNull(),
    scoreSum: bigint('score_sum', { mode: 'number' }).notNull(),
  },
  (table) => [
    primaryKey({ name: 'report_follow_up_days_pkey', columns: [table.tenantId, table.id] }),
    unique('report_follow_up_days_group')
      .on(table.tenantId, table.dimension, table.day, table.value)
      .nullsNotDistinct(),
    check('report_follow_up_days_dimension', keptDimension),
  ],
);

/** Changes to the satisfaction counts not yet folded into report_follow_up_days. */
export const reportFollowUpChanges = pgTable(
  'report_follow_up_changes',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    /** The follow-up's completion to the quarter hour, as report_deadline_changes.due_at. */
    completedAt: instant('completed_at').notNull(),
    channel: complaintChannel('channel').notNull(),
    category: text('category'),
    severity: complaintSeverity('severity').notNull(),
    assignee: text('assignee'),
    counted: integer('counted').notNull(),
    satisfied: integer('satisfied').notNull(),
    unsatisfied: integer('unsatisfied').notNull(),
    unreachable: integer('unreachable').notNull(),
    declined: integer('declined').notNull(),
    scored: integer('scored').notNull(),
    scoreSum: integer('score_sum').notNull(),
  },
  (table) => [primaryKey({ columns: [table.tenantId, table.id] })],
);
