import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { PROBLEM_CONTENT_TYPE, problemSchema } from '../../http/problem.js';
import { UnauthenticatedError } from '../../lib/errors.js';
import { registerProcessMetrics } from './process-metrics.js';
import { registerStoreGauges, type StoreGaugeSources } from './store-gauges.js';

const sameSecret = (given: string, expected: string) => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/**
 * Prometheus metrics of the API process: HTTP requests (requestMetricsPlugin), the gauges read
 * from PostgreSQL and Redis (registerStoreGauges), build info and process health.
 * The counts span all tenants, so set METRICS_TOKEN wherever the port is reachable from outside.
 * Breach detection lag is measured where breaches are recorded: the worker's own /metrics.
 */
export const metricsRoutes: FastifyPluginAsyncZod<{
  sources: StoreGaugeSources;
  token: string | undefined;
  /** The git commit the build came from (REDRESS_BUILD_COMMIT), for `redress_build_info`. */
  commit: string | undefined;
  /** Where the app's plugins keep their own metrics (the rate limit's); these are added to it. */
  registry: Registry;
}> = async (app, { sources, token, commit, registry }) => {
  registerProcessMetrics(registry, { prefix: 'redress_api_', commit });
  registerStoreGauges(registry, sources);

  app.get(
    '/metrics',
    {
      logLevel: 'warn',
      schema: {
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        description: 'Needs `Authorization: Bearer <METRICS_TOKEN>` when the server sets METRICS_TOKEN.',
        tags: ['health'],
        response: {
          200: {
            description: 'Prometheus text exposition format 0.0.4',
            // The type the registry answers with (prom-client's default, text format 0.0.4).
            content: { [Registry.PROMETHEUS_CONTENT_TYPE]: { schema: z.string() } },
          },
          401: {
            description: 'METRICS_TOKEN is set and the request did not send it (unauthenticated).',
            content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } },
          },
        },
      },
    },
    async (request, reply) => {
      if (token) {
        const header = request.headers.authorization ?? '';
        if (!sameSecret(header, `Bearer ${token}`))
          throw new UnauthenticatedError('Send the metrics token as a bearer token.');
      }
      const body = await registry.metrics();
      return reply
        .type(registry.contentType)
        .serializer((payload: unknown) => String(payload))
        .send(body);
    },
  );
};
