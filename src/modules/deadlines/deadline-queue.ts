import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createQueue, type QueuePayloads } from '../../jobs/queues.js';
import type { Clock } from '../../lib/clock.js';
import { createQueueRedis, createRequestRedis } from '../../lib/redis.js';
import { createDeadlineScheduler, type DeadlineScheduler } from './deadline-scheduler.js';

export interface DeadlineQueue {
  connection: Redis;
  queue: Queue<QueuePayloads['deadlines']>;
  scheduler: DeadlineScheduler;
  close(): Promise<void>;
}

/**
 * The deadlines queue and its scheduler on their own Redis connection. The API opens it
 * `failFast`: while Redis is away, arming fails at once instead of holding the request, and the
 * worker's reconciler arms the jobs later. The worker's connection waits and retries instead.
 */
export function openDeadlineQueue(
  redisUrl: string,
  prefix: string,
  clock: Clock,
  options: { failFast: boolean },
): DeadlineQueue {
  const connection = options.failFast ? createRequestRedis(redisUrl) : createQueueRedis(redisUrl);
  connection.on('error', () => {}); // ioredis reconnects by itself; arming failures are reported per call
  if (options.failFast) connection.connect().catch(() => {});
  // Nothing reads the queue's event stream (PostgreSQL is the record), so keep it short.
  const queue = createQueue('deadlines', connection, prefix, { streams: { events: { maxLen: 100 } } });
  queue.on('error', () => {});
  return {
    connection,
    queue,
    // An API request waits at most a second for Redis; the reconciler arms whatever did not make it.
    scheduler: createDeadlineScheduler(queue, connection, () => clock.now().getTime(), {
      addTimeoutMs: options.failFast ? 1_000 : null,
    }),
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}
