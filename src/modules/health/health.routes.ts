import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type pg from 'pg';
import { z } from 'zod';
import type { RedisClient } from '../../lib/redis.js';
import { OUTAGE_RETRY_AFTER_SECONDS } from '../../lib/unreachable.js';
import { checkReadiness, readinessSchema } from './readiness.js';

/** Liveness (/healthz) and readiness (/readyz: PostgreSQL and Redis answer). Public, unauthenticated. */
export const healthRoutes: FastifyPluginAsyncZod<{ pool: pg.Pool; redis: RedisClient }> = async (
  app,
  { pool, redis },
) => {
  app.get(
    '/healthz',
    {
      logLevel: 'warn',
      schema: {
        operationId: 'healthz',
        summary: 'The process is up',
        description:
          'Answers 200 while the process runs, without touching PostgreSQL or Redis: for liveness probes.',
        tags: ['health'],
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      logLevel: 'warn',
      schema: {
        operationId: 'readyz',
        summary: 'PostgreSQL and Redis answer',
        description: '503 while either is unreachable, so load balancers stop sending traffic.',
        tags: ['health'],
        response: { 200: readinessSchema, 503: readinessSchema },
      },
    },
    async (_request, reply) => {
      const readiness = await checkReadiness({ pool, redis });
      const ready = readiness.status === 'ready';
      if (!ready) reply.header('retry-after', String(OUTAGE_RETRY_AFTER_SECONDS));
      return reply.code(ready ? 200 : 503).send(readiness);
    },
  );
};
