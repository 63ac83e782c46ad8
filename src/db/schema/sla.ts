import { type SQL, sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  real,
  smallint,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { DEFAULT_ESCALATION_TARGETS } from '../../modules/sla-policies/sla-targets.js';
import { instant } from './columns.js';
import { complaintForeignKey, complaintIdColumn } from './complaints.js';
import type { EscalationTarget } from './escalations.js';
import { tenantForeignKey, tenantIdColumn } from './tenancy.js';

export const deadlineKind = pgEnum('deadline_kind', [
  'first_contact',
  'online_reply',
  'resolution',
  'follow_up',
  'major_report',
  'progress_update',
  'pre_refund_verification',
  'desk_feedback',
  'promise',
]);

export const deadlineStatus = pgEnum('deadline_status', [
  'pending',
  'met',
  'breached',
  'paused',
  'cancelled',
]);
export const slaClock = pgEnum('sla_clock', ['calendar', 'business']);

export interface StoredInterval {
  start: string;
  end: string;
}

/** Working time of a tenant: time zone, weekly hours, public holidays and extra working days (调休). */
export const calendars = pgTable(
  'calendars',
  {
    id: uuid('id').notNull(),
    tenantId: tenantIdColumn(),
    name: text('name').notNull(),
    timeZone: text('time_zone').notNull(),
    weeklyHours: jsonb('weekly_hours').$type<Record<string, StoredInterval[]>>().notNull(),
    holidays: jsonb('holidays').$type<Array<{ date: string; name: string | null }>>().notNull().default([]),
    extraWorkingDays: jsonb('extra_working_days')
      .$type<Array<{ date: string; name: string | null; intervals?: StoredInterval[] }>>()
      .notNull()
      .default([]),
    version: integer('version').notNull().default(1),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'calendars_pkey', columns: [table.tenantId, table.id] }),
    index('calendars_tenant_idx').on(table.tenantId, table.createdAt),
  ],
);

export interface StoredTarget {
  duration: string;
  clock: 'calendar' | 'business';
  /**
   * A due time on a closed day of the policy calendar moves to the next working day (a regulatory
   * period whose last day is a rest day, 民法典 第二百零三条); set by regulatory templates only.
   */
  endsOnWorkingDay?: boolean;
}

export interface StoredTargets {
  firstContact: StoredTarget;
  onlineReply: StoredTarget;
  resolution: StoredTarget;
  followUp: StoredTarget;
  majorReport: StoredTarget;
  progressUpdate: StoredTarget;
  preRefundVerification: StoredTarget;
  deskFeedback: StoredTarget;
}

/** Who hears of an escalation, per level (1 team lead, 2 department manager, 3 crisis team). */
export interface StoredEscalationTargets {
  '1': EscalationTarget[];
  '2': EscalationTarget[];
  '3': EscalationTarget[];
}

export interface StoredMatch {
  channels: string[];
  categories: string[];
  severities: string[];
}

/** The current version of each SLA policy; every version ever in force is kept in sla_policy_versions. */
export const slaPolicies = pgTable(
  'sla_policies',
  {
    id: uuid('id').notNull(),
    tenantId: tenantIdColumn(),
    name: text('name').notNull(),
    priority: integer('priority').notNull(),
    match: jsonb('match').$type<StoredMatch>().notNull(),
    calendarId: uuid('calendar_id'),
    warnAt: real('warn_at').array().notNull(),
    targets: jsonb('targets').$type<StoredTargets>().notNull(),
    escalationTargets: jsonb('escalation_targets')
      .$type<StoredEscalationTargets>()
      .notNull()
      .default(DEFAULT_ESCALATION_TARGETS),
    isDefault: boolean('is_default').notNull().default(false),
    /** The regulatory template it was made from (regimes.ts), which says how its deadlines may be extended. */
    regime: text('regime'),
    active: boolean('active').notNull().default(true),
    version: integer('version').notNull().default(1),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'sla_policies_pkey', columns: [table.tenantId, table.id] }),
    tenantForeignKey(
      'sla_policies_calendar_fk',
      { tenantId: table.tenantId, column: table.calendarId },
      calendars,
    ).onDelete('restrict'),
    index('sla_policies_tenant_priority_idx').on(table.tenantId, table.priority),
    // One default policy per tenant: the catch-all every complaint falls back to.
    uniqueIndex('sla_policies_one_default_key').on(table.tenantId).where(sql`${table.isDefault}`),
  ],
);

