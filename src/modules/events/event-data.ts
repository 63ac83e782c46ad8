import { z } from 'zod';
import {
  actorSchema,
  communicationSchema,
  complaintSchema,
  fieldChangeSchema,
  majorReasonSchema,
  rejectionCodeSchema,
  rejectionSchema,
  statusSchema,
} from '../complaints/complaints.schemas.js';
import { dataSubjectExportedEventDataSchema } from '../data-subjects/data-subject-event.js';
import { deadlineSchema } from '../deadlines/deadline-views.js';
import { escalationSchema } from '../escalations/escalations.schemas.js';
import { FOLLOW_UP_EXEMPTIONS } from '../follow-ups/follow-up-exemptions.js';
import { followUpSchema } from '../follow-ups/follow-ups.schemas.js';
import { conflictSchema } from '../ownership/ownership.schemas.js';
import { promiseSchema } from '../promises/promises.schemas.js';
import { extensionSchema } from '../regulatory-regimes/regulatory-regimes.schemas.js';
import { preRefundSchema, resolutionSchema } from '../resolutions/resolutions.schemas.js';
import { surveySchema } from '../surveys/surveys.schemas.js';
import { timelineDigestEventDataSchema } from '../timeline-integrity/timeline-integrity.schemas.js';
import { webhookSchema } from '../webhooks/webhooks.schemas.js';
import { type EventType, eventTypeNames } from './event-types.js';

/** What every event's `data` starts with: the tenant it belongs to. */
const tenantEvent = z.strictObject({ tenantId: z.uuid() });

/** What a complaint event's `data` starts with; toEventEnvelope adds it to every one. */
const complaintEvent = tenantEvent.extend({
  complaintId: z.uuid(),
  reference: z.string().describe('The complaint’s reference, C-000123.'),
  sequence: z
    .number()
    .int()
    .min(1)
    .describe('Per-complaint event number, gap-free and increasing: order and de-duplicate by it.'),
});

/** Who acted, where a person, a key or a rule of Redress did. */
const by = { actor: actorSchema };
const complaint = { complaint: complaintSchema.describe('The complaint as it stands after the change.') };
const resolution = { resolution: resolutionSchema, ...by };
const approval = {
  ...resolution,
  optionIds: z.array(z.uuid()).describe('The options the approver decided on.'),
};

/**
 * The `data` of each event type: the one home of its shape. Each subject is the zod schema the
 * REST API answers with (complaint, deadline, escalation …), so an event shows it exactly as the
 * API does. The tests hold every event the suite causes to its type's schema (test/event-catalog).
 * Objects are strict, so a field a writer adds without adding it here fails those tests.
 */
