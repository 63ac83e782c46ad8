import type { Queue } from 'bullmq';
import { createQueue, deadlineQueueNames, type QueuePayloads } from '../../jobs/queues.js';
import type { Clock } from '../../lib/clock.js';
import { createRedis, type RedisClient, type RedisTarget } from '../../lib/redis.js';
import { createDeadlineScheduler, type DeadlineScheduler, deadlineShard } from './deadline-scheduler.js';

type JobState = 'wait' | 'delayed' | 'active' | 'failed';

export interface DeadlineQueue {
  connection: RedisClient;
  /** Every shard of the deadline queue (DEADLINE_QUEUE_SHARDS); one unless spread. */
  queues: ReadonlyArray<Queue<QueuePayloads['deadlines']>>;
  /** The shard that holds this deadline's jobs. */
  queueFor(deadlineId: string): Queue<QueuePayloads['deadlines']>;
  /** Jobs in each of these states, summed over the shards. */
  jobCounts(...states: JobState[]): Promise<Record<string, number>>;
  scheduler: DeadlineScheduler;
  close(): Promise<void>;
}

/**
 * The deadline queues and their scheduler on their own Redis connection. The API opens it
 * `failFast`: while Redis is away, arming fails at once instead of holding the request, and the
 * worker's reconciler arms the jobs later. The worker's connection waits and retries instead.
 */
export function openDeadlineQueue(
  redisTarget: RedisTarget,
  prefix: string,
  clock: Clock,
  options: { failFast: boolean; shards?: number },
): DeadlineQueue {
  const connection = createRedis(redisTarget, options.failFast ? 'request' : 'queue');
  connection.on('error', () => {}); // ioredis reconnects by itself; arming failures are reported per call
  if (options.failFast) connection.connect().catch(() => {});
  const queues = deadlineQueueNames(options.shards ?? 1).map((name) => {
    // Nothing reads the queue's event stream (PostgreSQL is the record), so keep it short.
    const queue = createQueue('deadlines', connection, prefix, {
      name,
      streams: { events: { maxLen: 100 } },
    });
    queue.on('error', () => {});
    return queue;
  });
  return {
    connection,
    queues,
    queueFor: (deadlineId) => queues[deadlineShard(deadlineId, queues.length)]!,
    async jobCounts(...states) {
      const counts = await Promise.all(queues.map((queue) => queue.getJobCounts(...states)));
      return Object.fromEntries(
        states.map((state) => [state, counts.reduce((sum, count) => sum + (count[state] ?? 0), 0)]),
      );
    },
    // An API request waits at most a second for Redis; the reconciler arms whatever did not make it.
    scheduler: createDeadlineScheduler(queues, connection, () => clock.now().getTime(), {
      addTimeoutMs: options.failFast ? 1_000 : null,
    }),
    async close() {
      await Promise.all(queues.map((queue) => queue.close()));
      connection.disconnect();
    },
  };
}
