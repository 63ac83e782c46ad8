import { inject } from 'vitest';
import { loadEnv } from '../src/config/env.js';
import { systemClock } from '../src/lib/clock.js';
import {
  createRedis,
  type RedisClient,
  type RedisTarget,
  redisTarget,
  scanKeys,
  unlinkKeys,
} from '../src/lib/redis.js';
import { openDeadlineQueue } from '../src/modules/deadlines/deadline-queue.js';

/**
 * The Redis settings the run's tests use: TEST_REDIS_CLUSTER_NODES's cluster when the run has one
 * (see test/global-setup.ts), else TEST_REDIS_URL's server. For test apps and the worker and API
 * processes tests start, which take them as environment variables.
 */
export function testRedisEnv(): RedisEnv {
  const clusterNodes = inject('redisClusterNodes');
  // Both, one empty (which the service reads as unset), so neither leaks in from the environment.
  return clusterNodes
    ? { REDIS_URL: '', REDIS_CLUSTER_NODES: clusterNodes }
    : { REDIS_URL: inject('redisUrl'), REDIS_CLUSTER_NODES: '' };
}

type RedisEnv = { REDIS_URL: string; REDIS_CLUSTER_NODES: string };

/** Whether this run's tests talk to a Redis Cluster. */
export const onRedisCluster = (): boolean => inject('redisClusterNodes') !== '';

/** The run's Redis as a target for src/lib/redis.ts. */
export const testRedisTarget = (): RedisTarget => redisTargetOf(testRedisEnv());

/** A target from Redis environment variables, parsed as the service parses them. */
export function redisTargetOf(env: Partial<RedisEnv>): RedisTarget {
  return redisTarget(loadEnv({ DATABASE_URL: 'postgres://unused@127.0.0.1/unused', ...env }));
}

/** A SCAN pattern matching exactly the keys under `prefix` (glob characters escaped). */
export const keysUnder = (prefix: string) => `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;

/** Connects a short-lived request-path client to `target` (the run's Redis by default). */
export async function connectTestRedis(target: RedisTarget = testRedisTarget()): Promise<RedisClient> {
  const redis = createRedis(target, 'request');
  redis.on('error', () => {});
  await redis.connect();
  return redis;
}

/** Every key under `prefix`, from every master (SCAN, never KEYS). */
export async function listKeysUnder(redis: RedisClient, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of scanKeys(redis, keysUnder(prefix))) keys.push(...batch);
  return keys;
}

/**
 * Deletes every key under `prefix` and returns how many there were. Each file that runs with its
 * own REDIS_PREFIX calls this in afterAll, so no run leaves keys behind on a shared Redis (the
 * global teardown only runs when the whole run ends cleanly).
 */
export async function deleteKeysUnder(target: RedisTarget, prefix: string): Promise<number> {
  const redis = await connectTestRedis(target);
  let deleted = 0;
  try {
    for await (const keys of scanKeys(redis, keysUnder(prefix))) deleted += await unlinkKeys(redis, keys);
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/**
 * A deadline queue for a test to look into BullMQ with (getJob, counts), on its own connection
 * that waits for Redis: the app's own connection gives up after a second, and a test's look must
 * not fail because the machine is busy. Close it when done.
 */
export function patientDeadlineQueue(prefix: string, shards: number) {
  return openDeadlineQueue(testRedisTarget(), prefix, systemClock, { failFast: false, shards });
}
