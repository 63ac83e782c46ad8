import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { actorOf, requireAuth } from '../../http/plugins/auth.js';
import { problemResponses } from '../../http/problem.js';
import { actingHeaders, bearerSecurity } from '../../http/route-helpers.js';
import { ForbiddenScopeError } from '../../lib/errors.js';
import { PERSONAL_DATA_SCOPE, seesPersonalData } from '../personal-data/personal-fields.js';
import type { AuthContext } from '../tenancy/tenancy.service.js';
import { parseDataSubject } from './data-subject.js';
import { dataSubjectExportSchema, exportDataSubjectBody } from './data-subjects.schemas.js';
import type { DataSubjectsService } from './data-subjects.service.js';

/**
 * An export is in clear, always: besides `personal_data:export`, its caller must hold
 * `personal_data:read` too (admin holds both), so the export scope never widens what a key reads.
 */
export function assertMayExport(auth: AuthContext): void {
  if (!seesPersonalData(auth.scopes)) throw new ForbiddenScopeError(PERSONAL_DATA_SCOPE);
}

/** Access exports of data subjects (scopes `personal_data:export` and `personal_data:read`). */
export const dataSubjectsRoutes: FastifyPluginAsyncZod<{ dataSubjects: DataSubjectsService }> = async (
  app,
  { dataSubjects },
) => {
  app.post(
    '/v1/data-subjects/export',
    {
      config: { scope: 'personal_data:export' },
      schema: {
        operationId: 'exportDataSubject',
        summary: 'Exports everything held on a data subject (DSAR)',
        description:
          'Everything the calling tenant holds on one person, in clear, for a subject access request (GDPR art. 15, ' +
          'PIPL art. 45): their complaints, each one’s communications and timeline, and the events about them still ' +
          'kept. The person is named by exactly one of phone, email and external id, in the body (a POST, so the ' +
          'identifier never sits in a URL or an access log). A complaint is theirs when its customer has that ' +
          'identifier, whichever other identifiers it also has; name each identifier the person gave in a call of ' +
          'its own. A person of whom nothing is held gets 200 with empty lists: an explicit "nothing held". At most ' +
          '1,000 complaints per call (`truncated`). Needs `personal_data:export` and `personal_data:read`. Each ' +
          'export is recorded as a `data_subject.exported` event naming the subject masked, never in clear.',
        tags: ['data-subjects'],
        security: bearerSecurity,
        headers: actingHeaders,
        body: exportDataSubjectBody,
        response: { 200: dataSubjectExportSchema, ...problemResponses() },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      assertMayExport(auth);
      const subject = parseDataSubject(request.body, 'body');
      return dataSubjects.export(auth.tenantId, subject, actorOf(request));
    },
  );
};
