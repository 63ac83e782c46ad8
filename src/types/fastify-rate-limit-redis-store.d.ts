/** @fastify/rate-limit's Redis store, which ships without typings of its own. */
declare module '@fastify/rate-limit/store/RedisStore.js' {
  import type { Cluster, Redis } from 'ioredis';

  export default class RedisStore {
    constructor(
      continueExceeding: boolean,
      exponentialBackoff: boolean,
      redis: Redis | Cluster,
      key?: string,
    );
  }
}