/** Immutable snapshots of every policy version, so a deadline can always show the rule it came from. */
export const slaPolicyVersions = pgTable(
  'sla_policy_versions',
  {
    policyId: uuid('policy_id').notNull(),
    version: integer('version').notNull(),
    tenantId: tenantIdColumn(),
    snapshot: jsonb('snapshot').$type<Record<string, unknown>>().notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({
      name: 'sla_policy_versions_pkey',
      columns: [table.tenantId, table.policyId, table.version],
    }),
    tenantForeignKey(
      'sla_policy_versions_policy_fk',
      { tenantId: table.tenantId, column: table.policyId },
      slaPolicies,
    ).onDelete('cascade'),
  ],
);

/**
 * When a pending deadline next needs waking: its next unrecorded warning, or else its due time
 * (deadline-scheduler.ts nextWakeUp says the same in TypeScript). deadlines_pending_wake_idx
 * indexes this expression and the reconciler selects on it, so both use this one definition.
 */
export function nextWakeAt(columns: {
  warnAts: AnyPgColumn;
  warningsFired: AnyPgColumn;
  dueAt: AnyPgColumn;
}): SQL {
  return sql`least(${columns.warnAts}[${columns.warningsFired} + 1], ${columns.dueAt})`;
}

type SettledColumns = { dueAt: AnyPgColumn; metAt: AnyPgColumn; cancelledAt: AnyPgColumn };

/** When a deadline was settled, met or cancelled; null while it is not. */
const settledAt = (columns: SettledColumns): SQL => sql`least(${columns.metAt}, ${columns.cancelledAt})`;

/**
 * Whether a deadline's row records that it was overdue: breached, or met or cancelled after it fell
 * due. One still pending past its due time records nothing yet (the worker breaches it within
 * moments); whoever asks what was overdue reads those from the live backlog. One paused says when
 * its pause began, which ended its being overdue.
 */
export function recordedOverdue(columns: SettledColumns & { status: AnyPgColumn }): SQL {
  return sql`(${columns.status} = 'breached' or ${columns.metAt} > ${columns.dueAt} or ${columns.cancelledAt} > ${columns.dueAt})`;
}

/**
 * The instants at which a deadline was overdue: after it fell due and before it was settled (the
 * daily inventory's marks, report-inventory.ts). A pause is not in it: the inventory cuts it off
 * where the pause began.
 */
export function overdueDuring(columns: SettledColumns): SQL {
  // Never settled: no end. Settled before it fell due: empty (greatest keeps the bounds in order).
  const settled = settledAt(columns);
  return sql`tstzrange(${columns.dueAt}, case when ${settled} is not null then greatest(${columns.dueAt}, ${settled}) end, '()')`;
}

/**
 * A response deadline of a complaint. The row is the truth; BullMQ jobs only wake the worker at
 * `warn_ats` and `due_at`, and every state change is a conditional update on `status`.
 */
