import { Duration, IANAZone } from 'luxon';
import { z } from 'zod';
import { DEFAULT_REFERENCE_FORMAT, referenceFormatSchema } from '../complaints/complaint-reference.js';
import { CAUSE_GROUPS, DEFAULT_CAUSES } from './cause-taxonomy.js';

/**
 * Where a tenant's days start and end until it names another zone. The report counts kept in SQL
 * take it as a parameter (report_time_zone in src/modules/reports/sql/report_counts.sql).
 */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

/** Roles that approve resolutions, most junior first (DOMAIN §4, 按权限核决表审批). */
export const DEFAULT_ROLES = ['handler', 'team_lead', 'department_manager', 'general_manager'];

const category = z.string().trim().min(1).max(100);

/**
 * An ISO-8601 calendar period (years and months allowed): acceptance windows run on dates. Up to
 * a century, every part positive or zero: Luxon also reads `P1Y-2M`, and a window of a billion
 * years ran past the dates it can represent, so every complaint in the category was rejected.
 */
const calendarPeriod = z
  .string()
  .max(40)
  .refine((text) => {
    const duration = Duration.fromISO(text);
    return (
      duration.isValid &&
      duration.toMillis() > 0 &&
      Object.values(duration.toObject()).every((part) => part >= 0) &&
      duration.as('years') <= 100
    );
  }, 'must be an ISO-8601 period of at most 100 years such as P5M or P2Y')
  .describe('ISO-8601 period, e.g. P5M (five months) or P2Y');

const approvalLimit = z
  .strictObject({
    role: z.string().trim().min(1).max(100),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as CNY'),
    maxAmount: z
      .number()
      .nonnegative()
      .max(1e12)
      .nullable()
      .describe('Largest amount this role may grant on its own; null for no limit.'),
  })
  .meta({ id: 'ApprovalLimit' });

/** A code complaints are recorded and counted by: lower case, digits and underscores. */
export const causeCodeSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]{0,63}$/,
    'must be lower case letters, digits and underscores, starting with a letter',
  )
  .describe('A cause code from the tenant’s causes (workflow settings), e.g. `broken_promise`.');

const causeSchema = z
  .strictObject({
    code: causeCodeSchema,
    group: z
      .enum(CAUSE_GROUPS)
      .describe('The family of the cause: a product defect, a service failure, misuse, or other.'),
    labels: z
      .strictObject({
        zh: z.string().trim().min(1).max(200),
        en: z.string().trim().min(1).max(200),
      })
      .describe('How the cause reads, in Chinese and English.'),
  })
  .meta({ id: 'Cause' });

/**
 * The workflow rules of a tenant. Every field has the seed value (DOMAIN.md) as its default, so a
 * tenant that never set anything runs on them, and a stored document missing a field newer than
 * it still reads whole.
 */
export const workflowSettingsSchema = z
  .strictObject({
    acceptanceWindows: z
      .record(category, calendarPeriod)
      .refine((value) => Object.keys(value).length <= 200, 'at most 200 categories')
      .default({ billing: 'P5M', contract: 'P2Y' })
      .describe('Per category: how long after the event a complaint is still accepted (DOMAIN §1).'),
    safetyCategories: z
      .array(category)
      .max(100)
      .default([
        'safety',
        'fire',
        'lift_entrapment',
        'explosion',
        'power_outage',
        'flooding',
        'theft',
        'crime',
      ])
      .describe('Categories whose complaints are major at once (DOMAIN §2).'),
    collectiveThreshold: z
      .number()
      .int()
      .min(2)
      .max(1000)
      .default(3)
      .describe('Complaints linked by one incidentKey that make the matter a collective, major complaint.'),
    repeatWindowDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(30)
      .describe(
        'A complaint from the same customer in the same category within this many days is a repeat, and major.',
      ),
    followUpMaxAttempts: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(3)
      .describe('Follow-up visits tried when the customer is unreachable before giving up.'),
    autoCloseAfter: z
      .string()
      .max(20)
      .refine((text) => {
        const duration = Duration.fromISO(text);
        return duration.isValid && duration.as('hours') >= 1 && duration.as('days') <= 365;
      }, 'must be an ISO-8601 duration from PT1H to P365D, such as P7D')
      .default('P7D')
      .describe(
        'How long a resolved complaint stays quiet before it closes by itself (确保关闭), once no follow-up visit is pending: its visit was made, or it was exempt or declined. Counted from the later of its last change and its last visit.',
      ),
    timeZone: z
      .string()
      .max(100)
      .refine((zone) => IANAZone.isValidZone(zone), 'must be an IANA time zone such as Asia/Shanghai')
      .default(DEFAULT_TIME_ZONE)
      .describe(
        'The tenant’s time zone: where its days start and end for the daily inventory and reports, and how reply templates write times. Changing it recounts the tenant’s report counts in the same request (about 20 s per million complaints).',
      ),
    referenceFormat: referenceFormatSchema
      .default(DEFAULT_REFERENCE_FORMAT)
      .describe(
        'How new complaints’ references look, e.g. {"prefix":"BJ","year":true,"digits":7} for BJ-2026-0001234. Existing references keep theirs; numbers never restart, so no two complaints share one.',
      ),
    roles: z
      .array(z.string().trim().min(1).max(100))
      .min(1)
      .max(20)
      .default(DEFAULT_ROLES)
      .describe('Staff roles, most junior first; approvals go up this ladder.'),
    approvalLimits: z
      .array(approvalLimit)
      .max(200)
      .default([
        { role: 'handler', currency: 'CNY', maxAmount: 500 },
        { role: 'team_lead', currency: 'CNY', maxAmount: 5_000 },
        { role: 'department_manager', currency: 'CNY', maxAmount: 50_000 },
        // The ceiling (no buying customers off, seed 000): what no role may grant is refused.
        { role: 'general_manager', currency: 'CNY', maxAmount: 200_000 },
      ])
      .describe(
        'The approval matrix: what each role may grant per currency. An option above the proposer’s limit waits for a role whose limit covers it; one above every role’s limit (the ceiling, by default CNY 200,000, the general manager’s) is refused. A null limit removes the ceiling in that currency.',
      ),
    causes: z
      .array(causeSchema)
      .min(1)
      .max(200)
      .default(DEFAULT_CAUSES)
      .describe(
        'What complaints may be put down to (`cause` on a complaint), grouped into families; by default the causes of seed 003 §8.1.1 in Chinese and English. A code complaints already carry may be dropped: they keep it.',
      ),
  })
  .superRefine((settings, ctx) => {
    const codes = new Set<string>();
    settings.causes.forEach((cause, index) => {
      if (codes.has(cause.code)) {
        ctx.addIssue({
          code: 'custom',
          path: ['causes', index, 'code'],
          message: `'${cause.code}' is listed twice`,
        });
      }
      codes.add(cause.code);
    });
    settings.approvalLimits.forEach((limit, index) => {
      if (!settings.roles.includes(limit.role)) {
        ctx.addIssue({
          code: 'custom',
          path: ['approvalLimits', index, 'role'],
          message: `'${limit.role}' is not one of roles`,
        });
      }
    });
  })
  .meta({ id: 'WorkflowSettings' });

export type WorkflowSettings = z.output<typeof workflowSettingsSchema>;

/** The settings of a tenant that never changed them. */
export const DEFAULT_WORKFLOW_SETTINGS: WorkflowSettings = workflowSettingsSchema.parse({});
