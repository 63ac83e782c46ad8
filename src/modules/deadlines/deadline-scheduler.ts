import type { JobsOptions, Queue } from 'bullmq';
import pTimeout from 'p-timeout';
import type { DeadlineJob, QueuePayloads } from '../../jobs/queues.js';
import { createBatcher } from '../../lib/batcher.js';
import { groupBy } from '../../lib/group-by.js';
import type { RedisClient } from '../../lib/redis.js';
import { currentTraceContext, type TraceCarrier } from '../../lib/trace-context.js';
import type { DeadlineRow } from './deadlines.repository.js';

/** What arming needs to know of a deadline. */
export type ArmableDeadline = Pick<DeadlineRow, 'id' | 'status' | 'dueAt' | 'warnAts' | 'warningsFired'>;

/** The wake-up a pending deadline needs next. */
export interface DeadlineWakeUp {
  jobId: string;
  at: number;
  job: DeadlineJob;
  /** The trace context it was armed in; the job's span continues it (see src/jobs/telemetry.ts). */
  traceContext?: TraceCarrier | null;
}

// Completed jobs go at once: PostgreSQL keeps the record. A job that fails every attempt goes too,
// so the reconciler sees it missing and arms it again.
const JOB_OPTIONS: JobsOptions = {
  removeOnComplete: true,
  removeOnFail: true,
  attempts: 5,
  backoff: { type: 'exponential', delay: 500 },
};

/*
 * A job carries no data: everything it needs is in its id, which is also what makes arming
 * idempotent. Redis then holds under 1 KB per pending deadline (one job, see nextWakeUp): the id
 * is written compactly, the deadline's UUID as 22 base64url characters and times in base 36.
 *   w.<deadline>.<warning index>.<armed for>   a warning
 *   b.<deadline>.<armed for>                   the breach
 */
const JOB_ID = /^(?:w\.([A-Za-z0-9_-]{22})\.(\d{1,2})|b\.([A-Za-z0-9_-]{22}))\.([0-9a-z]{1,11})$/;

