import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import pTimeout from 'p-timeout';
import type pg from 'pg';
import { z } from 'zod';
import type { RedisClient } from '../../lib/redis.js';
import { OUTAGE_RETRY_AFTER_SECONDS } from '../../lib/unreachable.js';

const CHECK_TIMEOUT_MS = 2_000;

const checkResult = z.object({
  status: z.enum(['up', 'down']),
  latencyMs: z.number(),
  error: z.string().optional(),
});
const readinessSchema = z
  .object({
    status: z.enum(['ready', 'not_ready']),
    checks: z.object({ postgres: checkResult, redis: checkResult }),
  })
  .meta({ id: 'Readiness' });

async function timed(check: () => Promise<unknown>): Promise<z.infer<typeof checkResult>> {
  const started = performance.now();
  try {
    await pTimeout(check(), {
      milliseconds: CHECK_TIMEOUT_MS,
      message: `no answer within ${CHECK_TIMEOUT_MS} ms`,
    });
    return { status: 'up', latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return {
      status: 'down',
      latencyMs: Math.round(performance.now() - started),
      error: (error as Error).message,
    };
  }
}

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
      const [postgres, redisCheck] = await Promise.all([
        timed(() => pool.query('select 1')),
        timed(() => redis.ping()),
      ]);
      const ready = postgres.status === 'up' && redisCheck.status === 'up';
      if (!ready) reply.header('retry-after', String(OUTAGE_RETRY_AFTER_SECONDS));
      return reply
        .code(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'not_ready', checks: { postgres, redis: redisCheck } });
    },
  );
};
