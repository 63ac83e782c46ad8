import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireAuth } from '../../http/plugins/auth.js';
import { problemResponses } from '../../http/problem.js';
import { bearerSecurity } from '../../http/route-helpers.js';
import { complaintKeyParams } from '../complaints/complaints.schemas.js';
import { timelineVerificationSchema } from './timeline-integrity.schemas.js';
import type { TimelineIntegrityService } from './timeline-integrity.service.js';

/** Verifying a complaint's timeline hash chain (scope `complaints:read`). */
export const timelineIntegrityRoutes: FastifyPluginAsyncZod<{
  timelineIntegrity: TimelineIntegrityService;
}> = async (app, { timelineIntegrity }) => {
  app.get(
    '/v1/complaints/:id/timeline/verification',
    {
      config: { scope: 'complaints:read' },
      schema: {
        operationId: 'verifyComplaintTimeline',
        summary: "Recomputes a complaint's timeline hash chain",
        description:
          'Every timeline entry stores a link: sha256 of the link before it and of its own canonical content as ' +
          'stored. This recomputes the chain from the entries and answers `valid: true` with the number of entries ' +
          'and the head (the last link), or `valid: false` with the first entry whose link does not match: one ' +
          'changed in the database, or the one after entries that were removed. The daily `timeline.digest` event ' +
          'lets an outside system check the heads too.',
        tags: ['complaints'],
        security: bearerSecurity,
        params: complaintKeyParams,
        response: { 200: timelineVerificationSchema, ...problemResponses(404) },
      },
    },
    async (request) => timelineIntegrity.verify(requireAuth(request).tenantId, request.params.id),
  );
};
