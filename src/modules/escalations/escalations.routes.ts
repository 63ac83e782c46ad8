import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireAuth } from '../../http/plugins/auth.js';
import { idempotencyOf } from '../../http/plugins/idempotency.js';
import { problemResponses } from '../../http/problem.js';
import {
  actingContext,
  bearerSecurity,
  idempotentWriteHeaders,
  resourceUrl,
} from '../../http/route-helpers.js';
import { complaintKeyParams } from '../complaints/complaints.schemas.js';
import type { ComplaintsService } from '../complaints/complaints.service.js';
import { createEscalationBody, escalationListSchema, escalationSchema } from './escalations.schemas.js';
import { type EscalationsService, toEscalationView } from './escalations.service.js';

const tags = ['escalations'];

/** Escalations of a complaint: the list, and escalating by hand. */
export const escalationsRoutes: FastifyPluginAsyncZod<{
  escalations: EscalationsService;
  complaints: ComplaintsService;
  publicBaseUrl?: string;
}> = async (app, { escalations, complaints, publicBaseUrl }) => {
  app.post(
    '/v1/complaints/:id/escalations',
    {
      config: { scope: 'complaints:write', idempotent: true },
      schema: {
        operationId: 'escalateComplaint',
        summary: 'Escalate a complaint by hand',
        description:
          'Raises the complaint to a higher level (1 team lead, 2 department manager, 3 crisis team) and ' +
          "notifies that level's targets from the governing SLA policy through `complaint.escalated`. " +
          'A level not above the current one is 409 `escalation_level_not_higher`.',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        headers: idempotentWriteHeaders,
        body: createEscalationBody,
        response: { 201: escalationSchema, ...problemResponses(404, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const escalation = await escalations.escalateByHand(
        actingContext(request),
        request.params.id,
        request.body,
        idempotencyOf(request),
      );
      reply
        .code(201)
        .header(
          'location',
          resourceUrl(publicBaseUrl, `/v1/complaints/${escalation.complaintId}/escalations`),
        );
      return toEscalationView(escalation);
    },
  );

  app.get(
    '/v1/complaints/:id/escalations',
    {
      config: { scope: 'complaints:read' },
      schema: {
        operationId: 'listComplaintEscalations',
        summary: 'The escalations of a complaint, oldest first',
        description:
          'Every escalation of the complaint, oldest first: on breach, for major complaints, and by hand.',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        response: { 200: escalationListSchema, ...problemResponses(404) },
      },
    },
    async (request) => {
      const { tenantId } = requireAuth(request);
      const complaint = await complaints.getRow(tenantId, request.params.id);
      return { data: (await escalations.list(tenantId, complaint.id)).map(toEscalationView) };
    },
  );
};
