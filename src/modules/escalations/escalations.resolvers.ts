import { z } from 'zod';
import { actingContextOf, parseArgs, requireScope } from '../../graphql/context.js';
import { idempotentMutation } from '../../graphql/idempotency.js';
import { enumSdl, type GraphqlModule } from '../../graphql/module.js';
import { complaintKeyParams } from '../complaints/complaints.schemas.js';
import type { IdempotencyService } from '../idempotency/idempotency.service.js';
import { createEscalationBody, escalationSchema } from './escalations.schemas.js';
import { type EscalationsService, toEscalationView } from './escalations.service.js';

const typeDefs = /* GraphQL */ `
  ${enumSdl('EscalationTrigger', escalationSchema.shape.trigger.options)}

  "Who hears of an escalation."
  type EscalationTarget {
    role: String!
    name: String
    email: String
  }

  "An escalation, as GET /v1/complaints/{id}/escalations shows it."
  type Escalation {
    id: ID!
    complaintId: ID!
    "1 team lead, 2 department manager, 3 crisis team."
    level: Int!
    previousLevel: Int!
    "breach: a deadline fell due unmet; major: a major complaint; manual: a handler."
    trigger: EscalationTrigger!
    reason: String!
    "The breached deadline, for breach escalations."
    deadlineId: ID
    targets: [EscalationTarget!]!
    actor: Actor!
    createdAt: DateTime!
  }

  extend type Complaint {
    "Every escalation of the complaint, oldest first (at most three: the level only rises)."
    escalations: [Escalation!]! @complexity(value: 5)
  }

  extend type Mutation {
    """
    Raises the complaint to a higher level by hand (escalation_level_not_higher otherwise). With
    idempotencyKey a retry gets the first answer.
    """
    escalateComplaint(complaintId: ID!, level: Int!, reason: String!, idempotencyKey: String): Escalation!
  }
`;

const escalateArgs = z.strictObject({ complaintId: complaintKeyParams.shape.id });

/** Escalations over GraphQL: the same EscalationsService calls as the REST routes. */
export function escalationsGraphql(deps: {
  escalations: EscalationsService;
  idempotency: IdempotencyService;
}): GraphqlModule {
  const { escalations, idempotency } = deps;
  return {
    typeDefs,
    resolvers: {
      Mutation: {
        async escalateComplaint(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const { complaintId } = parseArgs(escalateArgs, { complaintId: args.complaintId }, 'args');
          const input = parseArgs(createEscalationBody, { level: args.level, reason: args.reason }, 'input');
          return idempotentMutation(
            idempotency,
            {
              tenantId: acting.tenantId,
              key: args.idempotencyKey,
              operation: 'escalateComplaint',
              input: { complaintId, ...input },
            },
            async (binding) =>
              toEscalationView(await escalations.escalateByHand(acting, complaintId, input, binding)),
          );
        },
      },
    },
    loaders: {
      Complaint: {
        // The escalations of a whole page of complaints in one query.
        async escalations(queries, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          const ids = queries.map(({ obj }) => (obj as { id: string }).id);
          const byComplaint = await escalations.listForComplaints(tenantId, ids);
          return ids.map((id) => (byComplaint.get(id) ?? []).map(toEscalationView));
        },
      },
    },
  };
}
