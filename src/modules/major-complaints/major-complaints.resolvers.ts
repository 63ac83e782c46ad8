import { z } from 'zod';
import { parseArgs, requireScope } from '../../graphql/context.js';
import { type GraphqlModule, pageInfo } from '../../graphql/module.js';
import { COMPLAINT_STATUSES } from '../complaints/complaint-status.js';
import { complaintNode } from '../complaints/complaints.resolvers.js';
import { majorReasonSchema, pageArgs, statusSchema } from '../complaints/complaints.schemas.js';
import type { ListMajorComplaintsQuery } from './major-complaints.schemas.js';
import { type MajorComplaintsService, majorListCursor } from './major-complaints.service.js';

const typeDefs = /* GraphQL */ `
  input MajorComplaintFilter {
    "Only complaints major for this reason."
    reason: MajorReason
    status: [ComplaintStatus!]
  }

  extend type Query {
    """
    The file of major complaints: every complaint that is major now, most recently made major
    first, at most 100 a page (REST: GET /v1/major-complaints).
    """
    majorComplaints(filter: MajorComplaintFilter, first: Int = 25, after: String): ComplaintConnection!
      @complexity(value: 2, multipliers: ["first"])
  }
`;

/** GraphQL's `majorComplaints(filter, first, after)`, checked to the query REST takes. */
const majorComplaintsArgs = pageArgs
  .extend({
    filter: z
      .strictObject({
        reason: majorReasonSchema.nullish(),
        status: z.array(statusSchema).max(COMPLAINT_STATUSES.length).nullish(),
      })
      .nullish(),
  })
  .transform(
    ({ filter, first, after }): ListMajorComplaintsQuery => ({
      reason: filter?.reason ?? undefined,
      status: filter?.status?.length ? filter.status : undefined,
      limit: first,
      cursor: after ?? undefined,
    }),
  );

/** The major-complaint file over GraphQL: the same MajorComplaintsService call as REST. */
export function majorComplaintsGraphql(deps: { majorComplaints: MajorComplaintsService }): GraphqlModule {
  const { majorComplaints } = deps;
  return {
    typeDefs,
    resolvers: {
      Query: {
        async majorComplaints(_root, args, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          const query = parseArgs(majorComplaintsArgs, args, 'args');
          const { states, nextCursor } = await majorComplaints.list(tenantId, query);
          const nodes = states.map(complaintNode);
          return {
            nodes,
            edges: states.map((state, index) => ({ cursor: majorListCursor(state.row), node: nodes[index] })),
            pageInfo: pageInfo(nextCursor),
          };
        },
      },
    },
  };
}
