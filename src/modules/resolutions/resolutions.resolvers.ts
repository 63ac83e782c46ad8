import { z } from 'zod';
import {
  preRefundStatus,
  resolutionApproval,
  resolutionOptionKind,
  resolutionStatus,
} from '../../db/schema/index.js';
import { actingContextOf, parseArgs, requireScope, withoutNulls } from '../../graphql/context.js';
import { idempotentMutation } from '../../graphql/idempotency.js';
import { enumSdl, type GraphqlModule } from '../../graphql/module.js';
import { complaintKeyParams } from '../complaints/complaints.schemas.js';
import type { ComplaintsService } from '../complaints/complaints.service.js';
import type { IdempotencyService } from '../idempotency/idempotency.service.js';
import { toPreRefundView, toResolutionView } from './resolution-views.js';
import {
  approveBody,
  choiceBody,
  createResolutionBody,
  executeBody,
  preRefundBody,
  preRefundParams,
  rejectBody,
  resolutionParams,
  verificationBody,
} from './resolutions.schemas.js';
import type { ResolutionsService } from './resolutions.service.js';

const typeDefs = /* GraphQL */ `
  ${enumSdl('ResolutionStatus', resolutionStatus.enumValues)}
  ${enumSdl('ResolutionOptionKind', resolutionOptionKind.enumValues)}
  ${enumSdl('ResolutionApproval', resolutionApproval.enumValues)}
  ${enumSdl('PreRefundStatus', preRefundStatus.enumValues)}
  ${enumSdl('PreRefundOutcome', verificationBody.shape.outcome.options)}

  "A member of staff as the calling system names them."
  type Staff {
    name: String!
    "One of the roles in the workflow settings (handler, team_lead …)."
    role: String!
  }

  "One option offered to the customer."
  type ResolutionOption {
    id: ID!
    kind: ResolutionOptionKind!
    "What is offered, as the customer hears it."
    description: String!
    "For refund and compensation (and optionally exchange, repair, other); null for apology and explanation."
    amount: Float
    "ISO 4217, with amount."
    currency: String
    "pending until an approver whose limit covers the amount decides; not_required within the proposer's limit."
    approval: ResolutionApproval!
    decidedBy: Staff
    decidedAt: DateTime
    decisionNote: String
  }

  "The resolution notice sent to the customer on execution."
  type ResolutionNotice {
    "What was done."
    measures: String!
    "Why."
    reasons: String!
    "What happens next, e.g. the follow-up visit."
    followUpPlan: String!
    "The outbound communication that carried it."
    communicationId: ID
  }

  "A resolution of a complaint, as GET /v1/complaints/{id}/resolutions/{resolutionId} shows it."
  type Resolution {
    id: ID!
    complaintId: ID!
    "awaiting_approval → proposed → chosen → executed; or rejected (every option) or declined (by the customer)."
    status: ResolutionStatus!
    proposedBy: Staff!
    note: String
    "In the order proposed."
    options: [ResolutionOption!]!
    "The option the customer chose."
    chosenOptionId: ID
    "What the customer said."
    choiceNote: String
    choiceRecordedAt: DateTime
    executedAt: DateTime
    "Who carried it out."
    executedBy: String
    "Null until executed."
    notice: ResolutionNotice
    actor: Actor!
    createdAt: DateTime!
    updatedAt: DateTime!
  }

  "A pre-refund (the principal refunded at once), as GET /v1/complaints/{id}/pre-refunds lists it."
  type PreRefund {
    id: ID!
    complaintId: ID!
    amount: Float!
    "ISO 4217."
    currency: String!
    refundedBy: Staff!
    refundedAt: DateTime!
    paymentReference: String
    note: String
    "awaiting_verification until verifyPreRefund: confirmed (it was due) or disputed."
    status: PreRefundStatus!
    "The pre_refund_verification deadline, met by the verification."
    deadlineId: ID!
    verifiedAt: DateTime
    verifiedBy: Staff
    verificationNote: String
    actor: Actor!
    createdAt: DateTime!
  }

  input StaffInput {
    name: String!
    "One of the roles in the workflow settings."
    role: String!
  }

  input ResolutionOptionInput {
    kind: ResolutionOptionKind!
    "What is offered, as the customer will hear it."
    description: String!
    "Required for refund and compensation; none for apology and explanation."
    amount: Float
    "ISO 4217 (CNY), with amount."
    currency: String
  }

  "As POST /v1/complaints/{id}/resolutions takes it."
  input ResolutionInput {
    "One to ten options."
    options: [ResolutionOptionInput!]!
    proposedBy: StaffInput!
    note: String
  }

  input ResolutionApprovalInput {
    approver: StaffInput!
    "The options decided; all awaiting approval when left out."
    optionIds: [ID!]
    note: String
  }

  input ResolutionRejectionInput {
    approver: StaffInput!
    "The options decided; all awaiting approval when left out."
    optionIds: [ID!]
    reason: String!
  }

  "Give exactly one of optionId and declined."
  input ResolutionChoiceInput {
    "The option the customer chose."
    optionId: ID
    "true: the customer accepted none of the options, which ends the proposal."
    declined: Boolean
    "What the customer said."
    note: String
  }

  "The notice sent to the customer: its text as body, or rendered from templateId."
  input ResolutionNoticeInput {
    "How the notice reached the customer."
    channel: Channel!
    measures: String!
    reasons: String!
    followUpPlan: String!
    "The exact text sent; or leave out and give templateId."
    body: String
    "Render the notice from this reply template, with resolution.measures, .reasons, .followUpPlan and .option* filled in."
    templateId: ID
    "Values for template variables the complaint does not supply."
    variables: JSONObject
  }

  "What exempts this resolution from a follow-up visit; each false when left out."
  input ResolutionFollowUpInput {
    "Settled on the spot…"
    onTheSpot: Boolean
    "…with the customer confirming it there."
    customerConfirmed: Boolean
    sensitive: Boolean
    "The customer wants no follow-up calls; remembered."
    declined: Boolean
  }

  input ResolutionExecutionInput {
    "Who carried it out; defaults to the acting person."
    executedBy: String
    notice: ResolutionNoticeInput!
    followUp: ResolutionFollowUpInput
  }

  "As POST /v1/complaints/{id}/pre-refunds takes it."
  input PreRefundInput {
    amount: Float!
    "ISO 4217."
    currency: String!
    "Must be able to grant the amount on their own: a pre-refund waits for nobody."
    refundedBy: StaffInput!
    "Defaults to now."
    refundedAt: DateTime
    paymentReference: String
    note: String
  }

  input PreRefundVerificationInput {
    outcome: PreRefundOutcome!
    verifiedBy: StaffInput!
    note: String
  }

  extend type Complaint {
    "Every resolution proposed for the complaint, oldest first, with its options."
    resolutions: [Resolution!]! @complexity(value: 10)
    "Every pre-refund of the complaint, oldest first."
    preRefunds: [PreRefund!]! @complexity(value: 5)
  }

  extend type Query {
    "A resolution of a complaint (id or reference); null with a not_found error when this tenant has none."
    resolution(complaintId: ID!, id: ID!): Resolution
  }

  extend type Mutation {
    """
    Proposes resolution options. One above the proposer's approval limit awaits approval; one
    above every limit is approval_limit_unreachable; one proposal at a time
    (resolution_already_open). With idempotencyKey a retry gets the first answer.
    """
    proposeResolution(complaintId: ID!, input: ResolutionInput!, idempotencyKey: String): Resolution!
    "Records the option the customer chose, or that they declined every one."
    recordResolutionChoice(complaintId: ID!, resolutionId: ID!, input: ResolutionChoiceInput!): Resolution!
    """
    Approves options awaiting approval, by an approver whose limit covers each
    (approver_not_authorised otherwise) who is not the proposer (approver_is_proposer).
    """
    approveResolution(complaintId: ID!, resolutionId: ID!, input: ResolutionApprovalInput!): Resolution!
    "Rejects options awaiting approval, as approveResolution decides; all rejected ends the proposal."
    rejectResolution(complaintId: ID!, resolutionId: ID!, input: ResolutionRejectionInput!): Resolution!
    """
    Carries out the chosen option: records the notice as an outbound communication and moves the
    complaint to resolved (resolution_awaiting_approval / resolution_choice_missing before that).
    """
    executeResolution(complaintId: ID!, resolutionId: ID!, input: ResolutionExecutionInput!): Resolution!
    """
    Refunds the principal at once and starts its verification deadline; the amount must be within
    the refunder's own limit (pre_refund_over_limit). With idempotencyKey a retry gets the first answer.
    """
    issuePreRefund(complaintId: ID!, input: PreRefundInput!, idempotencyKey: String): PreRefund!
    "Records the verification of a pre-refund, which meets its deadline (once: pre_refund_already_verified)."
    verifyPreRefund(complaintId: ID!, preRefundId: ID!, input: PreRefundVerificationInput!): PreRefund!
  }
`;