export const EVENT_DATA_SCHEMAS = {
  'complaint.created': complaintEvent.extend({ ...complaint, ...by }),
  'complaint.updated': complaintEvent.extend({
    ...complaint,
    changes: z.array(fieldChangeSchema).describe('The fields the edit changed.'),
    ...by,
  }),
  'complaint.status_changed': complaintEvent.extend({
    ...complaint,
    from: statusSchema,
    to: statusSchema,
    reason: z.string().nullable(),
    ...by,
    // Optional fields last: fast-json-stringify writes them after the required ones.
    reasonCode: rejectionCodeSchema
      .optional()
      .describe('Why the acceptance checks declined it, when intake rejected it.'),
  }),
  'complaint.assigned': complaintEvent.extend({
    ...complaint,
    previousAssignee: z.string().nullable(),
    ...by,
  }),
  'complaint.escalated': complaintEvent.extend({
    escalation: escalationSchema,
    ...complaint,
    deadline: deadlineSchema.nullable().describe('The breached deadline, for `breach` escalations.'),
    ...by,
  }),
  'complaint.closed': complaintEvent.extend({
    ...complaint,
    reason: z.string().nullable(),
    automatic: z
      .boolean()
      .describe('Closed by itself after the tenant’s quiet period (autoCloseAfter), not by a person.'),
    ...by,
  }),
  'complaint.desk_feedback_recorded': complaintEvent.extend({
    deskFeedback: z.strictObject({
      summary: z.string(),
      desk: z.string().nullable(),
      deadlineId: z.uuid().describe('The `desk_feedback` deadline it met.'),
    }),
    deadline: deadlineSchema,
    ...by,
  }),
  'complaint.reopened': complaintEvent.extend({
    ...complaint,
    from: statusSchema,
    reason: z.string().nullable(),
    ...by,
  }),
  'complaint.made_major': complaintEvent.extend({
    ...complaint,
    reasons: z.array(majorReasonSchema).describe('The reasons this change added.'),
    ...by,
    incidentKey: z.string().optional().describe('For `collective`: the incident the complaints share.'),
    linkedComplaints: z
      .number()
      .int()
      .optional()
      .describe('For `collective`: how many complaints the incident links.'),
    triggeredBy: z
      .string()
      .optional()
      .describe('For `collective`: the reference of the complaint that reached the threshold.'),
  }),
  'complaint.classified': complaintEvent.extend({
    ...complaint,
    changes: z.array(fieldChangeSchema).describe('The classification fields that changed.'),
    ...by,
  }),
  'complaint.handed_over': complaintEvent.extend({
    ...complaint,
    from: z.string().nullable(),
    to: z.string(),
    reason: z.string(),
    ...by,
  }),
  'complaint.conflict_declared': complaintEvent.extend({ conflict: conflictSchema, ...complaint, ...by }),
  'complaint.acceptance_overridden': complaintEvent.extend({
    ...complaint,
    rejection: rejectionSchema,
    reason: z.string(),
    supervisor: z.string(),
    ...by,
  }),
  'communication.recorded': complaintEvent.extend({ communication: communicationSchema, ...by }),
  'deadline.warning': complaintEvent.extend({
    deadline: deadlineSchema,
    warning: z.strictObject({
      index: z.number().int().min(0).describe('Which warning of the deadline, from 0.'),
      fraction: z.number().describe('The share of the deadline’s time that had passed.'),
    }),
  }),
  'deadline.breached': complaintEvent.extend({ deadline: deadlineSchema }),
  'deadline.met': complaintEvent.extend({
    deadline: deadlineSchema,
    late: z.boolean().describe('Met after its breach.'),
  }),
  'deadline.extended': complaintEvent.extend({
    deadline: deadlineSchema,
    extension: extensionSchema,
    ...by,
  }),
  'resolution.proposed': complaintEvent.extend(resolution),
  'resolution.approved': complaintEvent.extend(approval),
  'resolution.rejected': complaintEvent.extend(approval),
  'resolution.choice_recorded': complaintEvent.extend(resolution),
  'resolution.executed': complaintEvent.extend(resolution),
  'pre_refund.issued': complaintEvent.extend({ preRefund: preRefundSchema, ...by }),
  'pre_refund.verified': complaintEvent.extend({ preRefund: preRefundSchema, ...by }),
  'promise.made': complaintEvent.extend({ promise: promiseSchema, ...by }),
  'promise.kept': complaintEvent.extend({ promise: promiseSchema, ...by }),
  'promise.withdrawn': complaintEvent.extend({ promise: promiseSchema, ...by }),
  'survey.sent': complaintEvent.extend({ survey: surveySchema, ...by }),
  'survey.answered': complaintEvent.extend({ survey: surveySchema, ...by }),
  'follow_up.due': complaintEvent.extend({ followUp: followUpSchema, ...by }),
  'follow_up.exempted': complaintEvent.extend({
    exemption: z.strictObject({
      reason: z.enum(FOLLOW_UP_EXEMPTIONS),
      resolutionId: z.uuid().nullable(),
    }),
    ...by,
  }),
  'follow_up.completed': complaintEvent.extend({
    followUp: followUpSchema,
    attemptsExhausted: z.boolean().describe('The customer was unreachable on the last attempt allowed.'),
    ...by,
  }),
  'data_subject.exported': tenantEvent.extend(dataSubjectExportedEventDataSchema.shape),
  'timeline.digest': tenantEvent.extend(timelineDigestEventDataSchema.shape),
  'webhook.disabled': tenantEvent.extend({
    webhook: webhookSchema,
    // Only the endpoint disables a subscription by itself; `manual` is the tenant's own doing.
    reason: webhookSchema.shape.disabledReason.unwrap().exclude(['manual']),
  }),
  'webhook.ping': tenantEvent.extend({ webhook: webhookSchema.pick({ id: true, url: true }) }),
} as const satisfies Record<EventType, z.ZodObject>;

export type EventData<T extends EventType = EventType> = z.output<(typeof EVENT_DATA_SCHEMAS)[T]>;

/** The envelope of one event type: what a webhook delivers, the feed lists and a subscription hears. */
type EnvelopeSchema<T extends EventType> = z.ZodObject<
  { id: z.ZodString; type: z.ZodLiteral<T>; timestamp: z.ZodString; data: (typeof EVENT_DATA_SCHEMAS)[T] },
  z.core.$strict
>;

const envelopeOf = <T extends EventType>(type: T): EnvelopeSchema<T> => {
  const names = eventTypeNames(type);
  return z
    .strictObject({
      id: z.string().describe('`evt_…`; the same in every delivery, retry, redelivery and the feed.'),
      type: z.literal(type),
      timestamp: z.string().describe('When the change happened (ISO-8601, UTC).'),
      data: EVENT_DATA_SCHEMAS[type].meta({ id: names.data }),
    })
    .meta({ id: names.envelope }) as unknown as EnvelopeSchema<T>;
};

/** Each event type's envelope schema, by type. */
export const EVENT_SCHEMAS = Object.fromEntries(
  (Object.keys(EVENT_DATA_SCHEMAS) as EventType[]).map((type) => [type, envelopeOf(type)]),
) as { [T in EventType]: EnvelopeSchema<T> };
