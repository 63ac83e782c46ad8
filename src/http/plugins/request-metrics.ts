import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Histogram, type Registry } from 'prom-client';

/** The route label of a request no route matched: the raw URL would make a series per path tried. */
const UNMATCHED_ROUTE = 'unmatched';

/**
 * `redress_http_request_duration_seconds`: every answered request, by method, route pattern
 * (`/v1/complaints/:id`, never the URL, which holds ids) and status code. Its `_count` is the
 * request count. One observation a request, in a callback hook (an async one costs a promise).
 */
export const requestMetricsPlugin = fp(async (app: FastifyInstance, options: { metrics: Registry }) => {
  const duration = new Histogram({
    name: 'redress_http_request_duration_seconds',
    help: 'Seconds from receiving an HTTP request to sending its answer, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [options.metrics],
  });
  app.addHook('onResponse', (request, reply, done) => {
    duration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? UNMATCHED_ROUTE,
        status_code: reply.statusCode,
      },
      reply.elapsedTime / 1000,
    );
    done();
  });
});
