import { z } from 'zod';
import {
  acceptanceRejectionCode,
  communicationDirection,
  complainantRelation,
  complaintChannel,
  complaintNeedType,
  complaintPriority,
  complaintResponsibility,
  complaintSeverity,
  liabilityFinding,
  majorReason,
  nonLiabilityReason,
  qualityClass,
} from '../../db/schema/index.js';
import { instantSchema } from '../../http/instant.js';
import { commaSeparatedEnum } from '../../http/query-params.js';
import { nextDeadlineSchema } from '../deadlines/deadline-views.js';
import { templateVariablesSchema } from '../reply-templates/reply-templates.schemas.js';
import { causeCodeSchema } from '../settings/settings.schemas.js';
import { classificationProblems } from './classification.js';
import { COMPLAINT_KEY_PATTERN } from './complaint-reference.js';
import { COMPLAINT_STATUSES } from './complaint-status.js';

export const METADATA_MAX_BYTES = 16_384;

export const channelSchema = z.enum(complaintChannel.enumValues).meta({ id: 'Channel' });
export const statusSchema = z.enum(COMPLAINT_STATUSES).meta({ id: 'ComplaintStatus' });
export const severitySchema = z.enum(complaintSeverity.enumValues).meta({ id: 'Severity' });
export const prioritySchema = z.enum(complaintPriority.enumValues).meta({ id: 'Priority' });
export const directionSchema = z.enum(communicationDirection.enumValues);
export const complainantRelationSchema = z
  .enum(complainantRelation.enumValues)
  .meta({ id: 'ComplainantRelation' })
  .describe('Who complains: the affected party, immediate family, their representative, or someone else.');
export const rejectionCodeSchema = z.enum(acceptanceRejectionCode.enumValues).meta({ id: 'RejectionCode' });
export const responsibilitySchema = z
  .enum(complaintResponsibility.enumValues)
  .meta({ id: 'Responsibility' })
  .describe(
    'own: our service; upstream: an upstream party (developer, manufacturer, supplier), forwarded to ' +
      '`upstreamParty` and still ours to follow up; external: the environment or third parties.',
  );
export const qualityClassSchema = z
  .enum(qualityClass.enumValues)
  .meta({ id: 'QualityClass' })
  .describe('Quality (品质异常: the product or service itself was faulty) or non-quality (非品质异常).');

export const needTypeSchema = z
  .enum(complaintNeedType.enumValues)
  .meta({ id: 'NeedType' })
  .describe(
    'What the customer needs first: an immediate fix, a long-term improvement, or emotional redress.',
  );
export const majorReasonSchema = z.enum(majorReason.enumValues).meta({ id: 'MajorReason' });
const nonLiabilityReasonSchema = z.enum(nonLiabilityReason.enumValues).meta({ id: 'NonLiabilityReason' });

const instant = instantSchema;
const text = (max: number) => z.string().trim().min(1).max(max);

export const complaintKeyParams = z.object({
  id: z
    .string()
    .regex(COMPLAINT_KEY_PATTERN, 'must be a complaint id (UUID) or reference such as C-000123')
    .describe('The complaint id (UUID) or its reference (C-000123).'),
});

const customerFields = {
  name: text(200),
  phone: z
    .string()
    .trim()
    .min(3)
    .max(40)
    .regex(/^[0-9+()\-.\s]+$/, 'must contain only digits, spaces and + ( ) - .'),
  email: z.email().max(254),
  address: text(500),
  externalId: text(200).describe("The customer's id in the calling system"),
};

const metadataSchema = z
  .record(z.string().min(1).max(100), z.unknown())
  .refine(
    (value) => Buffer.byteLength(JSON.stringify(value)) <= METADATA_MAX_BYTES,
    `must serialise to at most ${METADATA_MAX_BYTES} bytes of JSON`,
  )
  .describe('Free JSON for sector extras (room number, car plate, account number); at most 16 KB.');

/** Staff referred to by name or by their id in the calling system. */
export const staffSchema = text(200);

const subjectStaffSchema = z
  .array(staffSchema)
  .max(20)
  .refine(
    (staff) => new Set(staff.map((name) => name.toLowerCase())).size === staff.length,
    'must not repeat a person',
  )
  .describe('Staff the complaint is about (names or ids); none of them may handle it.');

