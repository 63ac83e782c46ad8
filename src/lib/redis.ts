import { Redis } from 'ioredis';

/**
 * Longest a request-path Redis command waits for its answer: a Redis that went silent without
 * closing the connection (a network partition) would otherwise hold it until TCP gives up.
 */
export const REQUEST_REDIS_COMMAND_TIMEOUT_MS = 1_000;

/**
 * A Redis connection for request-path use (rate limits, readiness, arming deadlines): commands
 * fail fast while Redis is away instead of queueing, and time out when it stops answering, so the
 * API keeps answering without it.
 */
export function createRequestRedis(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: REQUEST_REDIS_COMMAND_TIMEOUT_MS,
    lazyConnect: true,
  });
}

/** A Redis connection for BullMQ, which needs blocking commands to retry forever. */
export function createQueueRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}
