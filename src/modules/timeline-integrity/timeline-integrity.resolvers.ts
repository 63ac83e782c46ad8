import { requireScope } from '../../graphql/context.js';
import type { GraphqlModule } from '../../graphql/module.js';
import type { TimelineIntegrityService } from './timeline-integrity.service.js';

const typeDefs = /* GraphQL */ `
  "The first timeline entry whose stored link differs from the link recomputed from the entries before it."
  type TimelineMismatch {
    entryId: ID!
    "Its place in the timeline as it now stands, 1 for the first entry."
    position: Int!
    "The entry before it now: entries missing between the two were removed."
    previousEntryId: ID
    "The link the entry stores (hex)."
    stored: String!
    "The link recomputed from the entries before it (hex)."
    expected: String!
  }

  "A complaint's timeline hash chain recomputed from its entries as stored (REST: GET /v1/complaints/{id}/timeline/verification)."
  type TimelineVerification {
    valid: Boolean!
    entries: Int!
    "The recomputed link of the last entry (hex sha256); null without entries."
    head: String
    firstMismatch: TimelineMismatch
  }

  extend type Complaint {
    "Recomputes the timeline's hash chain: valid, or the first entry that does not match."
    timelineVerification: TimelineVerification! @complexity(value: 20)
  }
`;

/** The timeline's hash chain over GraphQL: the same TimelineIntegrityService call as REST. */
export function timelineIntegrityGraphql(deps: {
  timelineIntegrity: TimelineIntegrityService;
}): GraphqlModule {
  const { timelineIntegrity } = deps;
  return {
    typeDefs,
    resolvers: {
      Complaint: {
        async timelineVerification(parent: { id: string }, _args: unknown, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          return timelineIntegrity.verify(tenantId, parent.id);
        },
      },
    },
  };
}