const liabilityInput = z
  .discriminatedUnion('finding', [
    z.strictObject({ finding: z.literal('liable'), note: text(2_000).optional() }),
    z.strictObject({
      finding: z.literal('not_liable'),
      reason: nonLiabilityReasonSchema,
      note: text(2_000).describe('What the finding rests on.'),
    }),
  ])
  .meta({ id: 'LiabilityFinding' })
  .describe('The liability finding: liable, or not liable with a reason and a note (判断无责的情景).');

const incidentKeySchema = text(200).describe(
  'Links complaints about the same matter; enough of them (settings `collectiveThreshold`) make it a collective, major complaint.',
);

const tagsSchema = z
  .array(z.string().trim().min(1).max(50))
  .max(20)
  .refine((tags) => new Set(tags).size === tags.length, 'must not repeat a tag');

export const createComplaintBody = z
  .strictObject({
    channel: channelSchema,
    severity: severitySchema.default('general'),
    priority: prioritySchema.default('normal'),
    category: text(100).optional(),
    subject: text(200),
    description: text(10_000),
    customer: z.strictObject({
      name: customerFields.name.optional(),
      phone: customerFields.phone.optional(),
      email: customerFields.email.optional(),
      address: customerFields.address.optional(),
      externalId: customerFields.externalId.optional(),
    }),
    desiredOutcome: text(2_000).optional().describe('What the customer asks for (诉求).'),
    occurredAt: instant.optional().describe('When the event complained about happened.'),
    receivedAt: instant.optional().describe('When the complaint was received; defaults to now.'),
    receivedBy: text(200)
      .optional()
      .describe(
        'The first receiver, who owns the complaint until it is handed over; defaults to the acting person or API key.',
      ),
    assignee: text(200).optional().describe('Defaults to the first receiver (首问负责).'),
    externalRef: text(200).optional().describe("The caller's own id; unique per tenant."),
    complainantRelation: complainantRelationSchema.default('self'),
    complainantAuthorised: z
      .boolean()
      .default(false)
      .describe(
        "The complainant holds the affected party's authority: needed when related as 'representative' (a proxy complaint) or 'other'.",
      ),
    responsibility: responsibilitySchema.optional(),
    upstreamParty: text(200)
      .optional()
      .describe("The upstream party; required for responsibility 'upstream'."),
    needType: needTypeSchema.optional(),
    qualityClass: qualityClassSchema.optional(),
    cause: causeCodeSchema.optional(),
    liability: liabilityInput.optional(),
    mediaExposure: z.boolean().default(false).describe('The customer threatens media exposure: major.'),
    regulatorInvolved: z
      .boolean()
      .default(false)
      .describe('Raised with a regulator or the manufacturer: major.'),
    premisesBlocked: z.boolean().default(false).describe('The customer blocks the premises (堵门): major.'),
    highValueReturn: z
      .boolean()
      .default(false)
      .describe('The customer returns or exchanges high-value goods: major.'),
    negativeMediaCoverage: z
      .boolean()
      .default(false)
      .describe('The matter has had negative media coverage: major.'),
    incidentKey: incidentKeySchema.optional(),
    subjectStaff: subjectStaffSchema.default([]),
    tags: tagsSchema.default([]),
    metadata: metadataSchema.default({}),
  })
  .superRefine((body, ctx) => {
    for (const problem of classificationProblems(body)) {
      ctx.addIssue({ code: 'custom', path: ['upstreamParty'], message: problem.message });
    }
  })
  .meta({ id: 'ComplaintCreate' });

export const updateComplaintBody = z
  .strictObject({
    severity: severitySchema.optional(),
    priority: prioritySchema.optional(),
    category: text(100).nullable().optional(),
    subject: text(200).optional(),
    description: text(10_000).optional(),
    customer: z
      .strictObject({
        name: customerFields.name.nullable().optional(),
        phone: customerFields.phone.nullable().optional(),
        email: customerFields.email.nullable().optional(),
        address: customerFields.address.nullable().optional(),
        externalId: customerFields.externalId.nullable().optional(),
      })
      .optional()
      .describe('Only the fields sent change; null clears one.'),
    desiredOutcome: text(2_000).nullable().optional(),
    occurredAt: instant.nullable().optional(),
    assignee: staffSchema
      .optional()
      .describe('The new owner; the same recusal rules as a handover apply. A complaint always has one.'),
    responsibility: responsibilitySchema
      .nullable()
      .optional()
      .describe("Moving away from 'upstream' clears upstreamParty."),
    upstreamParty: text(200).nullable().optional(),
    needType: needTypeSchema.nullable().optional(),
    qualityClass: qualityClassSchema.nullable().optional(),
    cause: causeCodeSchema.nullable().optional().describe('Recorded when the cause is found.'),
    rootCauseNote: text(2_000)
      .nullable()
      .optional()
      .describe('What lay behind the cause, written at resolution.'),
    liability: liabilityInput.nullable().optional().describe('Replaces the whole finding; null clears it.'),
    mediaExposure: z.boolean().optional(),
    regulatorInvolved: z.boolean().optional(),
    premisesBlocked: z.boolean().optional(),
    highValueReturn: z.boolean().optional(),
    negativeMediaCoverage: z.boolean().optional(),
    incidentKey: incidentKeySchema.nullable().optional(),
    subjectStaff: subjectStaffSchema.optional().describe('Replaces the whole list.'),
    tags: tagsSchema.optional(),
    metadata: metadataSchema.optional().describe('Replaces the whole metadata object.'),
  })
  .refine((body) => Object.keys(body).length > 0, 'must change at least one field')
  .meta({ id: 'ComplaintUpdate' });

