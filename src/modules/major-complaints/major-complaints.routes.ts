import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireAuth } from '../../http/plugins/auth.js';
import { problemResponses } from '../../http/problem.js';
import { bearerSecurity } from '../../http/route-helpers.js';
import { toComplaintView } from '../complaints/complaint-views.js';
import { complaintPageSchema } from '../complaints/complaints.schemas.js';
import { listMajorComplaintsQuery } from './major-complaints.schemas.js';
import type { MajorComplaintsService } from './major-complaints.service.js';

/** The major-complaint file (scope `complaints:read`). */
export const majorComplaintsRoutes: FastifyPluginAsyncZod<{
  majorComplaints: MajorComplaintsService;
}> = async (app, { majorComplaints }) => {
  app.get(
    '/v1/major-complaints',
    {
      config: { scope: 'complaints:read' },
      schema: {
        operationId: 'listMajorComplaints',
        summary: 'The file of major complaints',
        description:
          'Major complaints are filed separately (单独立卷): every complaint that is major now, most recently ' +
          'made major first, each with `majorReasons` and `majorSince`. Filter by `reason` and `status`; pages ' +
          'with `limit` (≤ 100) and the opaque `nextCursor`.',
        tags: ['complaints'],
        security: bearerSecurity,
        querystring: listMajorComplaintsQuery,
        response: { 200: complaintPageSchema, ...problemResponses() },
      },
    },
    async (request) => {
      const { states, nextCursor } = await majorComplaints.list(requireAuth(request).tenantId, request.query);
      return { data: states.map((state) => toComplaintView(state.row, state.nextDeadline)), nextCursor };
    },
  );
};