// The REST params under the names GraphQL's arguments carry, so a bad one is named `args.…`.
const complaintArgs = z.strictObject({ complaintId: complaintKeyParams.shape.id });
const resolutionArgs = complaintArgs.extend({ resolutionId: resolutionParams.shape.resolutionId });
const lookupArgs = complaintArgs.extend({ id: resolutionParams.shape.resolutionId });
const preRefundArgs = complaintArgs.extend({ preRefundId: preRefundParams.shape.preRefundId });
const idsOf = (args: { complaintId?: unknown; resolutionId?: unknown }) => ({
  complaintId: args.complaintId,
  resolutionId: args.resolutionId,
});

/**
 * A mutation's input parsed with the REST body schema. Every input here describes something new,
 * so null means "not given", as REST's leaving a field out, and REST's defaults apply.
 */
const inputOf = <S extends z.ZodType>(schema: S, input: unknown) =>
  parseArgs(schema, withoutNulls(input), 'input');

/** Resolutions and pre-refunds over GraphQL: the same ResolutionsService calls as the REST routes. */
export function resolutionsGraphql(deps: {
  resolutions: ResolutionsService;
  complaints: ComplaintsService;
  idempotency: IdempotencyService;
}): GraphqlModule {
  const { resolutions, complaints, idempotency } = deps;
  return {
    typeDefs,
    resolvers: {
      Query: {
        async resolution(_root, args, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          const { complaintId, id } = parseArgs(lookupArgs, args, 'args');
          // As GET /v1/complaints/{id}/resolutions/{resolutionId}: another tenant's complaint is not_found.
          const complaint = await complaints.getRow(tenantId, complaintId);
          return toResolutionView(await resolutions.get(tenantId, complaint.id, id));
        },
      },
      Mutation: {
        async proposeResolution(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const { complaintId } = parseArgs(complaintArgs, { complaintId: args.complaintId }, 'args');
          const input = inputOf(createResolutionBody, args.input);
          return idempotentMutation(
            idempotency,
            // The complaint is part of what is asked, as REST's fingerprint holds the path.
            {
              tenantId: acting.tenantId,
              key: args.idempotencyKey,
              operation: 'proposeResolution',
              input: { complaintId, input },
            },
            async (binding) =>
              toResolutionView(await resolutions.propose(acting, complaintId, input, binding)),
          );
        },
        async recordResolutionChoice(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const { complaintId, resolutionId } = parseArgs(resolutionArgs, idsOf(args), 'args');
          const input = inputOf(choiceBody, args.input);
          return toResolutionView(await resolutions.recordChoice(acting, complaintId, resolutionId, input));
        },
        async approveResolution(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const { complaintId, resolutionId } = parseArgs(resolutionArgs, idsOf(args), 'args');
          const input = inputOf(approveBody, args.input);
          return toResolutionView(await resolutions.approve(acting, complaintId, resolutionId, input));
        },
        async rejectResolution(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const { complaintId, resolutionId } = parseArgs(resolutionArgs, idsOf(args), 'args');
          const input = inputOf(rejectBody, args.input);
          return toResolutionView(await resolutions.reject(acting, complaintId, resolutionId, input));
        },
        async executeResolution(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const { complaintId, resolutionId } = parseArgs(resolutionArgs, idsOf(args), 'args');
          const input = inputOf(executeBody, args.input);
          return toResolutionView(await resolutions.execute(acting, complaintId, resolutionId, input));
        },
        async issuePreRefund(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const { complaintId } = parseArgs(complaintArgs, { complaintId: args.complaintId }, 'args');
          const input = inputOf(preRefundBody, args.input);
          return idempotentMutation(
            idempotency,
            {
              tenantId: acting.tenantId,
              key: args.idempotencyKey,
              operation: 'issuePreRefund',
              input: { complaintId, input },
            },
            async (binding) =>
              toPreRefundView(await resolutions.issuePreRefund(acting, complaintId, input, binding)),
          );
        },
        async verifyPreRefund(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const { complaintId, preRefundId } = parseArgs(
            preRefundArgs,
            { complaintId: args.complaintId, preRefundId: args.preRefundId },
            'args',
          );
          const input = inputOf(verificationBody, args.input);
          return toPreRefundView(await resolutions.verifyPreRefund(acting, complaintId, preRefundId, input));
        },
      },
    },
    loaders: {
      Complaint: {
        // The resolutions, with their options, of a whole page of complaints in one query.
        async resolutions(queries, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          const ids = queries.map(({ obj }) => (obj as { id: string }).id);
          const byComplaint = await resolutions.listForComplaints(tenantId, ids);
          return ids.map((id) => (byComplaint.get(id) ?? []).map(toResolutionView));
        },
        // The pre-refunds of a whole page of complaints in one query.
        async preRefunds(queries, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          const ids = queries.map(({ obj }) => (obj as { id: string }).id);
          const byComplaint = await resolutions.listPreRefundsForComplaints(tenantId, ids);
          return ids.map((id) => (byComplaint.get(id) ?? []).map(toPreRefundView));
        },
      },
    },
  };
}
