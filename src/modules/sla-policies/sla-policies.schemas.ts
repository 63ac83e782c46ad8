import { z } from 'zod';
import { instantSchema } from '../../http/instant.js';
import { channelSchema, severitySchema } from '../../modules/complaints/complaints.schemas.js';
import { parseIsoDuration } from '../calendars/business-time.js';
import { escalationTargetsSchema } from '../escalations/escalations.schemas.js';
import { REGIME_IDS } from '../regulatory-regimes/regimes.js';
import type { PolicyRow } from './sla-policies.repository.js';
import { DEADLINE_KINDS, TARGET_KEYS, withDefaultTargets } from './sla-targets.js';

const MAX_DURATION_MS = 366 * 24 * 3_600_000;

export const isoDurationSchema = z
  .string()
  .max(40)
  .superRefine((text, ctx) => {
    try {
      const ms = parseIsoDuration(text);
      if (ms <= 0) ctx.addIssue({ code: 'custom', message: 'must be longer than zero' });
      else if (ms > MAX_DURATION_MS) ctx.addIssue({ code: 'custom', message: 'must be at most one year' });
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  })
  .describe('ISO-8601 duration such as PT24H, PT4H, P5D or PT2S (years and months are not allowed).');

const targetSchema = z
  .strictObject({
    duration: isoDurationSchema,
    clock: z
      .enum(['calendar', 'business'])
      .describe('`business` counts only the open hours of the policy calendar; days are working days.'),
  })
  .meta({ id: 'SlaTarget' });

const targetsInput = z
  .strictObject(
    Object.fromEntries(TARGET_KEYS.map((key) => [key, targetSchema.optional()])) as Record<
      (typeof TARGET_KEYS)[number],
      z.ZodOptional<typeof targetSchema>
    >,
  )
  .describe('Targets not given take the defaults (PT24H, PT4H, P5D business, PT24H, PT24H, PT4H, P3D).');

const matchSchema = z
  .strictObject({
    channels: z.array(channelSchema).max(20).default([]),
    categories: z.array(z.string().trim().min(1).max(100)).max(100).default([]),
    severities: z.array(severitySchema).max(2).default([]),
  })
  .describe('Empty lists match everything.');

// Four decimal places at most: the fractions are stored as 4-byte reals, which turned 1e-300
// into an out-of-range error (500) and rounded 0.999999991 and 0.999999992 both to 1.
const warnFraction = z
  .number()
  .min(0.0001)
  .max(0.9999)
  .refine(
    (value) => Math.abs(value * 10_000 - Math.round(value * 10_000)) < 1e-6,
    'at most four decimal places',
  );
const warnAtSchema = z
  .array(warnFraction)
  .max(5)
  .refine((values) => new Set(values).size === values.length, 'must not repeat a fraction')
  .transform((values) => [...values].sort((a, b) => a - b))
  .describe('Fractions of the allowed time at which a warning fires.');

export const createPolicyBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    priority: z.number().int().min(0).max(100_000).describe('Lower wins when several policies match.'),
    match: matchSchema.default({ channels: [], categories: [], severities: [] }),
    calendarId: z.uuid().nullable().default(null),
    warnAt: warnAtSchema.default([0.75]),
    targets: targetsInput.default({}),
    escalationTargets: escalationTargetsSchema.optional(),
    active: z.boolean().default(true),
  })
  .meta({ id: 'SlaPolicyCreate' });

export const regimeIdSchema = z
  .enum(REGIME_IDS)
  .describe('A regulatory template of GET /v1/regulatory-regimes.')
  .meta({ id: 'RegimeId' });

