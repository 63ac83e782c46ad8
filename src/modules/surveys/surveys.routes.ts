import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireAuth } from '../../http/plugins/auth.js';
import { idempotencyOf } from '../../http/plugins/idempotency.js';
import { problemResponses } from '../../http/problem.js';
import {
  actingContext,
  actingHeaders,
  bearerSecurity,
  idempotentWriteHeaders,
  resourceUrl,
} from '../../http/route-helpers.js';
import { complaintKeyParams } from '../complaints/complaints.schemas.js';
import {
  answerSurveyBody,
  csatQuery,
  csatSchema,
  sendSurveyBody,
  surveyListSchema,
  surveyParams,
  surveySchema,
} from './surveys.schemas.js';
import type { SurveysService } from './surveys.service.js';
import { toSurveyView } from './surveys.service.js';

const tags = ['surveys'];

/** Satisfaction surveys and CSAT: thin handlers over SurveysService. */
export const surveysRoutes: FastifyPluginAsyncZod<{
  surveys: SurveysService;
  publicBaseUrl?: string;
}> = async (app, { surveys, publicBaseUrl }) => {
  app.post(
    '/v1/complaints/:id/surveys',
    {
      config: { scope: 'complaints:write', idempotent: true, sends: ['location'] },
      schema: {
        operationId: 'sendSurvey',
        summary: 'Record a satisfaction survey sent to the customer',
        description:
          'Any complaint can be surveyed (满意度调查, seeds 000 and 003), whatever its status and whether or not a ' +
          'follow-up visit is owed or exempt. Emits `survey.sent`.',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        headers: idempotentWriteHeaders,
        body: sendSurveyBody,
        response: { 201: surveySchema, ...problemResponses(404, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const row = await surveys.send(
        actingContext(request),
        request.params.id,
        request.body,
        idempotencyOf(request),
      );
      return reply
        .code(201)
        .header('location', resourceUrl(publicBaseUrl, `/v1/complaints/${row.complaintId}/surveys`))
        .send(toSurveyView(row));
    },
  );

  app.get(
    '/v1/complaints/:id/surveys',
    {
      config: { scope: 'complaints:read' },
      schema: {
        operationId: 'listSurveys',
        summary: 'The satisfaction surveys of a complaint',
        description: 'Every survey sent for the complaint, in the order sent, with its answer once given.',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        response: { 200: surveyListSchema, ...problemResponses(404) },
      },
    },
    async (request) => ({
      data: (await surveys.list(actingContext(request), request.params.id)).map(toSurveyView),
    }),
  );

  app.post(
    '/v1/complaints/:id/surveys/:surveyId/answer',
    {
      config: { scope: 'complaints:write' },
      schema: {
        operationId: 'answerSurvey',
        summary: 'Record the customer’s answer to a satisfaction survey',
        description:
          'A score from 1 to 5 and a comment, once: a second answer is 409 `survey_already_answered`. Emits ' +
          '`survey.answered`.',
        tags,
        security: bearerSecurity,
        params: surveyParams,
        headers: actingHeaders,
        body: answerSurveyBody,
        response: { 200: surveySchema, ...problemResponses(404, 409, 413, 415) },
      },
    },
    async (request) =>
      toSurveyView(
        await surveys.answer(
          actingContext(request),
          request.params.id,
          request.params.surveyId,
          request.body,
        ),
      ),
  );

  app.get(
    '/v1/reports/csat',
    {
      config: { scope: 'reports:read' },
      schema: {
        operationId: 'getCsat',
        summary: 'Customer satisfaction (CSAT) over a period',
        description:
          'Surveys answered from `from` to `to` (local days in the tenant time zone, inclusive): how many, how many ' +
          'satisfied (score 4 or 5), the mean score and the CSAT percentage, split by the complaint’s `channel`, ' +
          '`category` or handler (`assignee`) when `groupBy` is given.',
        tags: ['reports'],
        security: bearerSecurity,
        querystring: csatQuery,
        response: { 200: csatSchema, ...problemResponses() },
      },
    },
    async (request) => surveys.csat(requireAuth(request).tenantId, request.query),
  );
};
