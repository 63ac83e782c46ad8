import type { Queue } from 'bullmq';
import type { MaintenanceTask, QueuePayloads } from './queues.js';

/**
 * How often each housekeeping task runs. Every task is safe to run at any time and from any
 * worker: the purges delete by a time condition in bounded batches, and a fold moves each change
 * it counts in the statement that deletes it.
 */
export const MAINTENANCE_SCHEDULE: Record<MaintenanceTask, number> = {
  'purge-expired-idempotency-keys': 15 * 60_000,
  'purge-old-events': 60 * 60_000,
  // Each scrape of redress_deadlines reads the changes not yet folded: a minute's breaches.
  'fold-deadline-breach-counts': 60_000,
  // Each report reads the changes not yet folded for its days: a minute's deadline changes.
  'fold-report-counts': 60_000,
  // A quiet period is days long (autoCloseAfter): a complaint closes within minutes of its end.
  'close-quiet-resolved': 5 * 60_000,
  // A replay whose job was lost (the enqueue after commit failed, Redis lost its data) waits this
  // long, and the stale age in webhooks.jobs.ts, before it is queued again.
  'requeue-webhook-replays': 15_000,
  // Each run digests the UTC days that ended since the last (once per tenant-day, whenever it runs).
  'digest-timelines': 60 * 60_000,
};

/**
 * Schedules every housekeeping task. Upserting keeps one schedule however many workers start, and
 * running it again after Redis lost its data (the reconciler does) puts the schedules back.
 */
export async function scheduleMaintenance(queue: Queue<QueuePayloads['maintenance']>): Promise<void> {
  for (const [task, every] of Object.entries(MAINTENANCE_SCHEDULE) as [MaintenanceTask, number][]) {
    await queue.upsertJobScheduler(
      task,
      { every },
      {
        name: task,
        data: { task },
        opts: {
          removeOnComplete: 100,
          removeOnFail: 100,
          attempts: 3,
          backoff: { type: 'exponential', delay: 5_000 },
        },
      },
    );
  }
}

/** Runs `purge` on batches until one comes back short, so no single statement holds a long lock. */
export async function purgeInBatches(purge: (batchSize: number) => Promise<number>, batchSize = 5_000) {
  let total = 0;
  for (;;) {
    const deleted = await purge(batchSize);
    total += deleted;
    if (deleted < batchSize) return total;
  }
}
