import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { complaintNeedType } from '../../db/schema/index.js';
import { instantSchema } from '../../http/instant.js';
import { actorOf, requireAuth } from '../../http/plugins/auth.js';
import { problemResponses } from '../../http/problem.js';
import { commaSeparatedEnum } from '../../http/query-params.js';
import { actingHeaders, bearerSecurity } from '../../http/route-helpers.js';
import { complaintKeyParams } from '../complaints/complaints.schemas.js';
import type { ComplaintsService } from '../complaints/complaints.service.js';
import { DEADLINE_KINDS } from '../sla-policies/sla-targets.js';
import { deadlineSchema, toDeadlineView } from './deadline-views.js';
import type { DeadlinesService } from './deadlines.service.js';

const tags = ['deadlines'];
const STATUSES = ['pending', 'met', 'breached', 'paused', 'cancelled'] as const;

const listQuery = z.strictObject({
  status: commaSeparatedEnum(STATUSES, 'status').optional(),
  kind: commaSeparatedEnum(DEADLINE_KINDS, 'kind').optional(),
  dueBefore: instantSchema.optional(),
  dueAfter: instantSchema.optional(),
  assignee: z.string().trim().min(1).max(200).optional(),
  needType: commaSeparatedEnum(complaintNeedType.enumValues, 'needType')
    .optional()
    .describe('Deadlines of complaints with one of these need types.'),
  order: z
    .enum(['due', 'immediate_first'])
    .default('due')
    .describe(
      '`due`: soonest due first. `immediate_first`: the deadlines of complaints needing an immediate fix first, then the rest, each soonest due first (handle immediate needs first, seed 004).',
    ),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().min(1).max(500).optional(),
});

const deadlinePage = z
  .object({ data: z.array(deadlineSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'DeadlinePage' });

/** Deadlines of complaints: per complaint, as a work queue, and by-hand completion. */
export const deadlinesRoutes: FastifyPluginAsyncZod<{
  deadlines: DeadlinesService;
  complaints: ComplaintsService;
}> = async (app, { deadlines, complaints }) => {
  app.get(
    '/v1/complaints/:id/deadlines',
    {
      config: { scope: 'complaints:read' },
      schema: {
        operationId: 'listComplaintDeadlines',
        summary: 'The deadlines of a complaint',
        description:
          'Every deadline of the complaint (acknowledgement, resolution, report-up …), open and settled, with when each is due.',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        response: { 200: z.object({ data: z.array(deadlineSchema) }), ...problemResponses(404) },
      },
    },
    async (request) => {
      const { tenantId } = requireAuth(request);
      const complaint = await complaints.getRow(tenantId, request.params.id);
      return { data: (await deadlines.listForComplaint(tenantId, complaint.id)).map(toDeadlineView) };
    },
  );

  app.get(
    '/v1/deadlines',
    {
      config: { scope: 'complaints:read' },
      schema: {
        operationId: 'listDeadlines',
        summary: 'Deadlines across complaints, soonest due first (work queues)',
        description:
          "Open deadlines across the tenant's complaints, soonest due first: filter by status, kind, due window and assignee to build work queues. Pages with `limit` and the opaque `nextCursor`.",
        tags,
        security: bearerSecurity,
        querystring: listQuery,
        response: { 200: deadlinePage, ...problemResponses() },
      },
    },
    async (request) => {
      const { status, kind, dueBefore, dueAfter, assignee, needType, order, limit, cursor } = request.query;
      const { rows, nextCursor } = await deadlines.list(
        requireAuth(request).tenantId,
        {
          statuses: status,
          kinds: kind,
          dueBefore: dueBefore ? new Date(dueBefore) : undefined,
          dueAfter: dueAfter ? new Date(dueAfter) : undefined,
          assignee,
          needTypes: needType,
        },
        limit,
        cursor,
        order === 'immediate_first',
      );
      return { data: rows.map(toDeadlineView), nextCursor };
    },
  );

  app.post(
    '/v1/complaints/:id/deadlines/:deadlineId/complete',
    {
      config: { scope: 'complaints:write' },
      schema: {
        operationId: 'completeDeadline',
        summary: 'Record a deadline done by hand',
        description:
          'For deadlines no API action meets by itself: the major-complaint report up (`major_report`) and ' +
          'the follow-up visit (`follow_up`). Others are met by their action (contact, reply, resolution).',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams.extend({ deadlineId: z.uuid() }),
        headers: actingHeaders,
        response: { 200: deadlineSchema, ...problemResponses(404, 409) },
      },
    },
    async (request) => {
      const row = await deadlines.completeByHand(
        requireAuth(request).tenantId,
        request.params.id,
        request.params.deadlineId,
        actorOf(request),
      );
      return toDeadlineView(row);
    },
  );
};
