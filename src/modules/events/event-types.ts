/**
 * The catalogue of events Redress emits. Webhooks, the pull feed and live subscriptions all carry
 * these types; the README and the OpenAPI `webhooks` section are written from this list, so a
 * type added here is documented everywhere at once. The shape of each type's `data` lives in
 * event-data.ts, which must name every type here (it does not compile otherwise).
 */
export const EVENT_CATALOGUE = {
  'complaint.created': { subject: 'complaint', summary: 'A complaint was taken in.' },
  'complaint.updated': { subject: 'complaint', summary: 'Editable fields of a complaint changed.' },
  'complaint.status_changed': { subject: 'complaint', summary: 'A complaint moved to another status.' },
  'complaint.assigned': { subject: 'complaint', summary: 'A complaint got a new assignee.' },
  'complaint.escalated': {
    subject: 'escalation',
    summary: 'A complaint went up an escalation level: on a breach, as a major complaint, or by hand.',
  },
  'complaint.closed': {
    subject: 'complaint',
    summary:
      'A complaint was closed (`reason`): by hand, or by itself (`automatic: true`) once it stayed resolved and quiet for the tenant’s `autoCloseAfter` with no follow-up visit pending.',
  },
  'complaint.desk_feedback_recorded': {
    subject: 'complaint',
    summary:
      'A resolution was fed back to the central service desk (`deskFeedback`), meeting its `desk_feedback` deadline (`deadline`).',
  },
  'complaint.reopened': {
    subject: 'complaint',
    summary: 'A resolved or closed complaint went back to investigating.',
  },
  'complaint.made_major': {
    subject: 'complaint',
    summary:
      'A complaint became major after intake, or a rule added a reason to a major one (`reasons`: those added).',
  },
  'complaint.classified': {
    subject: 'complaint',
    summary:
      'Responsibility, upstream party, need type, liability finding, quality class, cause or root-cause note of a complaint changed.',
  },
  'complaint.handed_over': {
    subject: 'complaint',
    summary: 'A complaint was handed over to a named owner (`from`, `to`, `reason`).',
  },
  'complaint.conflict_declared': {
    subject: 'conflict',
    summary: 'A conflict of interest was declared in a complaint; that person may not handle it.',
  },
  'complaint.acceptance_overridden': {
    subject: 'complaint',
    summary: 'A supervisor took in a complaint the acceptance checks had declined; it is `received` again.',
  },
  'communication.recorded': {
    subject: 'communication',
    summary: 'Contact with the customer, inbound or outbound, was recorded.',
  },
  'deadline.warning': { subject: 'deadline', summary: 'A deadline reached one of its warning fractions.' },
  'deadline.breached': { subject: 'deadline', summary: 'A deadline fell due unmet.' },
  'deadline.met': {
    subject: 'deadline',
    summary: 'A deadline was met (`late: true` when after its breach).',
  },
  'deadline.extended': {
    subject: 'deadline',
    summary:
      'A deadline was extended as its regulatory regime allows (`extension`: step, reason, approver, the rule, and the customer notice sent).',
  },
  'resolution.proposed': {
    subject: 'resolution',
    summary: 'Resolution options were proposed; those above the proposer’s approval limit await an approver.',
  },
  'resolution.approved': {
    subject: 'resolution',
    summary: 'An authorised approver approved options awaiting approval.',
  },
  'resolution.rejected': {
    subject: 'resolution',
    summary: 'An authorised approver rejected options awaiting approval.',
  },
  'resolution.choice_recorded': {
    subject: 'resolution',
    summary: 'The customer chose an option, or declined them all.',
  },
  'resolution.executed': {
    subject: 'resolution',
    summary: 'The chosen option was carried out and the resolution notice sent; the complaint is resolved.',
  },
  'pre_refund.issued': {
    subject: 'preRefund',
    summary: 'The principal was refunded at once (预退费); its verification deadline started.',
  },
  'pre_refund.verified': {
    subject: 'preRefund',
    summary: 'A pre-refund was verified (confirmed or disputed), meeting its verification deadline.',
  },
  'promise.made': {
    subject: 'promise',
    summary:
      'A handler recorded a promise to the customer (what, by when); its `promise` deadline started. Broken promises are `deadline.breached` of kind `promise`.',
  },
  'promise.kept': {
    subject: 'promise',
    summary:
      'A promise to the customer was kept, meeting its `promise` deadline (late when it was broken first).',
  },
  'promise.withdrawn': {
    subject: 'promise',
    summary: 'A promise to the customer was withdrawn with a reason; its `promise` deadline was cancelled.',
  },
  'survey.sent': {
    subject: 'survey',
    summary: 'A satisfaction survey was sent to the customer of a complaint (`channel`).',
  },
  'survey.answered': {
    subject: 'survey',
    summary: 'The customer answered a satisfaction survey: a score from 1 to 5 and a comment.',
  },
  'follow_up.due': {
    subject: 'followUp',
    summary:
      'A follow-up visit was scheduled and is now owed, by its `dueAt`: on resolution, or after an unreachable attempt.',
  },
  'follow_up.exempted': {
    subject: 'exemption',
    summary:
      'A resolved complaint needs no follow-up visit (on the spot, sensitive, anonymous, …), with the reason.',
  },
  'follow_up.completed': {
    subject: 'followUp',
    summary:
      'The outcome of a follow-up visit was recorded (satisfied, unsatisfied, unreachable or declined).',
  },
  'data_subject.exported': {
    subject: 'subject',
    summary:
      'Everything held on a data subject was exported (`POST /v1/data-subjects/export`): the identifier masked, the counts, and who asked; never the subject in clear.',
  },
  'timeline.digest': {
    subject: 'digest',
    summary:
      'Once per tenant and UTC day: how many complaint timelines grew that day and a sha256 digest of their hash-chain heads, for an outside system to keep (`day`, `complaints`, `digest`).',
  },
  'webhook.disabled': {
    subject: 'webhook',
    summary: 'A webhook subscription stopped receiving: its endpoint answered 410, or failed for 5 days.',
  },
  'webhook.ping': {
    subject: 'webhook',
    summary: 'A test delivery asked for with `POST /v1/webhooks/{id}/ping`; sent to that subscription only.',
  },
} as const satisfies Record<string, { subject: string; summary: string }>;

