import calculateSlot from 'cluster-key-slot';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { RedisClusterSeeds } from '../config/env.js';
import { groupBy } from './group-by.js';

/** A connection to Redis: one server, or every master and replica of a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Where Redis runs: one server at a URL, or a Redis Cluster found from some of its nodes. */
export type RedisTarget =
  | { url: string; cluster?: undefined }
  | { url?: undefined; cluster: RedisClusterSeeds };

/** The Redis the environment names: REDIS_CLUSTER_NODES or REDIS_URL (loadEnv requires one). */
export function redisTarget(env: {
  REDIS_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: RedisClusterSeeds;
}) {
  if (env.REDIS_CLUSTER_NODES) return { cluster: env.REDIS_CLUSTER_NODES } satisfies RedisTarget;
  if (env.REDIS_URL) return { url: env.REDIS_URL } satisfies RedisTarget;
  throw new Error('neither REDIS_URL nor REDIS_CLUSTER_NODES is set');
}

/**
 * Longest a request-path Redis command waits for its answer: a Redis that went silent without
 * closing the connection (a network partition) would otherwise hold it until TCP gives up.
 */
export const REQUEST_REDIS_COMMAND_TIMEOUT_MS = 1_000;

/**
 * What each use needs of its connection. Request path (rate limits, readiness, arming from the
 * API): commands fail fast while Redis is away instead of queueing, and time out when it stops
 * answering, so the API keeps answering without it. Queue (BullMQ workers): blocking commands retry for ever. Pub/sub: ioredis's defaults,
 * which resubscribe after a reconnect (on a cluster, through another node).
 */
const ROLE_OPTIONS = {
  request: {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: REQUEST_REDIS_COMMAND_TIMEOUT_MS,
    lazyConnect: true,
  },
  queue: { maxRetriesPerRequest: null },
  pubsub: {},
} satisfies Record<string, RedisOptions>;

export type RedisRole = keyof typeof ROLE_OPTIONS;

/** The one place Redis connections are made: a Redis or a Cluster, as the target says, set up for `role`. */
export function createRedis(target: RedisTarget, role: RedisRole): RedisClient {
  const options: RedisOptions = ROLE_OPTIONS[role];
  if (!target.cluster) return new Redis(target.url, options);
  const { enableOfflineQueue, lazyConnect, ...perNode } = options;
  const { nodes, username, password, tls } = target.cluster;
  const clusterOptions: ClusterOptions = {
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    redisOptions: { ...perNode, username, password, ...(tls ? { tls: {} } : {}) },
  };
  return new Cluster(nodes, clusterOptions);
}

/** A connection for the request path (see ROLE_OPTIONS); call `connect()` on it. */
export const createRequestRedis = (target: RedisTarget) => createRedis(target, 'request');

/** Whether a connection is to a Redis Cluster, where a multi-key command must stay within one slot. */
export const isCluster = (redis: RedisClient): redis is Cluster => redis instanceof Cluster;

/** The hash slot of a key, as Redis Cluster computes it (hash tags included). */
export const slotOf = (key: string): number => calculateSlot(key);

/** The servers holding the data: the one server, or every master of a cluster. */
export function mastersOf(redis: RedisClient): Redis[] {
  return isCluster(redis) ? redis.nodes('master') : [redis];
}

/**
 * Every key matching a SCAN pattern, in batches, from every master: on a cluster, one node's SCAN
 * sees only its own slots. Never KEYS, which blocks a server while it walks every key.
 */
export async function* scanKeys(redis: RedisClient, match: string, count = 500): AsyncGenerator<string[]> {
  for (const master of mastersOf(redis)) {
    for await (const keys of master.scanStream({ match, count })) {
      if ((keys as string[]).length > 0) yield keys as string[];
    }
  }
}

/**
 * Deletes keys of any slots and returns how many there were: one UNLINK per slot, so none spans
 * slots on a cluster, and one UNLINK for the lot on a single server.
 */
export async function unlinkKeys(redis: RedisClient, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) return 0;
  if (!isCluster(redis)) return redis.unlink(...keys);
  const bySlot = groupBy(keys, slotOf);
  const counts = await Promise.all([...bySlot.values()].map((group) => redis.unlink(...group)));
  return counts.reduce((sum, count) => sum + count, 0);
}
