import pTimeout from 'p-timeout';
import type pg from 'pg';
import { z } from 'zod';
import type { RedisClient } from '../../lib/redis.js';

const CHECK_TIMEOUT_MS = 2_000;

const checkResult = z.object({
  status: z.enum(['up', 'down']),
  latencyMs: z.number(),
  error: z.string().optional(),
});

/** What /readyz answers, the API's and the worker's alike. */
export const readinessSchema = z
  .object({
    status: z.enum(['ready', 'not_ready']),
    checks: z.object({ postgres: checkResult, redis: checkResult }),
  })
  .meta({ id: 'Readiness' });

export type Readiness = z.infer<typeof readinessSchema>;

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

/**
 * Whether PostgreSQL and Redis answer, each within 2 s: the one readiness rule, behind both
 * processes' /readyz and the `redress_dependency_up` gauge.
 */
export async function checkReadiness(deps: { pool: pg.Pool; redis: RedisClient }): Promise<Readiness> {
  const [postgres, redis] = await Promise.all([
    timed(() => deps.pool.query('select 1')),
    timed(() => deps.redis.ping()),
  ]);
  const ready = postgres.status === 'up' && redis.status === 'up';
  return { status: ready ? 'ready' : 'not_ready', checks: { postgres, redis } };
}
