import type { GraphQLContext } from '../../graphql/context.js';
import type { GraphqlModule } from '../../graphql/module.js';
import type {
  CommunicationView,
  ComplaintView,
  TimelineEntryView,
} from '../complaints/complaints.schemas.js';
import {
  maskChanges,
  maskCommunication,
  maskComplaint,
  maskTimelineEntry,
  seesPersonalData,
} from './personal-fields.js';

/** Whether the GraphQL caller sees personal data in clear; a context without a key does not. */
const inClear = (context: GraphQLContext): boolean =>
  context.auth !== null && seesPersonalData(context.auth.scopes);

/**
 * Masks personal fields over GraphQL wherever the types that hold them are resolved (queries,
 * mutations and their idempotent replays, subscriptions), for callers without
 * `personal_data:read`. Parents carry the REST views in clear; these field resolvers decide.
 */
export function personalDataGraphql(): GraphqlModule {
  const complaintField =
    <K extends 'customer' | 'description' | 'desiredOutcome'>(field: K) =>
    (parent: ComplaintView, _args: unknown, context: GraphQLContext) =>
      inClear(context) ? parent[field] : maskComplaint({ [field]: parent[field] })[field];
  return {
    typeDefs: '',
    resolvers: {
      Complaint: {
        customer: complaintField('customer'),
        description: complaintField('description'),
        desiredOutcome: complaintField('desiredOutcome'),
      },
      Communication: {
        body: (parent: CommunicationView, _args: unknown, context: GraphQLContext) =>
          inClear(context) ? parent.body : maskCommunication({ body: parent.body }).body,
      },
      TimelineEntry: {
        changes: (parent: TimelineEntryView, _args: unknown, context: GraphQLContext) =>
          inClear(context) ? parent.changes : maskChanges(parent.changes),
        data: (parent: TimelineEntryView, _args: unknown, context: GraphQLContext) =>
          inClear(context) ? parent.data : maskTimelineEntry(parent).data,
      },
    },
  };
}
