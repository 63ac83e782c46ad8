import { actingContextOf, parseArgs, requireScope, withoutNulls } from '../../graphql/context.js';
import type { GraphqlModule } from '../../graphql/module.js';
import { parseDataSubject } from './data-subject.js';
import { assertMayExport } from './data-subjects.routes.js';
import { exportDataSubjectBody } from './data-subjects.schemas.js';
import type { DataSubjectsService } from './data-subjects.service.js';

const typeDefs = /* GraphQL */ `
  extend type Mutation {
    """
    Everything held on a data subject, in clear (REST: POST /v1/data-subjects/export, whose answer,
    DataSubjectExport in openapi.yaml, this is): their complaints, communications, timeline entries
    and the events about them still kept. Name the subject by exactly one of phone, email and
    externalId (data_subject_invalid otherwise). A subject of whom nothing is held gets empty lists.
    At most 1,000 complaints (truncated). Needs personal_data:export and personal_data:read; recorded
    as a data_subject.exported event naming the subject masked. A mutation because it records.
    """
    exportDataSubject(phone: String, email: String, externalId: String): JSONObject! @complexity(value: 50)
  }
`;

/** Access exports over GraphQL: the same DataSubjectsService call as REST. */
export function dataSubjectsGraphql(deps: { dataSubjects: DataSubjectsService }): GraphqlModule {
  const { dataSubjects } = deps;
  return {
    typeDefs,
    resolvers: {
      Mutation: {
        async exportDataSubject(_parent: unknown, args: Record<string, unknown>, context) {
          assertMayExport(requireScope(context, 'personal_data:export'));
          const { tenantId, actor } = actingContextOf(context, 'personal_data:export');
          const subject = parseDataSubject(
            parseArgs(exportDataSubjectBody, withoutNulls(args), 'args'),
            'args',
          );
          return dataSubjects.export(tenantId, subject, actor);
        },
      },
    },
  };
}
