import { Redis } from 'ioredis';

/** A SCAN/KEYS pattern matching exactly the keys under `prefix` (glob characters escaped). */
export const keysUnder = (prefix: string) => `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;

/**
 * Deletes every key under `prefix` and returns how many there were. Each file that runs with its
 * own REDIS_PREFIX calls this in afterAll, so no run leaves keys behind on a shared Redis (the
 * global teardown only runs when the whole run ends cleanly).
 */
export async function deleteKeysUnder(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  let deleted = 0;
  try {
    await redis.connect();
    for await (const keys of redis.scanStream({ match: keysUnder(prefix), count: 500 })) {
      const batch = keys as string[];
      if (batch.length > 0) deleted += await redis.unlink(...batch);
    }
  } finally {
    redis.disconnect();
  }
  return deleted;
}
