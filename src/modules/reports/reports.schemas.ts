import { DateTime } from 'luxon';
import { z } from 'zod';
import { DEADLINE_KINDS } from '../sla-policies/sla-targets.js';
import { GROUP_BY } from './reports.repository.js';

export const localDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine((value) => DateTime.fromISO(value).isValid, 'must be a real calendar date');

export const inventoryQuery = z.strictObject({
  date: localDateSchema.optional().describe('The day, in the tenant time zone; defaults to today.'),
});

export const complianceQuery = z
  .strictObject({
    from: localDateSchema.describe('First day, in the tenant time zone.'),
    to: localDateSchema.describe('Last day (inclusive), at most 366 days after `from`.'),
    groupBy: z
      .enum(GROUP_BY)
      .optional()
      .describe('Split by the complaint’s channel, category, severity or assignee.'),
  })
  .refine((query) => query.from <= query.to, { message: 'must not be before from', path: ['to'] });

const counts = {
  received: z.number().int(),
  open: z
    .number()
    .int()
    .describe('Open (received to awaiting_customer) at the end of the day, or now for today.'),
  dueToday: z.number().int().describe('With a deadline falling due that day.'),
  overdue: z
    .number()
    .int()
    .describe('Open, with a deadline past due and unmet, at the end of the day, or now.'),
};

export const inventorySchema = z
  .object({
    date: z.string(),
    timeZone: z.string(),
    from: z.string(),
    to: z.string(),
    asOf: z.string().describe('The instant open and overdue are counted at.'),
    totals: z.object(counts),
    byHandler: z.array(z.object({ assignee: z.string().nullable(), ...counts })),
    bySeverity: z.array(z.object({ severity: z.string(), ...counts })),
  })
  .meta({ id: 'DailyInventory' });

export const complianceSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    timeZone: z.string(),
    groupBy: z.enum(GROUP_BY).nullable(),
    deadlines: z.array(
      z.object({
        group: z
          .string()
          .nullable()
          .describe('The group’s value; null without groupBy or where the complaint has none.'),
        kind: z.enum(DEADLINE_KINDS),
        metOnTime: z.number().int(),
        metLate: z.number().int(),
        breached: z.number().int().describe('Past due and still unmet.'),
        pending: z.number().int(),
        onTimePercent: z
          .number()
          .nullable()
          .describe('Met on time ÷ (met on time + met late + breached) × 100; null when none is decided.'),
      }),
    ),
    satisfaction: z.array(
      z.object({
        group: z.string().nullable(),
        satisfied: z.number().int(),
        unsatisfied: z.number().int(),
        unreachable: z.number().int(),
        declined: z.number().int(),
        scored: z.number().int(),
        averageScore: z.number().nullable().describe('Mean follow-up score (1–5), null when none was given.'),
      }),
    ),
  })
  .meta({ id: 'SlaComplianceReport' });

export type InventoryView = z.output<typeof inventorySchema>;
export type ComplianceView = z.output<typeof complianceSchema>;
export type ComplianceQuery = z.output<typeof complianceQuery>;
