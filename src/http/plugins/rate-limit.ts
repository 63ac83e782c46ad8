import rateLimit, { type FastifyRateLimitStore, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, type Registry } from 'prom-client';
import { RateLimitedError } from '../../lib/errors.js';
import type { RedisClient } from '../../lib/redis.js';
import { throttled } from '../../lib/throttle.js';
import { pipelinedRedisStore } from './pipelined-rate-limit-store.js';

/** Least time between two warnings that requests pass uncounted: one line, not one a request. */
const UNCOUNTED_WARNING_INTERVAL_MS = 30_000;

/** The store, telling `onFailure` of every count it could not make before the plugin skips it. */
function reportingFailures(
  Store: FastifyRateLimitStoreCtor,
  onFailure: (error: Error) => void,
): FastifyRateLimitStoreCtor {
  const reporting = (store: FastifyRateLimitStore): FastifyRateLimitStore => ({
    incr(key, callback, timeWindow, max) {
      store.incr(
        key,
        (error, result) => {
          if (error) onFailure(error);
          callback(error, result);
        },
        timeWindow,
        max,
      );
    },
    child: (options) => reporting(store.child(options)),
  });
  // The plugin constructs the store with `new`; a constructor may hand back another object.
  return function ReportingStore(options: ConstructorParameters<FastifyRateLimitStoreCtor>[0]) {
    return reporting(new Store(options));
  } as unknown as FastifyRateLimitStoreCtor;
}

/**
 * Per-API-key request limits, counted in Redis so every API process shares one budget.
 * Runs after authentication (preParsing), so the budget is the key's, not the caller's IP.
 *
 * While Redis cannot count, requests pass uncounted (fail open): PostgreSQL is the record, and
 * an API that refused every request for a Redis outage would lose complaints that it can take.
 * That is never silent: each uncounted request adds to `redress_rate_limit_uncounted_total` on
 * /metrics, and a warning is logged at most every 30 s with how many passed since the last.
 */
export const rateLimitPlugin = fp(
  async (
    app: FastifyInstance,
    options: { redis: RedisClient; max: number; windowSeconds: number; keyPrefix: string; metrics: Registry },
  ) => {
    const uncountedTotal = new Counter({
      name: 'redress_rate_limit_uncounted_total',
      help: 'Requests let through without counting against their API key limit, because the rate-limit store (Redis) failed.',
      registers: [options.metrics],
    });
    const warn = throttled<Error>(UNCOUNTED_WARNING_INTERVAL_MS, (error, uncounted) =>
      app.log.warn(
        { err: error, uncounted },
        'rate limits not enforced: Redis cannot count requests, so they pass uncounted',
      ),
    );
    const onFailure = (error: Error) => {
      uncountedTotal.inc();
      warn(error);
    };

    await app.register(rateLimit, {
      global: true,
      hook: 'preParsing',
      max: options.max,
      timeWindow: options.windowSeconds * 1000,
      store: reportingFailures(
        pipelinedRedisStore(options.redis, `${options.keyPrefix}:rate-limit:`),
        onFailure,
      ),
      // Public routes (health, docs) carry no key and are not limited here.
      allowList: (request) => request.auth === null,
      keyGenerator: (request) => request.auth?.callerId ?? request.ip,
      // A Redis outage must not take the API down with it: requests pass uncounted (see above).
      skipOnError: true,
      errorResponseBuilder: (_request, context) =>
        new RateLimitedError(Math.max(1, Math.ceil(context.ttl / 1000)), context.max),
    });
  },
  { name: 'redress-rate-limit', dependencies: ['redress-auth'] },
);
