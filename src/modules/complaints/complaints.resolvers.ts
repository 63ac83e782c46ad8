import { z } from 'zod';
import {
  acceptanceRejectionCode,
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
import {
  actingContextOf,
  etagOfVersion,
  parseArgs,
  requireScope,
  withoutNullFields,
} from '../../graphql/context.js';
import { idempotentMutation } from '../../graphql/idempotency.js';
import { enumSdl, type GraphqlModule, pageInfo } from '../../graphql/module.js';
import { toDeadlineView } from '../deadlines/deadline-views.js';
import type { IdempotencyService } from '../idempotency/idempotency.service.js';
import { COMPLAINT_STATUSES } from './complaint-status.js';
import { toCommunicationView, toComplaintView, toTimelineEntryView } from './complaint-views.js';
import {
  acceptanceOverrideBody,
  type ComplaintView,
  complaintKeyParams,
  complaintsArgs,
  createCommunicationBody,
  createComplaintBody,
  deskFeedbackBody,
  directionSchema,
  pageArgs,
  transitionBody,
  updateComplaintBody,
} from './complaints.schemas.js';
import { type ComplaintState, type ComplaintsService, timelineCursor } from './complaints.service.js';

const typeDefs = /* GraphQL */ `
  ${enumSdl('Channel', complaintChannel.enumValues)}
  ${enumSdl('ComplaintStatus', COMPLAINT_STATUSES)}
  ${enumSdl('Severity', complaintSeverity.enumValues)}
  ${enumSdl('Priority', complaintPriority.enumValues)}
  ${enumSdl('Direction', directionSchema.options)}
  ${enumSdl('ComplainantRelation', complainantRelation.enumValues, 'Who complains: the affected party, immediate family, their representative, or someone else.')}
  ${enumSdl('RejectionCode', acceptanceRejectionCode.enumValues, 'Why the acceptance checks declined a complaint at intake.')}
  ${enumSdl('Responsibility', complaintResponsibility.enumValues, 'own: our service; upstream: an upstream party, still ours to follow up; external: the environment or third parties.')}
  ${enumSdl('NeedType', complaintNeedType.enumValues, 'What the customer needs first.')}
  "How the complaint list is ordered."
  enum ComplaintOrder {
    "Newest received first."
    received
    "Complaints needing an immediate fix first, then the rest, each newest received first."
    immediate_first
  }
  ${enumSdl('QualityClass', qualityClass.enumValues, 'Quality (品质异常) or non-quality (非品质异常).')}
  ${enumSdl('LiabilityFinding', liabilityFinding.enumValues)}
  ${enumSdl('NonLiabilityReason', nonLiabilityReason.enumValues)}
  ${enumSdl('MajorReason', majorReason.enumValues, 'Why a complaint is major.')}

  type Customer {
    name: String
    phone: String
    email: String
    address: String
    "The customer's id in the calling system."
    externalId: String
  }

  "Why the acceptance checks declined the complaint at intake (status rejected)."
  type ComplaintRejection {
    code: RejectionCode!
    detail: String!
  }

  "A supervisor took the complaint in after the acceptance checks declined it."
  type AcceptanceOverride {
    rejectionCode: RejectionCode!
    reason: String!
    supervisor: String!
    overriddenAt: DateTime!
  }

  "The liability finding: liable, or not liable with a reason and a note."
  type Liability {
    finding: LiabilityFinding!
    "Set when not liable."
    reason: NonLiabilityReason
    note: String
  }

  "The earliest pending deadline of a complaint."
  type NextDeadline {
    id: ID!
    kind: DeadlineKind!
    dueAt: DateTime!
  }

  """
  A complaint as GET /v1/complaints/{id} shows it, with its deadlines, timeline and escalations.
  Modules add their records to it with \`extend type Complaint\`.
  """
  type Complaint {
    id: ID!
    "C-000123, numbered per tenant: six digits, zero-padded, and more past C-999999 (C-1000000)."
    reference: String!
    status: ComplaintStatus!
    channel: Channel!
    severity: Severity!
    priority: Priority!
    category: String
    subject: String!
    "Personal data: [masked: personal data] without personal_data:read."
    description: String!
    "Personal data: masked without personal_data:read (Wang F***, 王*, +86 138****8000, w***@example.com)."
    customer: Customer!
    "What the customer asks for. Personal data: [masked: personal data] without personal_data:read."
    desiredOutcome: String
    occurredAt: DateTime
    receivedAt: DateTime!
    receivedBy: String!
    assignee: String
    "0 none, 1 team lead, 2 department manager, 3 crisis team."
    escalationLevel: Int!
    externalRef: String
    complainantRelation: ComplainantRelation!
    "A complainant related as 'other' who holds the affected party's authority."
    complainantAuthorised: Boolean!
    "Why the acceptance checks declined the complaint at intake; null otherwise."
    rejection: ComplaintRejection
    acceptanceOverride: AcceptanceOverride
    responsibility: Responsibility
    "The upstream party the complaint was forwarded to (responsibility upstream)."
    upstreamParty: String
    needType: NeedType
    qualityClass: QualityClass
    "A code of the tenant's causes; null until found."
    cause: String
    "What lay behind the cause, written at resolution."
    rootCauseNote: String
    liability: Liability
    "Why the complaint is major; empty while it is general."
    majorReasons: [MajorReason!]!
    "When it last became major."
    majorSince: DateTime
    "The customer threatens media exposure."
    mediaExposure: Boolean!
    "Raised with a regulator or the manufacturer."
    regulatorInvolved: Boolean!
    "The customer blocks the premises."
    premisesBlocked: Boolean!
    "The customer returns or exchanges high-value goods."
    highValueReturn: Boolean!
    "The matter has had negative media coverage."
    negativeMediaCoverage: Boolean!
    "Links complaints about the same matter; enough of them make a collective, major complaint."
    incidentKey: String
    "Staff the complaint is about; none of them may handle it."
    subjectStaff: [String!]!
    tags: [String!]!
    metadata: JSONObject!
    "Send it back as \`version\` to updateComplaint (REST: the ETag)."
    version: Int!
    nextDeadline: NextDeadline
    createdAt: DateTime!
    updatedAt: DateTime!
    "The append-only history, oldest first."
    timeline(first: Int = 50, after: String): TimelineConnection! @complexity(value: 2, multipliers: ["first"])
  }

  type ComplaintEdge {
    cursor: String!
    node: Complaint!
  }

  "A page of complaints, newest received first; pass pageInfo.endCursor as \`after\` for the next."
  type ComplaintConnection {
    edges: [ComplaintEdge!]!
    nodes: [Complaint!]!
    pageInfo: PageInfo!
  }

  "One entry of a complaint's history; entries are never changed or removed."
  type TimelineEntry {
    "Increasing within a complaint."
    id: ID!
    "complaint.created, complaint.updated, complaint.status_changed, communication.recorded, deadline.met …"
    type: String!
    actor: Actor!
    occurredAt: DateTime!
    "Personal fields' before and after are masked without personal_data:read."
    changes: [FieldChange!]
    "The complaint as taken in, or the communication, masked without personal_data:read."
    data: JSONObject
  }

  type FieldChange {
    field: String!
    before: JSON
    after: JSON
  }

  type TimelineEdge {
    cursor: String!
    node: TimelineEntry!
  }

  type TimelineConnection {
    edges: [TimelineEdge!]!
    nodes: [TimelineEntry!]!
    pageInfo: PageInfo!
  }

  "A contact with the customer, inbound or outbound."
  type Communication {
    id: ID!
    complaintId: ID!
    direction: Direction!
    channel: Channel!
    "Personal data: [masked: personal data] without personal_data:read."
    body: String!
    "True when the customer was actually reached (not a missed call)."
    contactMade: Boolean!
    occurredAt: DateTime!
    recordedBy: Actor!
    "The reply template the text came from, and its version then."
    template: TemplateVersion
    createdAt: DateTime!
  }

  type TemplateVersion {
    id: ID!
    version: Int!
  }

  input ComplaintFilter {
    status: [ComplaintStatus!]
    channel: [Channel!]
    severity: Severity
    category: String
    assignee: String
    "Complaints linked to this incident."
    incidentKey: String
    qualityClass: QualityClass
    "A cause code."
    cause: String
    "Complaints with one of these need types."
    needType: [NeedType!]
    "Received at or after this instant."
    receivedFrom: DateTime
    "Received before this instant."
    receivedTo: DateTime
    "Text search in subject, description and customer name."
    q: String
  }

  input CustomerInput {
    name: String
    phone: String
    email: String
    address: String
    externalId: String
  }

  "As POST /v1/complaints takes it; left-out fields take the same defaults."
  input ComplaintInput {
    channel: Channel!
    severity: Severity
    priority: Priority
    category: String
    subject: String!
    description: String!
    customer: CustomerInput!
    desiredOutcome: String
    occurredAt: DateTime
    receivedAt: DateTime
    receivedBy: String
    assignee: String
    "The caller's own id; unique per tenant."
    externalRef: String
    "Defaults to self; representative is declined as representative_not_authorised, and other as not_a_stakeholder, unless authorised."
    complainantRelation: ComplainantRelation
    complainantAuthorised: Boolean
    responsibility: Responsibility
    "Required for responsibility upstream."
    upstreamParty: String
    needType: NeedType
    qualityClass: QualityClass
    "A code of the tenant's causes (workflow settings)."
    cause: String
    liability: LiabilityInput
    mediaExposure: Boolean
    regulatorInvolved: Boolean
    premisesBlocked: Boolean
    highValueReturn: Boolean
    negativeMediaCoverage: Boolean
    incidentKey: String
    subjectStaff: [String!]
    tags: [String!]
    metadata: JSONObject
  }

  "Liable, or not liable with a reason and the note the finding rests on."
  input LiabilityInput {
    finding: LiabilityFinding!
    "Required when not liable."
    reason: NonLiabilityReason
    note: String
  }

  "As PATCH /v1/complaints/{id} takes it: fields left out stay, null clears one."
  input ComplaintUpdateInput {
    severity: Severity
    priority: Priority
    category: String
    subject: String
    description: String
    customer: CustomerInput
    desiredOutcome: String
    occurredAt: DateTime
    "The new owner; the same recusal rules as a handover apply."
    assignee: String
    "Moving away from upstream clears upstreamParty."
    responsibility: Responsibility
    upstreamParty: String
    needType: NeedType
    qualityClass: QualityClass
    "Recorded when the cause is found."
    cause: String
    "What lay behind the cause, written at resolution."
    rootCauseNote: String
    "Replaces the whole finding; null clears it."
    liability: LiabilityInput
    mediaExposure: Boolean
    regulatorInvolved: Boolean
    premisesBlocked: Boolean
    highValueReturn: Boolean
    negativeMediaCoverage: Boolean
    incidentKey: String
    "Replaces the whole list."
    subjectStaff: [String!]
    tags: [String!]
    metadata: JSONObject
  }

  input CommunicationInput {
    direction: Direction!
    channel: Channel!
    "What was said or sent; leave out with templateId to send the template rendered for this complaint."
    body: String
    "The reply template the text comes from; the communication records the version used."
    templateId: ID
    "Values for template variables the complaint does not supply (with templateId)."
    variables: JSONObject
    contactMade: Boolean!
    occurredAt: DateTime
    "For outbound contact: when the next update was promised to the customer."
    nextUpdateBy: DateTime
  }

  extend type Query {
    "A complaint by id or reference (give one); null with a not_found error when this tenant has none."
    complaint(id: ID, reference: String): Complaint
    "Complaints newest received first, at most 100 a page."
    complaints(filter: ComplaintFilter, order: ComplaintOrder = received, first: Int = 25, after: String): ComplaintConnection!
      @complexity(value: 2, multipliers: ["first"])
  }

  extend type Mutation {
    "Takes in a complaint. With idempotencyKey a retry gets the first answer, as with Idempotency-Key."
    createComplaint(input: ComplaintInput!, idempotencyKey: String): Complaint!
    "Edits a complaint still at \`version\` (precondition_failed otherwise)."
    updateComplaint(id: ID!, version: Int!, input: ComplaintUpdateInput!): Complaint!
    """
    Changes the status; an illegal move is invalid_transition naming the allowed ones. With
    idempotencyKey a retry gets the first answer.
    """
    transitionComplaint(
      id: ID!
      to: ComplaintStatus!
      reason: String
      version: Int
      idempotencyKey: String
    ): Complaint!
    "Records a contact with the customer. With idempotencyKey a retry records nothing more and gets the first answer."
    recordCommunication(complaintId: ID!, input: CommunicationInput!, idempotencyKey: String): Communication!
    "Records that the resolution was fed back to the central service desk, meeting its desk_feedback deadline (desk_feedback_not_owed when none is open)."
    recordDeskFeedback(complaintId: ID!, summary: String!, desk: String, idempotencyKey: String): Deadline!
    """
    A supervisor takes in a complaint the acceptance checks declined, with a reason; the complaint is
    received again with its intake deadlines running from now (not_rejected_at_intake otherwise).
    """
    overrideAcceptance(id: ID!, reason: String!, supervisor: String!, idempotencyKey: String): Complaint!
  }
`;

const complaintKey = complaintKeyParams.shape.id;
const lookupArgs = z
  .strictObject({ id: complaintKey.nullish(), reference: complaintKey.nullish() })
  .refine(
    (args) => (args.id ? 1 : 0) + (args.reference ? 1 : 0) === 1,
    'give exactly one of id and reference',
  );
const keyArg = (value: unknown, name: string) => parseArgs(complaintKey, value, name);
const timelineArgs = pageArgs;

/** The complaint as GraphQL parents carry it: the REST view. Nested fields resolve from its id. */
export const complaintNode = (state: ComplaintState): ComplaintView =>
  toComplaintView(state.row, state.nextDeadline);

/** Complaints over GraphQL: the same ComplaintsService calls as the REST routes. */
export function complaintsGraphql(deps: {
  complaints: ComplaintsService;
  idempotency: IdempotencyService;
}): GraphqlModule {
  const { complaints, idempotency } = deps;
  return {
    typeDefs,
    resolvers: {
      Query: {
        async complaint(_root, args, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          const { id, reference } = parseArgs(lookupArgs, args, 'args');
          return complaintNode(await complaints.get(tenantId, (id ?? reference)!));
        },
        async complaints(_root, args, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          const query = parseArgs(complaintsArgs, args, 'args');
          const { states, cursors, nextCursor } = await complaints.list(tenantId, query);
          const nodes = states.map(complaintNode);
          return {
            nodes,
            edges: states.map((_state, index) => ({ cursor: cursors[index]!, node: nodes[index] })),
            pageInfo: pageInfo(nextCursor),
          };
        },
      },
      Mutation: {
        async createComplaint(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const input = parseArgs(createComplaintBody, args.input, 'input');
          return idempotentMutation(
            idempotency,
            { tenantId: acting.tenantId, key: args.idempotencyKey, operation: 'createComplaint', input },
            async (binding) => complaintNode(await complaints.create(acting, input, binding)),
          );
        },
        async updateComplaint(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const id = keyArg(args.id, 'id');
          const input = parseArgs(updateComplaintBody, args.input, 'input');
          return complaintNode(await complaints.update(acting, id, etagOfVersion(args.version), input));
        },
        async transitionComplaint(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const id = keyArg(args.id, 'id');
          const input = parseArgs(transitionBody, { to: args.to, reason: args.reason ?? undefined }, 'input');
          const version = args.version ?? null;
          return idempotentMutation(
            idempotency,
            {
              tenantId: acting.tenantId,
              key: args.idempotencyKey,
              operation: 'transitionComplaint',
              input: { id, version, ...input },
            },
            async (binding) =>
              complaintNode(await complaints.transition(acting, id, input, etagOfVersion(version), binding)),
          );
        },
        async recordCommunication(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const id = keyArg(args.complaintId, 'complaintId');
          const input = parseArgs(createCommunicationBody, withoutNullFields(args.input), 'input');
          return idempotentMutation(
            idempotency,
            {
              tenantId: acting.tenantId,
              key: args.idempotencyKey,
              operation: 'recordCommunication',
              input: { complaintId: id, ...input },
            },
            async (binding) =>
              toCommunicationView(await complaints.recordCommunication(acting, id, input, binding)),
          );
        },
        async recordDeskFeedback(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const id = keyArg(args.complaintId, 'complaintId');
          const input = parseArgs(
            deskFeedbackBody,
            withoutNullFields({ summary: args.summary, desk: args.desk }),
            'input',
          );
          return idempotentMutation(
            idempotency,
            {
              tenantId: acting.tenantId,
              key: args.idempotencyKey,
              operation: 'recordDeskFeedback',
              input: { complaintId: id, ...input },
            },
            async (binding) =>
              toDeadlineView(await complaints.recordDeskFeedback(acting, id, input, binding)),
          );
        },
        async overrideAcceptance(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const id = keyArg(args.id, 'id');
          const input = parseArgs(
            acceptanceOverrideBody,
            { reason: args.reason, supervisor: args.supervisor },
            'input',
          );
          return idempotentMutation(
            idempotency,
            {
              tenantId: acting.tenantId,
              key: args.idempotencyKey,
              operation: 'overrideAcceptance',
              input: { id, ...input },
            },
            async (binding) => complaintNode(await complaints.overrideAcceptance(acting, id, input, binding)),
          );
        },
      },
    },
    loaders: {
      Complaint: {
        // One query per page size for a whole page of complaints (see ComplaintsService.timelines).
        async timeline(queries, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          const requests = queries.map(({ obj, params }) => {
            const { first, after } = parseArgs(timelineArgs, params, 'timeline');
            return { complaintId: (obj as ComplaintView).id, limit: first, cursor: after ?? undefined };
          });
          const pages = await complaints.timelines(tenantId, requests);
          return pages.map(({ rows, nextCursor }) => {
            const nodes = rows.map(toTimelineEntryView);
            return {
              nodes,
              edges: rows.map((row, index) => ({ cursor: timelineCursor(row), node: nodes[index] })),
              pageInfo: pageInfo(nextCursor),
            };
          });
        },
      },
    },
  };
}