export const policyFromRegimeBody = z
  .strictObject({
    regime: regimeIdSchema,
    name: z.string().trim().min(1).max(100).optional().describe('Defaults to the regime’s name.'),
    priority: z
      .number()
      .int()
      .min(0)
      .max(100_000)
      .default(100)
      .describe('Lower wins when several policies match.'),
    match: matchSchema
      .default({ channels: [], categories: [], severities: [] })
      .describe('The categories or channels the regime governs; empty lists match everything.'),
    calendarId: z
      .uuid()
      .nullable()
      .default(null)
      .describe(
        'The calendar business days and working days are read in; required when the regime counts them.',
      ),
    warnAt: warnAtSchema.default([0.75]),
    active: z.boolean().default(true),
  })
  .meta({ id: 'SlaPolicyFromRegime' });

export const updatePolicyBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional(),
    priority: z.number().int().min(0).max(100_000).optional(),
    match: matchSchema.optional(),
    calendarId: z.uuid().nullable().optional(),
    warnAt: warnAtSchema.optional(),
    targets: targetsInput.optional().describe('Targets given replace those of the current version.'),
    escalationTargets: escalationTargetsSchema.optional(),
    active: z.boolean().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'must change at least one field')
  .meta({ id: 'SlaPolicyUpdate' });

/** How far ahead a preview may look: due times computed from later instants could pass year 9999. */
const PREVIEW_HORIZON_YEARS = 100;

export const previewBody = z
  .strictObject({
    receivedAt: instantSchema.refine(
      (value) => Date.parse(value) <= Date.now() + PREVIEW_HORIZON_YEARS * 365.25 * 86_400_000,
      `must be at most ${PREVIEW_HORIZON_YEARS} years from now`,
    ),
    channel: channelSchema,
    severity: severitySchema.default('general'),
    category: z.string().trim().min(1).max(100).nullable().default(null),
  })
  .meta({ id: 'SlaPreviewRequest' });

export const policyIdParams = z.object({ id: z.uuid() });

const targetView = z.object({
  duration: z.string(),
  clock: z.enum(['calendar', 'business']),
  endsOnWorkingDay: z
    .boolean()
    .optional()
    .describe(
      'Set by regulatory templates: a due time on a closed day of the calendar moves to the next working day.',
    ),
});

export const policySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    priority: z.number().int(),
    match: z.object({
      channels: z.array(z.string()),
      categories: z.array(z.string()),
      severities: z.array(z.string()),
    }),
    calendarId: z.uuid().nullable(),
    warnAt: z.array(z.number()),
    targets: z.object(
      Object.fromEntries(TARGET_KEYS.map((key) => [key, targetView])) as Record<
        (typeof TARGET_KEYS)[number],
        typeof targetView
      >,
    ),
    escalationTargets: escalationTargetsSchema,
    isDefault: z.boolean(),
    regime: regimeIdSchema.nullable().describe('The regulatory template the policy was made from, if any.'),
    active: z.boolean(),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'SlaPolicy' });

export const policyListSchema = z.object({ data: z.array(policySchema) }).meta({ id: 'SlaPolicyList' });

export const previewSchema = z
  .object({
    policyId: z.uuid(),
    policyVersion: z.number().int(),
    deadlines: z.array(
      z.object({
        kind: z.enum(DEADLINE_KINDS),
        clock: z.enum(['calendar', 'business']),
        duration: z.string(),
        startsAt: z.string(),
        dueAt: z.string(),
        warnAts: z.array(z.string()),
      }),
    ),
  })
  .meta({ id: 'SlaPreview' });

export type CreatePolicyInput = z.output<typeof createPolicyBody>;
export type PolicyFromRegimeInput = z.output<typeof policyFromRegimeBody>;
export type UpdatePolicyInput = z.output<typeof updatePolicyBody>;
export type PreviewInput = z.output<typeof previewBody>;

export function toPolicyView(row: PolicyRow): z.output<typeof policySchema> {
  return {
    id: row.id,
    name: row.name,
    priority: row.priority,
    match: row.match,
    calendarId: row.calendarId,
    warnAt: row.warnAt,
    targets: withDefaultTargets(row.targets),
    escalationTargets: row.escalationTargets,
    isDefault: row.isDefault,
    regime: (row.regime as z.output<typeof regimeIdSchema> | null) ?? null,
    active: row.active,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
