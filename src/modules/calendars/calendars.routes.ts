import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireAuth } from '../../http/plugins/auth.js';
import { problemResponses } from '../../http/problem.js';
import { bearerSecurity, resourceUrl } from '../../http/route-helpers.js';
import { etagForVersion } from '../../lib/etag.js';
import {
  calendarBody,
  calendarIdParams,
  calendarListSchema,
  calendarSchema,
  toCalendarView,
} from './calendars.schemas.js';
import type { CalendarsService } from './calendars.service.js';

const tags = ['calendars'];

/** Business calendars (scope `policies:manage`). */
export const calendarsRoutes: FastifyPluginAsyncZod<{
  calendars: CalendarsService;
  publicBaseUrl?: string;
}> = async (app, { calendars, publicBaseUrl }) => {
  app.post(
    '/v1/calendars',
    {
      config: { scope: 'policies:manage', sends: ['location', 'etag'] },
      schema: {
        operationId: 'createCalendar',
        summary: 'Create a business calendar',
        description:
          'Creates a business calendar (time zone, weekly hours, holidays) for business-hour deadline clocks, answering 201 with its `Location` and `ETag`.',
        tags,
        security: bearerSecurity,
        body: calendarBody,
        response: { 201: calendarSchema, ...problemResponses(413, 415) },
      },
    },
    async (request, reply) => {
      const row = await calendars.create(requireAuth(request).tenantId, request.body);
      return reply
        .code(201)
        .header('location', resourceUrl(publicBaseUrl, `/v1/calendars/${row.id}`))
        .header('etag', etagForVersion(row.version))
        .send(toCalendarView(row));
    },
  );

  app.get(
    '/v1/calendars',
    {
      config: { scope: 'policies:manage' },
      schema: {
        operationId: 'listCalendars',
        summary: 'List business calendars',
        description: "The tenant's business calendars.",
        tags,
        security: bearerSecurity,
        response: { 200: calendarListSchema, ...problemResponses() },
      },
    },
    async (request) => ({ data: (await calendars.list(requireAuth(request).tenantId)).map(toCalendarView) }),
  );

  app.get(
    '/v1/calendars/:id',
    {
      config: { scope: 'policies:manage', sends: ['etag'] },
      schema: {
        operationId: 'getCalendar',
        summary: 'Get a business calendar',
        description: 'One business calendar with its `ETag`, for `If-Match` on replacement.',
        tags,
        security: bearerSecurity,
        params: calendarIdParams,
        response: { 200: calendarSchema, ...problemResponses(404) },
      },
    },
    async (request, reply) => {
      const row = await calendars.get(requireAuth(request).tenantId, request.params.id);
      return reply.header('etag', etagForVersion(row.version)).send(toCalendarView(row));
    },
  );

  app.put(
    '/v1/calendars/:id',
    {
      config: { scope: 'policies:manage', sends: ['etag'] },
      schema: {
        operationId: 'replaceCalendar',
        summary: 'Replace a business calendar',
        description:
          'Requires If-Match. Deadlines already set keep their due times; new ones use the new hours.',
        tags,
        security: bearerSecurity,
        params: calendarIdParams,
        headers: z.object({ 'if-match': z.string().max(1000).optional() }),
        body: calendarBody,
        response: { 200: calendarSchema, ...problemResponses(404, 412, 413, 415, 428) },
      },
    },
    async (request, reply) => {
      const row = await calendars.replace(
        requireAuth(request).tenantId,
        request.params.id,
        request.headers['if-match'],
        request.body,
      );
      return reply.header('etag', etagForVersion(row.version)).send(toCalendarView(row));
    },
  );

  app.delete(
    '/v1/calendars/:id',
    {
      config: { scope: 'policies:manage' },
      schema: {
        operationId: 'deleteCalendar',
        summary: 'Delete a business calendar',
        description: '409 `calendar_in_use` while a policy uses it.',
        tags,
        security: bearerSecurity,
        params: calendarIdParams,
        response: { 204: z.undefined().describe('Deleted'), ...problemResponses(404, 409) },
      },
    },
    async (request, reply) => {
      await calendars.remove(requireAuth(request).tenantId, request.params.id);
      return reply.code(204).send();
    },
  );
};
