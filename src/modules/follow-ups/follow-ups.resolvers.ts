import { followUpOutcome, followUpStatus } from '../../db/schema/index.js';
import { actingContextOf, parseArgs, requireScope, withoutNulls } from '../../graphql/context.js';
import { idempotentMutation } from '../../graphql/idempotency.js';
import { enumSdl, type GraphqlModule, pageInfo } from '../../graphql/module.js';
import type { IdempotencyService } from '../idempotency/idempotency.service.js';
import {
  type FollowUpView,
  followUpIdParams,
  followUpOutcomeBody,
  followUpsArgs,
  toFollowUpOutcomeView,
  toFollowUpView,
} from './follow-ups.schemas.js';
import { type FollowUpsService, followUpListCursor } from './follow-ups.service.js';

const typeDefs = /* GraphQL */ `
  ${enumSdl('FollowUpStatus', followUpStatus.enumValues)}
  ${enumSdl('FollowUpOutcome', followUpOutcome.enumValues)}

  "A follow-up visit (or call) after a resolution, as GET /v1/follow-ups/{id} shows it."
  type FollowUp {
    id: ID!
    complaintId: ID!
    "The complaint's reference, C-000123."
    reference: String!
    "The complaint's handler, who makes the visit."
    assignee: String
    resolutionId: ID
    "The follow_up deadline this attempt is due by."
    deadlineId: ID!
    "1 for the first visit; one more for each unreachable attempt."
    attempt: Int!
    status: FollowUpStatus!
    dueAt: DateTime!
    "Pending and past its due time."
    overdue: Boolean!
    outcome: FollowUpOutcome
    "Satisfaction 1 (worst) to 5 (best)."
    score: Int
    comment: String
    "Who made the visit or call."
    contactedBy: String
    completedAt: DateTime
    recordedBy: Actor
    createdAt: DateTime!
  }

  type FollowUpEdge {
    cursor: String!
    node: FollowUp!
  }

  "Follow-up visits soonest due first; pass pageInfo.endCursor as \`after\` for the next page."
  type FollowUpConnection {
    edges: [FollowUpEdge!]!
    nodes: [FollowUp!]!
    pageInfo: PageInfo!
  }

  "What came of a visit, as POST /v1/follow-ups/{id}/outcome answers it."
  type FollowUpOutcomeResult {
    followUp: FollowUp!
    "The next attempt, after an unreachable one."
    nextAttempt: FollowUp
    "Unreachable on the last attempt allowed: no more visits."
    attemptsExhausted: Boolean!
  }

  input FollowUpFilter {
    "Defaults to pending (the visits still to make)."
    status: [FollowUpStatus!]
    "True: only pending visits past their due time."
    overdue: Boolean
    "Due before this instant (e.g. the end of today)."
    dueBefore: DateTime
    "The complaint's handler."
    assignee: String
  }

  "As POST /v1/follow-ups/{id}/outcome takes it."
  input FollowUpOutcomeInput {
    """
    satisfied closes the complaint; unsatisfied reopens and escalates it; unreachable schedules
    another attempt (up to followUpMaxAttempts); declined remembers that the customer wants no visits.
    """
    outcome: FollowUpOutcome!
    "Satisfaction 1 (worst) to 5 (best); none for unreachable or declined."
    score: Int
    comment: String
    "Who made the visit or call; defaults to the person acting."
    contactedBy: String
  }

  extend type Complaint {
    "Every follow-up visit of the complaint, oldest first (each attempt, settled or not)."
    followUps: [FollowUp!]! @complexity(value: 5)
  }

  extend type Query {
    "The follow-up work list, soonest due first (pending visits by default), at most 100 a page."
    followUps(filter: FollowUpFilter, first: Int = 50, after: String): FollowUpConnection!
      @complexity(value: 2, multipliers: ["first"])
    "A follow-up visit; null with a not_found error when this tenant has none."
    followUp(id: ID!): FollowUp
  }

  extend type Mutation {
    """
    Records the outcome of a pending visit (follow_up_not_pending otherwise). With idempotencyKey a
    retry gets the first answer, as with Idempotency-Key.
    """
    recordFollowUpOutcome(id: ID!, input: FollowUpOutcomeInput!, idempotencyKey: String): FollowUpOutcomeResult!
  }
`;

const idArg = (value: unknown) => parseArgs(followUpIdParams, { id: value }, 'args').id;

/** Follow-up visits over GraphQL: the same FollowUpsService calls as the REST routes. */
export function followUpsGraphql(deps: {
  followUps: FollowUpsService;
  idempotency: IdempotencyService;
}): GraphqlModule {
  const { followUps, idempotency } = deps;
  return {
    typeDefs,
    resolvers: {
      Query: {
        async followUps(_root, args, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          const query = parseArgs(followUpsArgs, args, 'args');
          const { rows, now, nextCursor } = await followUps.list(tenantId, query);
          const nodes = rows.map((row) => toFollowUpView(row, now));
          return {
            nodes,
            edges: rows.map((row, index) => ({ cursor: followUpListCursor(row), node: nodes[index] })),
            pageInfo: pageInfo(nextCursor),
          };
        },
        async followUp(_root, args, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          return toFollowUpView(await followUps.get(tenantId, idArg(args.id)), followUps.now());
        },
      },
      Mutation: {
        async recordFollowUpOutcome(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const id = idArg(args.id);
          // A null optional field means "not given", as a field left out of the REST body.
          const input = parseArgs(followUpOutcomeBody, withoutNulls(args.input), 'input');
          return idempotentMutation(
            idempotency,
            {
              tenantId: acting.tenantId,
              key: args.idempotencyKey,
              operation: 'recordFollowUpOutcome',
              input: { id, input },
            },
            async (binding) =>
              toFollowUpOutcomeView(await followUps.recordOutcome(acting, id, input, binding)),
          );
        },
      },
    },
    loaders: {
      Complaint: {
        // The follow-ups of a whole page of complaints in one query.
        async followUps(queries, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          const ids = queries.map(({ obj }) => (obj as { id: string }).id);
          const byComplaint = await followUps.listForComplaints(tenantId, ids);
          const now = followUps.now();
          return ids.map((id): FollowUpView[] =>
            (byComplaint.get(id) ?? []).map((row) => toFollowUpView(row, now)),
          );
        },
      },
    },
  };
}
