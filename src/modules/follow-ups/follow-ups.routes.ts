import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireAuth } from '../../http/plugins/auth.js';
import { idempotencyOf } from '../../http/plugins/idempotency.js';
import { problemResponses } from '../../http/problem.js';
import { actingContext, bearerSecurity, idempotentWriteHeaders } from '../../http/route-helpers.js';
import {
  followUpIdParams,
  followUpOutcomeBody,
  followUpOutcomeResultSchema,
  followUpPageSchema,
  followUpSchema,
  listFollowUpsQuery,
  toFollowUpOutcomeView,
  toFollowUpView,
} from './follow-ups.schemas.js';
import type { FollowUpsService } from './follow-ups.service.js';

const tags = ['follow-ups'];

/** Follow-up visits: the work list and outcomes. */
export const followUpsRoutes: FastifyPluginAsyncZod<{ followUps: FollowUpsService }> = async (
  app,
  { followUps },
) => {
  app.get(
    '/v1/follow-ups',
    {
      config: { scope: 'complaints:read' },
      schema: {
        operationId: 'listFollowUps',
        summary: 'Follow-up visits, soonest due first',
        description:
          'Pending visits by default; `overdue=true` for those past due, `dueBefore` for those due by a time, ' +
          '`assignee` for one handler’s. Paged with `limit` and the opaque `nextCursor`.',
        tags,
        security: bearerSecurity,
        querystring: listFollowUpsQuery,
        response: { 200: followUpPageSchema, ...problemResponses() },
      },
    },
    async (request) => {
      const { rows, now, nextCursor } = await followUps.list(requireAuth(request).tenantId, request.query);
      return { data: rows.map((row) => toFollowUpView(row, now)), nextCursor };
    },
  );

  app.get(
    '/v1/follow-ups/:id',
    {
      config: { scope: 'complaints:read' },
      schema: {
        operationId: 'getFollowUp',
        summary: 'A follow-up visit',
        description: 'One follow-up visit, with when it is due and its outcome once recorded.',
        tags,
        security: bearerSecurity,
        params: followUpIdParams,
        response: { 200: followUpSchema, ...problemResponses(404) },
      },
    },
    async (request) =>
      toFollowUpView(await followUps.get(requireAuth(request).tenantId, request.params.id), followUps.now()),
  );

  app.post(
    '/v1/follow-ups/:id/outcome',
    {
      config: { scope: 'complaints:write', idempotent: true },
      schema: {
        operationId: 'recordFollowUpOutcome',
        summary: 'Record the outcome of a follow-up visit',
        description:
          '`satisfied` closes the complaint; `unsatisfied` reopens it to investigating and escalates it one level ' +
          '(trigger `unsatisfied`); `unreachable` schedules the next attempt, up to followUpMaxAttempts; `declined` ' +
          'remembers the customer’s wish for no visits. A visit already settled is 409 `follow_up_not_pending`.',
        tags,
        security: bearerSecurity,
        params: followUpIdParams,
        headers: idempotentWriteHeaders,
        body: followUpOutcomeBody,
        response: { 200: followUpOutcomeResultSchema, ...problemResponses(404, 409, 413, 415) },
      },
    },
    async (request) => {
      const result = await followUps.recordOutcome(
        actingContext(request),
        request.params.id,
        request.body,
        idempotencyOf(request),
      );
      return toFollowUpOutcomeView(result);
    },
  );
};
