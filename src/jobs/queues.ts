import { Queue, type QueueOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * Every queue Redress runs, with the payload type of its jobs. Payloads carry ids only, never
 * secrets or customer data: PostgreSQL holds the truth and a job re-reads what it needs.
 */
export interface QueuePayloads {
  /** Housekeeping on a schedule: retention of idempotency keys and similar. */
  maintenance: { task: 'purge-expired-idempotency-keys' };
}

export type QueueName = keyof QueuePayloads;

export const QUEUE_NAMES: readonly QueueName[] = ['maintenance'];

/** A typed BullMQ queue under the deployment's Redis prefix. */
export function createQueue<N extends QueueName>(
  name: N,
  connection: Redis,
  prefix: string,
  options: Omit<QueueOptions, 'connection' | 'prefix'> = {},
): Queue<QueuePayloads[N]> {
  return new Queue<QueuePayloads[N]>(name, { ...options, connection, prefix: `${prefix}:bull` });
}
