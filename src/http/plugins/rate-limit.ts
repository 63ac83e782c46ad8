import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { RateLimitedError } from '../../lib/errors.js';
import type { RedisClient } from '../../lib/redis.js';
import { pipelinedRedisStore } from './pipelined-rate-limit-store.js';

/**
 * Per-API-key request limits, counted in Redis so every API process shares one budget.
 * Runs after authentication (preParsing), so the budget is the key's, not the caller's IP.
 */
export const rateLimitPlugin = fp(
  async (
    app: FastifyInstance,
    options: { redis: RedisClient; max: number; windowSeconds: number; keyPrefix: string },
  ) => {
    await app.register(rateLimit, {
      global: true,
      hook: 'preParsing',
      max: options.max,
      timeWindow: options.windowSeconds * 1000,
      store: pipelinedRedisStore(options.redis, `${options.keyPrefix}:rate-limit:`),
      // Public routes (health, docs) carry no key and are not limited here.
      allowList: (request) => request.auth === null,
      keyGenerator: (request) => request.auth?.apiKeyId ?? request.ip,
      // A Redis outage must not take the API down with it: requests pass uncounted.
      skipOnError: true,
      errorResponseBuilder: (_request, context) =>
        new RateLimitedError(Math.max(1, Math.ceil(context.ttl / 1000)), context.max),
    });
  },
  { name: 'redress-rate-limit', dependencies: ['redress-auth'] },
);
