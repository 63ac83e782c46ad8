import { z } from 'zod';
import { actingContextOf, parseArgs, requireScope, withoutNulls } from '../../graphql/context.js';
import { idempotentMutation } from '../../graphql/idempotency.js';
import { enumSdl, type GraphqlModule } from '../../graphql/module.js';
import { complaintKeyParams } from '../complaints/complaints.schemas.js';
import type { IdempotencyService } from '../idempotency/idempotency.service.js';
import { toPromiseView } from './promise-views.js';
import {
  keepPromiseBody,
  makePromiseBody,
  PROMISE_STATUSES,
  promiseParams,
  withdrawPromiseBody,
} from './promises.schemas.js';
import type { PromisesService } from './promises.service.js';

const typeDefs = /* GraphQL */ `
  ${enumSdl('PromiseStatus', PROMISE_STATUSES)}

  "A promise made to the customer, as GET /v1/complaints/{id}/promises lists it."
  type Promise {
    id: ID!
    complaintId: ID!
    "What was promised, in the words used."
    description: String!
    "Who made the promise, when not the caller."
    madeBy: String
    madeAt: DateTime!
    dueAt: DateTime!
    "From its promise deadline: open while pending, kept once met, broken when due unmet, withdrawn."
    status: PromiseStatus!
    keptAt: DateTime
    "Kept after it was broken; the breach still counts."
    keptLate: Boolean!
    keptNote: String
    brokenAt: DateTime
    withdrawnAt: DateTime
    withdrawalReason: String
    "Its promise deadline, the one truth of its status."
    deadline: Deadline!
    actor: Actor!
    createdAt: DateTime!
  }

  input PromiseInput {
    "What was promised to the customer."
    description: String!
    "By when; must be in the future."
    dueAt: DateTime!
    "Who made the promise, when not the caller."
    madeBy: String
  }

  input PromiseKeptInput {
    "How the promise was kept."
    note: String
  }

  input PromiseWithdrawalInput {
    "Why the promise no longer stands."
    reason: String!
  }

  extend type Complaint {
    "Every promise made to the customer, in the order made."
    promises: [Promise!]! @complexity(value: 5)
  }

  extend type Mutation {
    """
    Records a promise made to the customer; it becomes a promise deadline due at dueAt
    (complaint_finished on a finished complaint). With idempotencyKey a retry gets the first answer.
    """
    makePromise(complaintId: ID!, input: PromiseInput!, idempotencyKey: String): Promise!
    "Records that a promise was kept, meeting its deadline (late when broken; promise_not_open once settled)."
    keepPromise(complaintId: ID!, promiseId: ID!, input: PromiseKeptInput): Promise!
    "Withdraws an open promise with the reason, cancelling its deadline (promise_not_open otherwise)."
    withdrawPromise(complaintId: ID!, promiseId: ID!, input: PromiseWithdrawalInput!): Promise!
  }
`;

const complaintArgs = z.strictObject({ complaintId: complaintKeyParams.shape.id });
const promiseArgs = complaintArgs.extend({ promiseId: promiseParams.shape.promiseId });
const inputOf = <S extends z.ZodType>(schema: S, input: unknown) =>
  parseArgs(schema, withoutNulls(input ?? {}), 'input');

/** Promises over GraphQL: the same PromisesService calls as the REST routes. */
export function promisesGraphql(deps: {
  promises: PromisesService;
  idempotency: IdempotencyService;
}): GraphqlModule {
  const { promises, idempotency } = deps;
  const idsOf = (args: { complaintId?: unknown; promiseId?: unknown }) =>
    parseArgs(promiseArgs, { complaintId: args.complaintId, promiseId: args.promiseId }, 'args');
  return {
    typeDefs,
    resolvers: {
      Mutation: {
        async makePromise(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const { complaintId } = parseArgs(complaintArgs, { complaintId: args.complaintId }, 'args');
          const input = inputOf(makePromiseBody, args.input);
          return idempotentMutation(
            idempotency,
            {
              tenantId: acting.tenantId,
              key: args.idempotencyKey,
              operation: 'makePromise',
              input: { complaintId, input },
            },
            async (binding) => toPromiseView(await promises.make(acting, complaintId, input, binding)),
          );
        },
        async keepPromise(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const { complaintId, promiseId } = idsOf(args);
          const input = inputOf(keepPromiseBody, args.input);
          return toPromiseView(await promises.keep(acting, complaintId, promiseId, input));
        },
        async withdrawPromise(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const { complaintId, promiseId } = idsOf(args);
          const input = inputOf(withdrawPromiseBody, args.input);
          return toPromiseView(await promises.withdraw(acting, complaintId, promiseId, input));
        },
      },
    },
    loaders: {
      Complaint: {
        // The promises of a whole page of complaints in one query.
        async promises(queries, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          const ids = queries.map(({ obj }) => (obj as { id: string }).id);
          const byComplaint = await promises.listForComplaints(tenantId, ids);
          return ids.map((id) => (byComplaint.get(id) ?? []).map(toPromiseView));
        },
      },
    },
  };
}