export const transitionBody = z
  .strictObject({
    to: statusSchema,
    reason: text(2_000).optional().describe('Required when rejecting, withdrawing or reopening.'),
  })
  .meta({ id: 'ComplaintTransition' });

export const acceptanceOverrideBody = z
  .strictObject({
    reason: text(2_000).describe('Why the complaint is taken in after all; the customer may be told.'),
    supervisor: staffSchema.describe('The supervisor who decided.'),
  })
  .meta({ id: 'AcceptanceOverride' });

export const deskFeedbackBody = z
  .strictObject({
    summary: text(2_000).describe(
      'What was fed back: the resolution, its measures and the customer’s answer.',
    ),
    desk: text(200).optional().describe('The central service desk it went to, when there are several.'),
  })
  .meta({ id: 'DeskFeedback' });

/** Longest communication body, written directly or rendered from a template. */
export const COMMUNICATION_BODY_MAX = 20_000;

export const createCommunicationBody = z
  .strictObject({
    direction: directionSchema,
    channel: channelSchema,
    body: text(COMMUNICATION_BODY_MAX)
      .optional()
      .describe(
        'What was said or sent. Leave out with `templateId` to send the template rendered for this complaint.',
      ),
    templateId: z
      .uuid()
      .optional()
      .describe('The reply template the text comes from; the communication records the version used.'),
    variables: templateVariablesSchema
      .optional()
      .describe('Values for template variables the complaint does not supply (with `templateId`).'),
    contactMade: z.boolean().describe('True when the customer was actually reached (not a missed call).'),
    occurredAt: instant.optional().describe('Defaults to now.'),
    nextUpdateBy: instant
      .optional()
      .describe(
        'For outbound contact: when the handler promised the customer the next update (确定下次回复的时间).',
      ),
  })
  .superRefine((body, ctx) => {
    if (body.body === undefined && body.templateId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['body'], message: 'is required unless templateId is given' });
    }
    if (body.variables !== undefined && body.templateId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['variables'], message: 'only applies with templateId' });
    }
  })
  .meta({ id: 'CommunicationCreate' });

/** How the complaint list is ordered. */
export const complaintOrderSchema = z
  .enum(['received', 'immediate_first'])
  .describe(
    '`received`: newest received first. `immediate_first`: complaints needing an immediate fix first, then the rest, each newest received first (handle immediate needs first, seed 004).',
  );

/** The filters of the complaint list that REST takes as query parameters and GraphQL as `filter`. */
const complaintFilterFields = {
  category: text(100),
  assignee: text(200),
  incidentKey: text(200).describe('Complaints linked to this incident.'),
  cause: causeCodeSchema,
  receivedFrom: instant.describe('Received at or after this instant.'),
  receivedTo: instant.describe('Received before this instant.'),
  q: text(200).describe('Text search in subject, description and customer name.'),
};
const pageCursor = z.string().min(1).max(500);

export const listComplaintsQuery = z.strictObject({
  status: commaSeparatedEnum(COMPLAINT_STATUSES, 'status').optional(),
  channel: commaSeparatedEnum(complaintChannel.enumValues, 'channel').optional(),
  severity: severitySchema.optional(),
  category: complaintFilterFields.category.optional(),
  assignee: complaintFilterFields.assignee.optional(),
  incidentKey: complaintFilterFields.incidentKey.optional(),
  qualityClass: qualityClassSchema.optional(),
  cause: complaintFilterFields.cause.optional(),
  needType: commaSeparatedEnum(complaintNeedType.enumValues, 'needType')
    .optional()
    .describe('Complaints with one of these need types.'),
  order: complaintOrderSchema.default('received'),
  receivedFrom: complaintFilterFields.receivedFrom.optional(),
  receivedTo: complaintFilterFields.receivedTo.optional(),
  q: complaintFilterFields.q.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: pageCursor.optional().describe('`nextCursor` from the previous page.'),
});

