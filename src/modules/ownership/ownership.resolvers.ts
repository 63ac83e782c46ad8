import { z } from 'zod';
import { actingContextOf, etagOfVersion, parseArgs, requireScope } from '../../graphql/context.js';
import type { GraphqlModule } from '../../graphql/module.js';
import { complaintNode } from '../complaints/complaints.resolvers.js';
import { complaintKeyParams } from '../complaints/complaints.schemas.js';
import { conflictBody, handoverBody } from './ownership.schemas.js';
import { type OwnershipService, toConflictView } from './ownership.service.js';

const typeDefs = /* GraphQL */ `
  "A declared conflict of interest: the person may not be assigned or handed the complaint."
  type Conflict {
    id: ID!
    complaintId: ID!
    staff: String!
    reason: String!
    declaredBy: Actor!
    createdAt: DateTime!
  }

  extend type Complaint {
    "The conflicts of interest declared in the complaint, oldest first."
    conflicts: [Conflict!]! @complexity(value: 5)
  }

  "A declared conflict and the complaint as it stands afterwards (handed over when handoverTo was given)."
  type ConflictDeclaration {
    conflict: Conflict!
    complaint: Complaint!
  }

  extend type Mutation {
    """
    Hands the complaint over to its next owner, who becomes the assignee: conflict_of_interest for
    someone it is about or who declared a conflict, already_owner for the owner. \`version\` as If-Match.
    """
    handOverComplaint(id: ID!, to: String!, reason: String!, version: Int): Complaint!
    """
    Declares a conflict of interest; when the person owns the complaint, handoverTo (required then)
    hands it over in the same step. conflict_already_declared for a second declaration.
    """
    declareConflict(complaintId: ID!, staff: String!, reason: String!, handoverTo: String): ConflictDeclaration!
  }
`;

const complaintKey = complaintKeyParams.shape.id;
const idArgs = z.strictObject({ id: complaintKey });

/** Handovers and conflicts of interest over GraphQL: the same OwnershipService calls as REST. */
export function ownershipGraphql(deps: { ownership: OwnershipService }): GraphqlModule {
  const { ownership } = deps;
  return {
    typeDefs,
    resolvers: {
      Mutation: {
        async handOverComplaint(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const { id } = parseArgs(idArgs, { id: args.id }, 'args');
          const input = parseArgs(handoverBody, { to: args.to, reason: args.reason }, 'input');
          return complaintNode(await ownership.handOver(acting, id, input, etagOfVersion(args.version)));
        },
        async declareConflict(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const { id } = parseArgs(idArgs, { id: args.complaintId }, 'args');
          const input = parseArgs(
            conflictBody,
            { staff: args.staff, reason: args.reason, handoverTo: args.handoverTo ?? undefined },
            'input',
          );
          const { conflict, complaint } = await ownership.declareConflict(acting, id, input);
          return { conflict: toConflictView(conflict), complaint: complaintNode(complaint) };
        },
      },
    },
    loaders: {
      Complaint: {
        // The declared conflicts of a whole page of complaints in one query.
        async conflicts(queries, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          const ids = queries.map(({ obj }) => (obj as { id: string }).id);
          const byComplaint = await ownership.listConflictsOfComplaints(tenantId, ids);
          return ids.map((id) => (byComplaint.get(id) ?? []).map(toConflictView));
        },
      },
    },
  };
}
