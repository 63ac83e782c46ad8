import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireAuth } from '../../http/plugins/auth.js';
import { problemResponses } from '../../http/problem.js';
import { actingContext, actingHeaders, bearerSecurity, resourceUrl } from '../../http/route-helpers.js';
import { complaintEtag, toComplaintView } from '../complaints/complaint-views.js';
import { complaintKeyParams, complaintSchema } from '../complaints/complaints.schemas.js';
import { conflictBody, conflictListSchema, conflictSchema, handoverBody } from './ownership.schemas.js';
import { type OwnershipService, toConflictView } from './ownership.service.js';

const tags = ['complaints'];

/** Handovers and declared conflicts of interest: thin handlers over OwnershipService. */
export const ownershipRoutes: FastifyPluginAsyncZod<{
  ownership: OwnershipService;
  publicBaseUrl?: string;
}> = async (app, { ownership, publicBaseUrl }) => {
  app.post(
    '/v1/complaints/:id/handover',
    {
      config: { scope: 'complaints:write', sends: ['etag'] },
      schema: {
        operationId: 'handOverComplaint',
        summary: 'Hand a complaint over to its next owner',
        description:
          'The first receiver owns a complaint until it is handed over to a named person (首问负责), who becomes ' +
          'the `assignee`. Someone the complaint is about (`subjectStaff`) or who declared a conflict of ' +
          'interest is refused with 409 `conflict_of_interest` naming them; the current owner is 409 ' +
          '`already_owner`. `If-Match` is optional.',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        headers: actingHeaders.extend({ 'if-match': z.string().max(1000).optional() }),
        body: handoverBody,
        response: { 200: complaintSchema, ...problemResponses(404, 409, 412, 413, 415) },
      },
    },
    async (request, reply) => {
      const { row, nextDeadline } = await ownership.handOver(
        actingContext(request),
        request.params.id,
        request.body,
        request.headers['if-match'],
      );
      return reply.header('etag', complaintEtag(row)).send(toComplaintView(row, nextDeadline));
    },
  );

  app.post(
    '/v1/complaints/:id/conflicts',
    {
      config: { scope: 'complaints:write', sends: ['location'] },
      schema: {
        operationId: 'declareConflict',
        summary: 'Declare a conflict of interest in a complaint',
        description:
          'From then on the person may not be assigned or handed the complaint (回避原则). When they own it, ' +
          '`handoverTo` is required and hands it over in the same step; without it the answer is 409 ' +
          '`conflict_of_interest`. A second declaration for the same person is 409 `conflict_already_declared`.',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        headers: actingHeaders,
        body: conflictBody,
        response: { 201: conflictSchema, ...problemResponses(404, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const { conflict } = await ownership.declareConflict(
        actingContext(request),
        request.params.id,
        request.body,
      );
      return reply
        .code(201)
        .header('location', resourceUrl(publicBaseUrl, `/v1/complaints/${conflict.complaintId}/conflicts`))
        .send(toConflictView(conflict));
    },
  );

  app.get(
    '/v1/complaints/:id/conflicts',
    {
      config: { scope: 'complaints:read' },
      schema: {
        operationId: 'listConflicts',
        summary: 'The conflicts of interest declared in a complaint',
        description: 'Oldest first. A declaration stands for the life of the complaint.',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        response: { 200: conflictListSchema, ...problemResponses(404) },
      },
    },
    async (request) => {
      const rows = await ownership.listConflicts(requireAuth(request).tenantId, request.params.id);
      return { data: rows.map(toConflictView) };
    },
  );
};