/** GraphQL's `complaints(filter, first, after)`, checked as REST checks its query, to the same query. */
export const complaintsArgs = z
  .strictObject({
    filter: z
      .strictObject({
        status: z.array(statusSchema).max(COMPLAINT_STATUSES.length).nullish(),
        channel: z.array(channelSchema).max(complaintChannel.enumValues.length).nullish(),
        severity: severitySchema.nullish(),
        category: complaintFilterFields.category.nullish(),
        assignee: complaintFilterFields.assignee.nullish(),
        incidentKey: complaintFilterFields.incidentKey.nullish(),
        qualityClass: qualityClassSchema.nullish(),
        cause: complaintFilterFields.cause.nullish(),
        needType: z.array(needTypeSchema).max(complaintNeedType.enumValues.length).nullish(),
        receivedFrom: complaintFilterFields.receivedFrom.nullish(),
        receivedTo: complaintFilterFields.receivedTo.nullish(),
        q: complaintFilterFields.q.nullish(),
      })
      .nullish(),
    order: complaintOrderSchema.nullish(),
    first: z.number().int().min(1).max(100),
    after: pageCursor.nullish(),
  })
  .transform(
    ({ filter, order, first, after }): ListComplaintsQuery => ({
      status: filter?.status?.length ? filter.status : undefined,
      channel: filter?.channel?.length ? filter.channel : undefined,
      severity: filter?.severity ?? undefined,
      category: filter?.category ?? undefined,
      assignee: filter?.assignee ?? undefined,
      incidentKey: filter?.incidentKey ?? undefined,
      qualityClass: filter?.qualityClass ?? undefined,
      cause: filter?.cause ?? undefined,
      needType: filter?.needType?.length ? filter.needType : undefined,
      order: order ?? 'received',
      receivedFrom: filter?.receivedFrom ?? undefined,
      receivedTo: filter?.receivedTo ?? undefined,
      q: filter?.q ?? undefined,
      limit: first,
      cursor: after ?? undefined,
    }),
  );

/** A page size and cursor as GraphQL connections take them: at most 100, as on REST. */
export const pageArgs = z.strictObject({
  first: z.number().int().min(1).max(100),
  after: pageCursor.nullish(),
});

export const listTimelineQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().min(1).max(500).optional(),
});

const MASKED_FREE_TEXT =
  'Personal data: without `personal_data:read`, the fixed text `[masked: personal data]`.';

export const actorSchema = z
  .object({
    type: z
      .enum(['api_key', 'system', 'user'])
      .describe('`user`: a person signed in with an access token, `id` being their subject (`sub`).'),
    id: z.string().nullable(),
    name: z.string(),
    onBehalfOf: z.string().nullable(),
  })
  .meta({ id: 'Actor' });

/** Why the acceptance checks declined a complaint at intake. */
export const rejectionSchema = z
  .object({ code: rejectionCodeSchema, detail: z.string() })
  .meta({ id: 'ComplaintRejection' });

/** One field a change touched, with its value before and after. */
export const fieldChangeSchema = z
  .object({ field: z.string(), before: z.unknown(), after: z.unknown() })
  .meta({ id: 'FieldChange' });