export type EventType = keyof typeof EVENT_CATALOGUE;
export const EVENT_TYPES = Object.keys(EVENT_CATALOGUE) as [EventType, ...EventType[]];

/**
 * Event types about a tenant rather than one complaint: webhook subscriptions, timeline digests,
 * access exports of data subjects.
 */
export type TenantEventType = Extract<
  EventType,
  `webhook.${string}` | `timeline.${string}` | `data_subject.${string}`
>;

/** The prefixes of TenantEventType. */
const TENANT_EVENT_PREFIXES = ['webhook.', 'timeline.', 'data_subject.'] as const;

/** Event types of complaints: they carry the complaint id, reference and per-complaint sequence. */
export type ComplaintEventType = Exclude<EventType, TenantEventType>;

/** The types that carry a complaint, its customer included: every type but the tenant's own (TENANT_EVENT_PREFIXES). */
export const COMPLAINT_EVENT_TYPES = EVENT_TYPES.filter(
  (type): type is ComplaintEventType => !TENANT_EVENT_PREFIXES.some((prefix) => type.startsWith(prefix)),
);

const PATTERN = /^(?:\*|[a-z_]+\.\*|[a-z_]+\.[a-z_]+)$/;

/** True when `pattern` is `*`, `group.*` or an exact type, whether or not any event has that type yet. */
export const isEventPattern = (pattern: string): boolean => PATTERN.test(pattern);

/** True when an event type is selected by a pattern: `*`, a `group.*` wildcard or the exact type. */
export function matchesEventPattern(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

/** True when any of the patterns selects the type. */
export const matchesAnyEventPattern = (patterns: readonly string[], type: string): boolean =>
  patterns.some((pattern) => matchesEventPattern(pattern, type));

/**
 * The catalogue's types that the patterns select, in catalogue order: `deadline.*` becomes
 * `deadline.warning`, `deadline.breached` and `deadline.met`. The pull feed reads each exact type
 * from its own index range (see events.repository.ts feedPage).
 */
export const eventTypesSelected = (patterns: readonly string[]): EventType[] =>
  EVENT_TYPES.filter((type) => matchesAnyEventPattern(patterns, type));

/** Whether a pattern can select any type in the catalogue: a typo such as `deadline.breach` cannot. */
export const patternSelectsKnownType = (pattern: string): boolean =>
  EVENT_TYPES.some((type) => matchesEventPattern(pattern, type));

/**
 * The one mapping from an event type to the names other languages give it: `complaint.created`
 * is `ComplaintCreated` (`pascal`), its envelope schema `ComplaintCreatedEvent` and its data
 * `ComplaintCreatedData` (in openapi.yaml, asyncapi.yaml and GraphQL alike), and
 * `COMPLAINT_CREATED` in GraphQL's `EventType` enum, whose values must be names.
 */
export const eventTypeNames = (
  type: EventType,
): { pascal: string; envelope: string; data: string; enumValue: string } => {
  const words = type.split(/[._]/);
  const pascal = words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');
  return {
    pascal,
    envelope: `${pascal}Event`,
    data: `${pascal}Data`,
    enumValue: words.join('_').toUpperCase(),
  };
};