export const deadlines = pgTable(
  'deadlines',
  {
    id: uuid('id').notNull(),
    tenantId: tenantIdColumn(),
    complaintId: complaintIdColumn(),
    kind: deadlineKind('kind').notNull(),
    status: deadlineStatus('status').notNull().default('pending'),
    startsAt: instant('starts_at').notNull(),
    dueAt: instant('due_at').notNull(),
    /** When each warning falls due; empty once paused (recomputed on resume). */
    warnAts: instant('warn_ats').array().notNull().default(sql`'{}'::timestamptz[]`),
    /** Fractions of the allowed time the warnings stand for, parallel to warn_ats. */
    warnFractions: real('warn_fractions').array().notNull().default(sql`'{}'::real[]`),
    /** How many warnings have been recorded; a warning job records only if its index is next or later. */
    warningsFired: smallint('warnings_fired').notNull().default(0),
    clock: slaClock('clock').notNull(),
    /** The policy target it came from (ISO-8601, e.g. PT24H), or null for a promised time. */
    targetDuration: text('target_duration'),
    durationMs: bigint('duration_ms', { mode: 'number' }).notNull(),
    /** Time left when paused, in the deadline's clock (business milliseconds for business clocks). */
    remainingMs: bigint('remaining_ms', { mode: 'number' }),
    pausedAt: instant('paused_at'),
    metAt: instant('met_at'),
    breachedAt: instant('breached_at'),
    cancelledAt: instant('cancelled_at'),
    policyId: uuid('policy_id').notNull(),
    policyVersion: integer('policy_version').notNull(),
    calendarId: uuid('calendar_id'),
    /** What started it: the inbound communication for a next-reply deadline, a promise for a progress update. */
    sourceId: uuid('source_id'),
    /** How many of its regime's extension steps have moved it (POST …/deadlines/{id}/extensions). */
    extensions: smallint('extensions').notNull().default(0),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'deadlines_pkey', columns: [table.tenantId, table.id] }),
    complaintForeignKey('deadlines_complaint_fk', table),
    index('deadlines_complaint_idx').on(table.tenantId, table.complaintId, table.createdAt),
    // A complaint's next due deadline (every complaint answer shows it): no scan in due order
    // across all pending deadlines, whatever the planner's estimates.
    index('deadlines_complaint_pending_due_idx')
      .on(table.tenantId, table.complaintId, table.dueAt)
      .where(sql`${table.status} = 'pending'`),
    // The reconciler's sweep: the pending deadlines that need waking within the arming horizon,
    // however many more are open.
    index('deadlines_pending_wake_idx')
      .on(nextWakeAt(table), table.id)
      .where(sql`${table.status} = 'pending'`),
    // The tenant's deadlines of a status in due order (the work queue: pending; breached), keyset
    // paged on (due_at, id). Met deadlines, nearly all of a tenant's history, are left out: they
    // are most of any stretch of deadlines_tenant_due_idx, so a walk of it filtered to met finds a
    // page at once, and indexing them again cost about 180 bytes per complaint.
    index('deadlines_tenant_status_due_idx')
      .on(table.tenantId, table.status, table.dueAt, table.id)
      .where(sql`${table.status} <> 'met'`),
    // The tenant's deadline listing in due order, keyset-paged on (due_at, id), when it is not
    // narrowed to one status: without it each page sorted every deadline the tenant ever had.
    index('deadlines_tenant_due_idx').on(table.tenantId, table.dueAt, table.id),
    // The live backlog by status and id, for two readers that know no tenant: the
    // redress_deadlines gauge counts pending and paused deadlines from these entries only, however
    // many deadlines are met, cancelled or breached; and a wake-up job, which names its deadline
    // only to keep its id short in Redis, finds it here (only a pending deadline can be due;
    // record_deadline_wake_ups). One index for both, as every deadline is written to it at intake.
    index('deadlines_open_id_idx')
      .on(table.status, table.id)
      .where(sql`${table.status} in ('pending', 'paused')`),
  ],
);

/**
 * How many deadlines each tenant has breached and not met late, for the redress_deadlines gauge.
 * A breach outlives its complaint, so counting the breached deadlines themselves read a set that
 * only grows (255 ms a scrape at 1M complaints). A trigger on `deadlines` (count_deadline_breaches,
 * src/modules/deadlines/sql/) records every change in deadline_breach_changes; the maintenance
 * task fold-deadline-breach-counts moves those into this table. The count is both tables' sum.
 */
export const deadlineBreachCounts = pgTable('deadline_breach_counts', {
  // No foreign key, here or on the changes: a tenant's deadlines go before it does, and their
  // changes are folded in after.
  tenantId: uuid('tenant_id').primaryKey(),
  breached: bigint('breached', { mode: 'number' }).notNull(),
});

/**
 * Changes to the breach counts not yet folded into deadline_breach_counts: +1 when a deadline is
 * breached, -1 when a breached one is met late (or deleted). Writers only ever insert here, so a
 * breach never waits on another transaction's count, nor two batches of breaches on each other.
 */
export const deadlineBreachChanges = pgTable(
  'deadline_breach_changes',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    change: integer('change').notNull(),
  },
  (table) => [primaryKey({ columns: [table.tenantId, table.id] })],
);