export const complaintSchema = z
  .object({
    id: z.uuid(),
    reference: z
      .string()
      .describe(
        'C-000123, numbered per tenant: six digits, zero-padded, and more past C-999999 (C-1000000).',
      ),
    status: statusSchema,
    channel: channelSchema,
    severity: severitySchema,
    priority: prioritySchema,
    category: z.string().nullable(),
    subject: z.string(),
    description: z.string().describe(MASKED_FREE_TEXT),
    customer: z
      .object({
        name: z.string().nullable(),
        phone: z.string().nullable(),
        email: z.string().nullable(),
        address: z.string().nullable(),
        externalId: z.string().nullable(),
      })
      .describe(
        'Personal data: without `personal_data:read`, masked, as in `Wang F***` (王*), `+86 138****8000`, ' +
          '`w***@example.com`, the external id `CR***45`, and the address as `[masked: personal data]`.',
      ),
    desiredOutcome: z.string().nullable().describe(MASKED_FREE_TEXT),
    occurredAt: z.string().nullable(),
    receivedAt: z.string(),
    receivedBy: z.string(),
    assignee: z.string().nullable(),
    escalationLevel: z.number().int().min(0).max(3),
    externalRef: z.string().nullable(),
    complainantRelation: complainantRelationSchema,
    complainantAuthorised: z.boolean(),
    rejection: rejectionSchema
      .nullable()
      .describe(
        'Why the acceptance checks declined the complaint at intake (status `rejected`); null otherwise.',
      ),
    acceptanceOverride: z
      .object({
        rejectionCode: rejectionCodeSchema,
        reason: z.string(),
        supervisor: z.string(),
        overriddenAt: z.string(),
      })
      .nullable()
      .describe('A supervisor took the complaint in after the acceptance checks declined it.'),
    responsibility: responsibilitySchema.nullable(),
    upstreamParty: z.string().nullable(),
    needType: needTypeSchema.nullable(),
    qualityClass: qualityClassSchema.nullable(),
    cause: z.string().nullable().describe("A code of the tenant's causes; null until found."),
    rootCauseNote: z.string().nullable(),
    liability: z
      .object({
        finding: z.enum(liabilityFinding.enumValues),
        reason: nonLiabilityReasonSchema.nullable(),
        note: z.string().nullable(),
      })
      .nullable(),
    majorReasons: z
      .array(majorReasonSchema)
      .describe('Why the complaint is major; empty while it is general.'),
    majorSince: z.string().nullable().describe('When it last became major.'),
    mediaExposure: z.boolean(),
    regulatorInvolved: z.boolean(),
    premisesBlocked: z.boolean(),
    highValueReturn: z.boolean(),
    negativeMediaCoverage: z.boolean(),
    incidentKey: z.string().nullable(),
    subjectStaff: z.array(z.string()),
    tags: z.array(z.string()),
    metadata: z.record(z.string(), z.unknown()),
    version: z.number().int(),
    nextDeadline: nextDeadlineSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Complaint' });

export const complaintPageSchema = z
  .object({ data: z.array(complaintSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'ComplaintPage' });

export const communicationSchema = z
  .object({
    id: z.uuid(),
    complaintId: z.uuid(),
    direction: directionSchema,
    channel: channelSchema,
    body: z.string().describe(MASKED_FREE_TEXT),
    contactMade: z.boolean(),
    occurredAt: z.string(),
    recordedBy: actorSchema,
    template: z
      .object({ id: z.uuid(), version: z.number().int() })
      .nullable()
      .describe('The reply template the text came from, and its version then.'),
    createdAt: z.string(),
  })
  .meta({ id: 'Communication' });

export const communicationListSchema = z.object({ data: z.array(communicationSchema) });

export const timelineEntrySchema = z
  .object({
    id: z.string().describe('Increasing within a complaint; entries are never changed or removed.'),
    type: z
      .string()
      .describe(
        'complaint.created, complaint.updated, complaint.status_changed, complaint.made_major, ' +
          'complaint.handed_over, complaint.conflict_declared, complaint.acceptance_overridden, ' +
          'complaint.escalated, communication.recorded, deadline.met, deadline.breached',
      ),
    actor: actorSchema,
    occurredAt: z.string(),
    changes: z.array(fieldChangeSchema).nullable(),
    data: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'TimelineEntry' })
  .describe(
    'Without `personal_data:read`, the personal fields in `changes` and `data` (the complaint as taken in, a ' +
      'communication) are masked as on the complaint.',
  );

export const timelinePageSchema = z
  .object({ data: z.array(timelineEntrySchema), nextCursor: z.string().nullable() })
  .meta({ id: 'TimelinePage' });

export type CreateComplaintInput = z.output<typeof createComplaintBody>;
export type UpdateComplaintInput = z.output<typeof updateComplaintBody>;
export type TransitionInput = z.output<typeof transitionBody>;
export type AcceptanceOverrideInput = z.output<typeof acceptanceOverrideBody>;
export type CreateCommunicationInput = z.output<typeof createCommunicationBody>;
export type DeskFeedbackInput = z.output<typeof deskFeedbackBody>;
export type ListComplaintsQuery = z.output<typeof listComplaintsQuery>;
export type ComplaintView = z.output<typeof complaintSchema>;
export type CommunicationView = z.output<typeof communicationSchema>;
export type TimelineEntryView = z.output<typeof timelineEntrySchema>;
