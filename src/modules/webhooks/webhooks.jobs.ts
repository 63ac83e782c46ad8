import type { Job, Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { QueuePayloads } from '../../jobs/queues.js';
import type { Clock } from '../../lib/clock.js';
import type { WebhookReplays } from './webhook-replays.js';
import type { WebhooksRepository } from './webhooks.repository.js';

/** The queue of webhook replays, as the API enqueues on it and the worker takes from it. */
export type ReplayQueue = Pick<Queue<QueuePayloads['webhook-replays']>, 'add'>;

/** Attempts of a replay's job before the replay is marked failed. */
export const REPLAY_JOB_ATTEMPTS = 5;
/** A queued or running replay untouched this long may have lost its job, and is queued again. */
export const REPLAY_STALE_MS = 15_000;

/**
 * Queues a replay's job. The job id is the replay's, so queueing it again while it waits or runs
 * (the sweeper, a retried request) adds nothing. Finished jobs are removed, so a replay that
 * stays open after its job ended (its last run could not mark it) can be queued once more.
 */
export async function enqueueReplay(
  queue: ReplayQueue,
  job: QueuePayloads['webhook-replays'],
): Promise<void> {
  await queue.add('replay', job, {
    jobId: `replay-${job.replayId}`,
    attempts: REPLAY_JOB_ATTEMPTS,
    backoff: { type: 'exponential', delay: 2_000 },
    removeOnComplete: true,
    removeOnFail: true,
  });
}

/**
 * Works through one replay. Safe to run any number of times, and at once: each batch locks the
 * replay row and goes on from its cursor (webhook-replays.ts), a finished replay is left alone.
 */
export async function processReplayJob(
  deps: { replays: Pick<WebhookReplays, 'run'> },
  job: Pick<Job<QueuePayloads['webhook-replays']>, 'data'>,
): Promise<void> {
  await deps.replays.run(job.data.tenantId, job.data.replayId);
}

/** After a replay's job failed its last attempt: the replay says so, with the error. */
export async function replayJobFailed(
  deps: { replays: Pick<WebhookReplays, 'fail'>; log: Logger },
  job: Pick<Job<QueuePayloads['webhook-replays']>, 'data' | 'attemptsMade' | 'opts'> | undefined,
  err: Error,
): Promise<void> {
  if (!job || job.attemptsMade < (job.opts.attempts ?? 1)) return;
  await deps.replays
    .fail(job.data.tenantId, job.data.replayId, err.message)
    .catch((error) => deps.log.error({ err: error }, 'could not mark a webhook replay failed'));
}

/** Queues again the replays whose job may have been lost; returns how many. */
export async function requeueStaleReplays(deps: {
  repository: Pick<WebhooksRepository, 'staleOpenReplays'>;
  queue: ReplayQueue;
  clock: Clock;
}): Promise<number> {
  const stale = await deps.repository.staleOpenReplays(
    new Date(deps.clock.now().getTime() - REPLAY_STALE_MS),
    500,
  );
  for (const replay of stale)
    await enqueueReplay(deps.queue, { tenantId: replay.tenantId, replayId: replay.id });
  return stale.length;
}
