import { Queue, type QueueOptions } from 'bullmq';
import type { RedisClient } from '../lib/redis.js';
import { queueTelemetry } from './telemetry.js';

/**
 * Every queue Redress runs, with the payload type of its jobs. Payloads carry ids only, never
 * secrets or customer data: PostgreSQL holds the truth and a job re-reads what it needs.
 */
export interface QueuePayloads {
  /**
   * Wakes the worker when a deadline warning or breach falls due. The job carries no data: its id
   * says which deadline, what and for which due time (see deadline-scheduler.ts), which keeps
   * Redis under 1 KB per pending deadline.
   */
  deadlines: Record<string, never>;
  /** Housekeeping on a schedule: retention of idempotency keys and events, counts kept for metrics. */
  maintenance: { task: MaintenanceTask };
  /** Works through one webhook replay (webhooks.jobs.ts); the replay row holds the rest. */
  'webhook-replays': { tenantId: string; replayId: string };
}

export type QueueName = keyof QueuePayloads;

export type MaintenanceTask =
  | 'purge-expired-idempotency-keys'
  | 'purge-old-events'
  | 'fold-deadline-breach-counts'
  | 'fold-report-counts'
  | 'close-quiet-resolved'
  | 'requeue-webhook-replays'
  | 'digest-timelines';

/**
 * A deadline wake-up as its job id spells it. `armedFor` is the due time the job was armed for
 * (epoch ms): a job left over from before a pause or resume changes nothing.
 */
export type DeadlineJob =
  | { action: 'breach'; deadlineId: string; armedFor: number }
  | { action: 'warn'; deadlineId: string; armedFor: number; index: number };

export const QUEUE_NAMES: readonly QueueName[] = ['deadlines', 'maintenance', 'webhook-replays'];

/**
 * The BullMQ prefix of one queue: under the deployment's REDIS_PREFIX, with a hash tag naming the
 * deployment and the queue. BullMQ's scripts touch many keys of a queue at once, which a Redis
 * Cluster allows only within one slot; the tag puts all of a queue's keys in one, and a tag per
 * queue spreads the queues over the masters. Single servers get the same keys, so moving to a
 * cluster changes nothing.
 *   <REDIS_PREFIX>:bull:{<REDIS_PREFIX>:<queue>}:<queue>:<BullMQ's own suffixes>
 */
export const queuePrefix = (redisPrefix: string, queueName: string): string =>
  `${redisPrefix}:bull:{${redisPrefix}:${queueName}}`;

/**
 * The names of the deadline queues when wake-ups are spread over `shards` of them (see
 * DEADLINE_QUEUE_SHARDS). The first keeps the plain name, so one shard is the queue there always was.
 */
export function deadlineQueueNames(shards: number): string[] {
  return Array.from({ length: shards }, (_, shard) => (shard === 0 ? 'deadlines' : `deadlines-${shard}`));
}

/** A typed BullMQ queue of kind `kind`, named `name` (a deadline shard's, or the kind itself). */
export function createQueue<N extends QueueName>(
  kind: N,
  connection: RedisClient,
  redisPrefix: string,
  options: Omit<QueueOptions, 'connection' | 'prefix'> & { name?: string } = {},
): Queue<QueuePayloads[N]> {
  const { name = kind, ...queueOptions } = options;
  return new Queue<QueuePayloads[N]>(name, {
    ...queueOptions,
    ...(queueTelemetry ? { telemetry: queueTelemetry } : {}),
    connection,
    prefix: queuePrefix(redisPrefix, name),
  });
}
