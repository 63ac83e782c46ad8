import { z } from 'zod';
import { actingContextOf, parseArgs, requireScope } from '../../graphql/context.js';
import { enumSdl, type GraphqlModule, pageInfo } from '../../graphql/module.js';
import { instantSchema } from '../../http/instant.js';
import { complaintKeyParams, needTypeSchema, pageArgs } from '../complaints/complaints.schemas.js';
import { DEADLINE_KINDS } from '../sla-policies/sla-targets.js';
import { type DeadlineView, deadlineSchema, toDeadlineView } from './deadline-views.js';
import type { DeadlinesService } from './deadlines.service.js';

const typeDefs = /* GraphQL */ `
  ${enumSdl('DeadlineKind', DEADLINE_KINDS)}
  ${enumSdl('DeadlineStatus', deadlineSchema.shape.status.options)}
  ${enumSdl('SlaClock', deadlineSchema.shape.clock.options)}

  "A deadline of a complaint, as GET /v1/complaints/{id}/deadlines shows it."
  type Deadline {
    id: ID!
    complaintId: ID!
    kind: DeadlineKind!
    status: DeadlineStatus!
    startsAt: DateTime!
    "While paused: the due time before the pause; it moves on resume."
    dueAt: DateTime!
    warnAts: [DateTime!]!
    warningsFired: Int!
    clock: SlaClock!
    "The policy target (ISO-8601 duration), or null for a promised time."
    targetDuration: String
    "Time left in the deadline clock while paused."
    remainingMs: Float
    pausedAt: DateTime
    metAt: DateTime
    "Kept when a breached deadline is met late."
    breachedAt: DateTime
    cancelledAt: DateTime
    metLate: Boolean!
    policyId: ID!
    policyVersion: Int!
    createdAt: DateTime!
  }

  type DeadlineEdge {
    cursor: String!
    node: Deadline!
  }

  "Deadlines soonest due first; pass pageInfo.endCursor as \`after\` for the next page."
  type DeadlineConnection {
    edges: [DeadlineEdge!]!
    nodes: [Deadline!]!
    pageInfo: PageInfo!
  }

  input DeadlineFilter {
    status: [DeadlineStatus!]
    kind: [DeadlineKind!]
    dueBefore: DateTime
    dueAfter: DateTime
    "Deadlines of complaints with this assignee."
    assignee: String
    "Deadlines of complaints with one of these need types."
    needType: [NeedType!]
  }

  "How the deadline work queue is ordered."
  enum DeadlineOrder {
    "Soonest due first."
    due
    "The deadlines of complaints needing an immediate fix first, then the rest, each soonest due first."
    immediate_first
  }

  extend type Complaint {
    "Every deadline of the complaint, oldest first."
    deadlines: [Deadline!]! @complexity(value: 10)
  }

  extend type Query {
    "Deadlines across complaints, soonest due first (work queues), at most 100 a page."
    deadlines(filter: DeadlineFilter, order: DeadlineOrder = due, first: Int = 50, after: String): DeadlineConnection!
      @complexity(value: 2, multipliers: ["first"])
  }

  extend type Mutation {
    "Records a major_report or follow_up deadline done by hand."
    completeDeadline(complaintId: ID!, deadlineId: ID!): Deadline!
  }
`;

const deadlinesArgs = pageArgs.extend({
  filter: z
    .strictObject({
      status: z.array(deadlineSchema.shape.status).max(5).nullish(),
      kind: z.array(deadlineSchema.shape.kind).max(DEADLINE_KINDS.length).nullish(),
      dueBefore: instantSchema.nullish(),
      dueAfter: instantSchema.nullish(),
      assignee: z.string().trim().min(1).max(200).nullish(),
      needType: z.array(needTypeSchema).max(3).nullish(),
    })
    .nullish(),
  order: z.enum(['due', 'immediate_first']).nullish(),
});
const completeArgs = z.strictObject({ complaintId: complaintKeyParams.shape.id, deadlineId: z.uuid() });

/** Deadlines over GraphQL: the same DeadlinesService calls as the REST routes. */
export function deadlinesGraphql(deps: { deadlines: DeadlinesService }): GraphqlModule {
  const { deadlines } = deps;
  return {
    typeDefs,
    resolvers: {
      Query: {
        async deadlines(_root, args, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          const { filter, order, first, after } = parseArgs(deadlinesArgs, args, 'args');
          const { rows, cursors, nextCursor } = await deadlines.list(
            tenantId,
            {
              statuses: filter?.status?.length ? filter.status : undefined,
              kinds: filter?.kind?.length ? filter.kind : undefined,
              dueBefore: filter?.dueBefore ? new Date(filter.dueBefore) : undefined,
              dueAfter: filter?.dueAfter ? new Date(filter.dueAfter) : undefined,
              assignee: filter?.assignee ?? undefined,
              needTypes: filter?.needType?.length ? filter.needType : undefined,
            },
            first,
            after ?? undefined,
            order === 'immediate_first',
          );
          const nodes = rows.map(toDeadlineView);
          return {
            nodes,
            edges: rows.map((_row, index) => ({ cursor: cursors[index]!, node: nodes[index] })),
            pageInfo: pageInfo(nextCursor),
          };
        },
      },
      Mutation: {
        async completeDeadline(_root, args, context) {
          const { tenantId, actor } = actingContextOf(context, 'complaints:write');
          const { complaintId, deadlineId } = parseArgs(completeArgs, args, 'args');
          return toDeadlineView(await deadlines.completeByHand(tenantId, complaintId, deadlineId, actor));
        },
      },
    },
    loaders: {
      Complaint: {
        // The deadlines of a whole page of complaints in one query.
        async deadlines(queries, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          const ids = queries.map(({ obj }) => (obj as { id: string }).id);
          const byComplaint = await deadlines.listForComplaints(tenantId, ids);
          return ids.map((id): DeadlineView[] => (byComplaint.get(id) ?? []).map(toDeadlineView));
        },
      },
    },
  };
}
