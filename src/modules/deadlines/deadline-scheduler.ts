import type { JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DeadlineJob, QueuePayloads } from '../../jobs/queues.js';
import type { DeadlineRow } from './deadlines.repository.js';

/** What arming needs to know of a deadline. */
export type ArmableDeadline = Pick<DeadlineRow, 'id' | 'status' | 'dueAt' | 'warnAts' | 'warningsFired'>;

/** One wake-up the worker needs for a pending deadline. */
export interface DeadlineWakeUp {
  jobId: string;
  at: number;
  job: DeadlineJob;
}

// Completed jobs are removed at once: PostgreSQL keeps the record, and Redis memory per pending
// deadline stays small. Failed jobs are kept briefly for inspection; the reconciler re-arms them.
const JOB_OPTIONS: JobsOptions = {
  removeOnComplete: true,
  removeOnFail: 1_000,
  attempts: 5,
  backoff: { type: 'exponential', delay: 500 },
};

/**
 * The jobs a pending deadline needs: one per warning not yet recorded, and one at the due time.
 * Ids are derived from the deadline and its due time, so arming twice adds nothing, and a pause
 * or resume (which moves the due time) arms fresh jobs while the old ones find nothing to do.
 */
export function wakeUpsFor(
  deadline: Pick<DeadlineRow, 'id' | 'status' | 'dueAt' | 'warnAts' | 'warningsFired'>,
): DeadlineWakeUp[] {
  if (deadline.status !== 'pending') return [];
  const armedFor = deadline.dueAt.getTime();
  const wakeUps: DeadlineWakeUp[] = deadline.warnAts.flatMap((warnAt, index) =>
    index < deadline.warningsFired
      ? []
      : [
          {
            jobId: `warn-${deadline.id}-${index}-${armedFor}`,
            at: warnAt.getTime(),
            job: { action: 'warn' as const, deadlineId: deadline.id, armedFor, index },
          },
        ],
  );
  wakeUps.push({
    jobId: `breach-${deadline.id}-${armedFor}`,
    at: armedFor,
    job: { action: 'breach', deadlineId: deadline.id, armedFor },
  });
  return wakeUps;
}

export interface DeadlineScheduler {
  /** Adds the delayed jobs of these deadlines; existing ones are left as they are. */
  arm(
    deadlines: readonly Pick<DeadlineRow, 'id' | 'status' | 'dueAt' | 'warnAts' | 'warningsFired'>[],
  ): Promise<void>;
  /** Of the given wake-ups, those whose job is not in Redis. */
  missing(wakeUps: readonly DeadlineWakeUp[]): Promise<DeadlineWakeUp[]>;
  add(wakeUps: readonly DeadlineWakeUp[]): Promise<void>;
}

/** Arms deadline jobs in BullMQ. `now` decides the delay; a past time runs at once. */
export function createDeadlineScheduler(
  queue: Queue<QueuePayloads['deadlines']>,
  redis: Redis,
  now: () => number,
  options: { addTimeoutMs: number | null },
): DeadlineScheduler {
  const scheduler: DeadlineScheduler = {
    async add(wakeUps) {
      if (wakeUps.length === 0) return;
      const current = now();
      const adding = queue.addBulk(
        wakeUps.map((wakeUp) => ({
          name: wakeUp.job.action,
          data: wakeUp.job,
          opts: { ...JOB_OPTIONS, jobId: wakeUp.jobId, delay: Math.max(0, wakeUp.at - current) },
        })),
      );
      if (options.addTimeoutMs === null) {
        await adding;
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Redis did not take the jobs within ${options.addTimeoutMs} ms`)),
          options.addTimeoutMs!,
        );
      });
      // A late add still lands: the ids are deterministic, so the reconciler's own add is a no-op.
      adding.catch(() => {});
      try {
        await Promise.race([adding, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },

    async arm(deadlines) {
      await scheduler.add(deadlines.flatMap(wakeUpsFor));
    },

    async missing(wakeUps) {
      if (wakeUps.length === 0) return [];
      // One pipelined EXISTS per job hash: the reconciler checks many thousands at a time.
      const pipeline = redis.pipeline();
      for (const wakeUp of wakeUps) pipeline.exists(queue.toKey(wakeUp.jobId));
      const results = (await pipeline.exec()) ?? [];
      return wakeUps.filter((_, index) => results[index]?.[1] !== 1);
    },
  };
  return scheduler;
}
