import { Queue, type QueueOptions } from 'bullmq';
import type { Redis } from 'ioredis';

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
}

export type QueueName = keyof QueuePayloads;

export type MaintenanceTask =
  | 'purge-expired-idempotency-keys'
  | 'purge-old-events'
  | 'fold-deadline-breach-counts'
  | 'fold-report-counts';

/**
 * A deadline wake-up as its job id spells it. `armedFor` is the due time the job was armed for
 * (epoch ms): a job left over from before a pause or resume changes nothing.
 */
export type DeadlineJob =
  | { action: 'breach'; deadlineId: string; armedFor: number }
  | { action: 'warn'; deadlineId: string; armedFor: number; index: number };

export const QUEUE_NAMES: readonly QueueName[] = ['deadlines', 'maintenance'];

/** A typed BullMQ queue under the deployment's Redis prefix. */
export function createQueue<N extends QueueName>(
  name: N,
  connection: Redis,
  prefix: string,
  options: Omit<QueueOptions, 'connection' | 'prefix'> = {},
): Queue<QueuePayloads[N]> {
  return new Queue<QueuePayloads[N]>(name, { ...options, connection, prefix: `${prefix}:bull` });
}
