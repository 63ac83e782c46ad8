import { Redis } from 'ioredis';

/**
 * A Redis connection for request-path use (rate limits, readiness): commands fail fast while
 * Redis is away instead of queueing, so the API keeps answering without it.
 */
export function createRequestRedis(url: string): Redis {
  return new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
}

/** A Redis connection for BullMQ, which needs blocking commands to retry forever. */
export function createQueueRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}