const compactUuid = (uuid: string) => Buffer.from(uuid.replaceAll('-', ''), 'hex').toString('base64url');
function expandUuid(compact: string): string {
  const hex = Buffer.from(compact, 'base64url').toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The job id of a wake-up: deterministic, so arming twice adds nothing. */
export function wakeUpJobId(job: DeadlineJob): string {
  const armedFor = job.armedFor.toString(36);
  return job.action === 'warn'
    ? `w.${compactUuid(job.deadlineId)}.${job.index}.${armedFor}`
    : `b.${compactUuid(job.deadlineId)}.${armedFor}`;
}

/** The wake-up a job id stands for, or null for an id this scheduler never made. */
export function parseWakeUpJobId(jobId: string): DeadlineJob | null {
  const match = JOB_ID.exec(jobId);
  if (!match) return null;
  const armedFor = Number.parseInt(match[4]!, 36);
  return match[1]
    ? { action: 'warn', deadlineId: expandUuid(match[1]), index: Number(match[2]), armedFor }
    : { action: 'breach', deadlineId: expandUuid(match[3]!), armedFor };
}

/**
 * The one job a pending deadline needs now: its next unrecorded warning, or else its breach. The
 * worker arms the following one when a warning is recorded, so Redis never holds more than one
 * job per deadline. Ids carry the due time, so a pause or resume (which moves it) arms fresh jobs
 * while the old ones find nothing to do.
 */
export function nextWakeUp(deadline: ArmableDeadline): DeadlineWakeUp | null {
  if (deadline.status !== 'pending') return null;
  const armedFor = deadline.dueAt.getTime();
  const index = deadline.warningsFired;
  const warnAt = deadline.warnAts[index];
  const job: DeadlineJob =
    warnAt && warnAt.getTime() < armedFor
      ? { action: 'warn', deadlineId: deadline.id, armedFor, index }
      : { action: 'breach', deadlineId: deadline.id, armedFor };
  return { jobId: wakeUpJobId(job), at: job.action === 'warn' ? warnAt!.getTime() : armedFor, job };
}

export interface DeadlineScheduler {
  /**
   * Adds the next wake-up of each of these deadlines that falls within ARMING_HORIZON_MS; one
   * already there is left as it is, one further off is the reconciler's.
   */
  arm(deadlines: readonly ArmableDeadline[]): Promise<void>;
  /** Of the given wake-ups, those whose job is not in Redis. */
  missing(wakeUps: readonly DeadlineWakeUp[]): Promise<DeadlineWakeUp[]>;
  add(wakeUps: readonly DeadlineWakeUp[]): Promise<void>;
}

/** A deadline handed to arm(), with the trace context it was armed in. */
interface Arming {
  deadline: ArmableDeadline;
  traceContext: TraceCarrier | null;
}

/** Most deadlines armed in one round trip. */
const MAX_DEADLINES_PER_ARMING = 200;

/**
 * How far ahead wake-ups go to Redis. One falling due later is left to the reconciler, which arms
 * it on a sweep once it comes this near; sweeps run at most a third of this apart
 * (SLA_RECONCILE_INTERVAL), so every wake-up is in Redis minutes before it is due. Most wake-ups
 * are hours or days away when a deadline opens (a first contact's warning at 18 hours, a
 * resolution's in days): arming them at intake cost intake a tenth of its CPU, and Redis held a
 * job for every pending deadline however far off.
 */
export const ARMING_HORIZON_MS = 15 * 60_000;

/** Whether a wake-up is near enough to go to Redis now (see ARMING_HORIZON_MS). */
const withinArmingHorizon = (wakeUp: DeadlineWakeUp, now: number) => wakeUp.at <= now + ARMING_HORIZON_MS;

/**
 * Which of `shards` deadline queues holds a deadline's jobs: always the same one, so arming twice
 * finds the job it armed before. Read from the UUID's last eight hex digits, which are random in
 * every UUID version PostgreSQL and Redress make.
 */
export function deadlineShard(deadlineId: string, shards: number): number {
  return shards === 1 ? 0 : Number.parseInt(deadlineId.slice(-8), 16) % shards;
}

/**
 * Arms deadline jobs in BullMQ, each in its deadline's shard of `queues`. `now` decides the delay;
 * a past time runs at once.
 */
export function createDeadlineScheduler(
  queues: ReadonlyArray<Queue<QueuePayloads['deadlines']>>,
  redis: RedisClient,
  now: () => number,
  options: { addTimeoutMs: number | null },
): DeadlineScheduler {
  const byShard = (wakeUps: readonly DeadlineWakeUp[]) =>
    groupBy(wakeUps, (wakeUp) => queues[deadlineShard(wakeUp.job.deadlineId, queues.length)]!);
  // Deadlines armed at about the same moment (by concurrent intakes, or by the worker after the
  // warnings it recorded) go to Redis together, in one pipelined write a queue: a call of its own
  // for each cost the API, the worker and Redis about as much again as the jobs in it. A queue's
  // keys share one hash slot (see queuePrefix), so each write stays within one cluster node.
  const arming = createBatcher({
    run: async (armings: Arming[]) => {
      const current = now();
      await scheduler.add(
        armings
          .flatMap(({ deadline, traceContext }) => {
            const wakeUp = nextWakeUp(deadline);
            return wakeUp ? { ...wakeUp, traceContext } : [];
          })
          .filter((wakeUp) => withinArmingHorizon(wakeUp, current)),
      );
      return armings.map(() => undefined);
    },
    maxBatch: MAX_DEADLINES_PER_ARMING,
    maxWaitMs: 1,
  });
  const scheduler: DeadlineScheduler = {
    async add(wakeUps) {
      if (wakeUps.length === 0) return;
      const current = now();
      const adding = Promise.all(
        [...byShard(wakeUps)].map(([queue, group]) =>
          queue.addBulk(
            group.map((wakeUp) => ({
              name: wakeUp.job.action,
              data: {},
              opts: {
                ...JOB_OPTIONS,
                jobId: wakeUp.jobId,
                delay: Math.max(0, wakeUp.at - current),
                // BullMQ's own telemetry field: the worker's span for the job continues this trace.
                ...(wakeUp.traceContext
                  ? { telemetry: { metadata: JSON.stringify(wakeUp.traceContext) } }
                  : {}),
              },
            })),
          ),
        ),
      );
      if (options.addTimeoutMs === null) {
        await adding;
        return;
      }
      // A late add still lands: the ids are deterministic, so the reconciler's own add is a no-op.
      await pTimeout(adding, {
        milliseconds: options.addTimeoutMs,
        message: `Redis did not take the jobs within ${options.addTimeoutMs} ms`,
      });
    },

    async arm(deadlines) {
      // Each deadline keeps the trace context of the request or job that armed it: a batch goes
      // to Redis in whichever caller's context happened to start it.
      const traceContext = currentTraceContext();
      await Promise.all(deadlines.map((deadline) => arming.submit({ deadline, traceContext })));
    },

    async missing(wakeUps) {
      if (wakeUps.length === 0) return [];
      // One pipelined EXISTS per job hash, a pipeline a queue: the reconciler checks many
      // thousands at a time, and a pipeline on a cluster must stay within one slot.
      const found = new Set<DeadlineWakeUp>();
      await Promise.all(
        [...byShard(wakeUps)].map(async ([queue, group]) => {
          const pipeline = redis.pipeline();
          for (const wakeUp of group) pipeline.exists(queue.toKey(wakeUp.jobId));
          const results = (await pipeline.exec()) ?? [];
          group.forEach((wakeUp, index) => {
            if (results[index]?.[1] === 1) found.add(wakeUp);
          });
        }),
      );
      return wakeUps.filter((wakeUp) => !found.has(wakeUp));
    },
  };
  return scheduler;
}
