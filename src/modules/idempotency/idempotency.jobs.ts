import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { QueuePayloads } from '../../jobs/queues.js';
import type { Clock } from '../../lib/clock.js';
import type { IdempotencyRepository } from './idempotency.repository.js';

const PURGE_BATCH = 5_000;
const PURGE_EVERY_MS = 15 * 60_000;

/** Schedules the retention purge; upserting keeps one schedule however many workers start. */
export async function schedulePurgeOfExpiredKeys(queue: Queue<QueuePayloads['maintenance']>): Promise<void> {
  await queue.upsertJobScheduler(
    'purge-expired-idempotency-keys',
    { every: PURGE_EVERY_MS },
    {
      name: 'purge-expired-idempotency-keys',
      data: { task: 'purge-expired-idempotency-keys' },
      opts: {
        removeOnComplete: 100,
        removeOnFail: 100,
        attempts: 3,
        backoff: { type: 'exponential', delay: 5_000 },
      },
    },
  );
}

/** Deletes idempotency keys past retention in batches, so one run never holds a long lock. */
export async function purgeExpiredKeys(deps: {
  repository: IdempotencyRepository;
  clock: Clock;
  log: Logger;
}) {
  let total = 0;
  for (;;) {
    const deleted = await deps.repository.purgeExpired(deps.clock.now(), PURGE_BATCH);
    total += deleted;
    if (deleted < PURGE_BATCH) break;
  }
  if (total > 0) deps.log.info({ deleted: total }, 'purged expired idempotency keys');
  return total;
}
