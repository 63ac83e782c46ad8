import { z } from 'zod';
import { channelSchema } from '../complaints/complaints.schemas.js';
import { deadlineSchema } from '../deadlines/deadline-views.js';
import { localDateSchema } from '../reports/reports.schemas.js';
import { staffSchema } from '../resolutions/resolutions.schemas.js';
import { DEADLINE_KINDS } from '../sla-policies/sla-targets.js';
import { REGIME_IDS, REGIMES, type RegulatoryRegime } from './regimes.js';

const clockView = z.object({
  id: z.string(),
  label: z.string(),
  kind: z
    .enum(DEADLINE_KINDS)
    .nullable()
    .describe('The deadline kind it sets; null for a window the regime reads.'),
  duration: z.string().describe('ISO-8601, counted from receipt.'),
  clock: z.enum(['calendar', 'business']),
  endsOnWorkingDay: z.boolean(),
  citation: z.string(),
});

const extensionView = z.object({
  step: z.number().int().describe('1 for the first extension, 2 for the second.'),
  duration: z.string().describe('The new limit, ISO-8601, counted from receipt.'),
  clock: z.enum(['calendar', 'business']),
  endsOnWorkingDay: z.boolean(),
  approverRole: z.string().describe('The least role of the tenant’s ladder that may approve it.'),
  requiresPreRefund: z
    .boolean()
    .describe('The provisional credit (a pre-refund of the complaint) must come first.'),
  condition: z.string(),
  citation: z.string(),
});

export const regimeSchema = z
  .object({
    id: z.enum(REGIME_IDS),
    name: z.string(),
    jurisdiction: z.string(),
    citation: z.string(),
    clocks: z.array(clockView),
    extends: z.enum(DEADLINE_KINDS).describe('The deadline kind an extension moves.'),
    extensions: z.array(extensionView),
    holdingResponse: z
      .object({ required: z.boolean(), content: z.string(), citation: z.string() })
      .nullable()
      .describe(
        'What the customer must be told when the response will be late: the extension’s customer notice.',
      ),
  })
  .meta({ id: 'RegulatoryRegime' });

export const regimeListSchema = z
  .object({ data: z.array(regimeSchema) })
  .meta({ id: 'RegulatoryRegimeList' });

/** A catalogue entry as the API shows it. */
export function toRegimeView(regime: RegulatoryRegime): z.output<typeof regimeSchema> {
  return {
    id: regime.id,
    name: regime.name,
    jurisdiction: regime.jurisdiction,
    citation: regime.citation,
    clocks: regime.clocks.map((clock) => ({
      id: clock.id,
      label: clock.label,
      kind: clock.kind,
      duration: clock.duration,
      clock: clock.clock,
      endsOnWorkingDay: clock.endsOnWorkingDay ?? false,
      citation: clock.citation,
    })),
    extends: regime.extends,
    extensions: regime.extensions.map((step, index) => ({
      step: index + 1,
      duration: step.duration,
      clock: step.clock,
      endsOnWorkingDay: step.endsOnWorkingDay ?? false,
      approverRole: step.approverRole,
      requiresPreRefund: step.requiresPreRefund ?? false,
      condition: step.condition,
      citation: step.citation,
    })),
    holdingResponse: regime.holdingResponse,
  };
}

export const regimeCatalogue = () => REGIME_IDS.map((id) => toRegimeView(REGIMES[id]));

const text = (max: number) => z.string().trim().min(1).max(max);

export const extensionBody = z
  .strictObject({
    reason: text(5_000).describe('Why the deadline needs more time; kept on the timeline.'),
    approver: staffSchema.describe(
      'Who approved it; the regime says the least role that may (GET /v1/regulatory-regimes).',
    ),
    customerNotice: z
      .strictObject({
        channel: channelSchema.describe('How the holding reply reached the customer.'),
        body: text(20_000).describe('The exact text sent: the reasons for the delay and the new deadline.'),
      })
      .describe('The holding reply, recorded as an outbound communication.'),
  })
  .meta({ id: 'DeadlineExtensionRequest' });

export type ExtensionInput = z.output<typeof extensionBody>;

export const extensionSchema = z
  .object({
    regime: z.enum(REGIME_IDS),
    step: z.number().int().describe('1 for the regime’s first extension, 2 for its second.'),
    previousDueAt: z.string(),
    dueAt: z.string(),
    reason: z.string(),
    approver: staffSchema,
    citation: z.string().describe('The rule allowing the extension.'),
    communicationId: z.uuid().describe('The customer notice, as a communication of the complaint.'),
  })
  .meta({ id: 'DeadlineExtension' });

export const extendedDeadlineSchema = z
  .object({ deadline: deadlineSchema, extension: extensionSchema })
  .meta({ id: 'ExtendedDeadline' });

export const regimeReportQuery = z
  .strictObject({
    regime: z.enum(REGIME_IDS).describe('The regime whose complaints to count.'),
    from: localDateSchema.describe('First day of receipt, in the tenant time zone.'),
    to: localDateSchema.describe('Last day of receipt (inclusive), at most 366 days after `from`.'),
  })
  .refine((query) => query.from <= query.to, { message: 'must not be before from', path: ['to'] });

export type RegimeReportQuery = z.output<typeof regimeReportQuery>;

export const regimeReportSchema = z
  .object({
    regime: z.enum(REGIME_IDS),
    name: z.string(),
    citation: z.string(),
    from: z.string(),
    to: z.string(),
    timeZone: z.string(),
    asOf: z.string().describe('Clocks still running at this instant are not yet decided.'),
    received: z
      .number()
      .int()
      .describe('Complaints received in the period under a policy made from the regime.'),
    closed: z.number().int().describe('Of those, resolved or closed now.'),
    extensionsUsed: z.number().int().describe('Extension steps taken on their regime deadlines.'),
    extendedComplaints: z.number().int().describe('Complaints with at least one extension.'),
    breaches: z.number().int().describe('Their regime deadlines that were breached (kept when met late).'),
    clocks: z.array(
      z.object({
        id: z.string(),
        label: z.string(),
        kind: z.enum(DEADLINE_KINDS).nullable(),
        duration: z.string(),
        clock: z.enum(['calendar', 'business']),
        citation: z.string(),
        decided: z.number().int().describe('Complaints whose clock ran out or whose deadline was met.'),
        within: z
          .number()
          .int()
          .describe('Of those, answered within the clock counted from receipt (before any extension).'),
        withinPercent: z
          .number()
          .nullable()
          .describe('within / decided, to one decimal; null when none is decided.'),
      }),
    ),
  })
  .meta({ id: 'RegulatoryComplianceReport' });

export type RegimeReportView = z.output<typeof regimeReportSchema>;
