import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireAuth } from '../../http/plugins/auth.js';
import { problemResponses } from '../../http/problem.js';
import { bearerSecurity } from '../../http/route-helpers.js';
import { feedPageSchema, feedQuery } from './events.schemas.js';
import type { EventsService } from './events.service.js';

/** The pull feed, for consumers that cannot take webhooks. */
export const eventsRoutes: FastifyPluginAsyncZod<{ events: EventsService }> = async (app, { events }) => {
  app.get(
    '/v1/events',
    {
      config: { scope: 'complaints:read', sends: ['cache-control'] },
      schema: {
        operationId: 'listEvents',
        summary: 'Read the event feed',
        description:
          'The events webhooks deliver, with the same ids, oldest first. Keep the `nextCursor` of each ' +
          'page and pass it as `after` to read on: no event is skipped, even one whose transaction ' +
          'commits after later ones. Events are kept for `EVENT_RETENTION_DAYS` (default 30).',
        tags: ['events'],
        security: bearerSecurity,
        querystring: feedQuery,
        response: { 200: feedPageSchema, ...problemResponses() },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return events.feed(requireAuth(request).tenantId, request.query);
    },
  );
};
