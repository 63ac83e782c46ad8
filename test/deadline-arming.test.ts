import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { systemClock } from '../src/lib/clock.js';
import { type DeadlineQueue, openDeadlineQueue } from '../src/modules/deadlines/deadline-queue.js';
import {
  ARMING_HORIZON_MS,
  type ArmableDeadline,
  nextWakeUp,
} from '../src/modules/deadlines/deadline-scheduler.js';
import { deleteKeysUnder, testRedisTarget } from './redis-keys.js';

/** A pending deadline due `inMs` from now, with one warning halfway. */
function pendingDeadline(inMs: number): ArmableDeadline {
  const now = Date.now();
  return {
    id: randomUUID(),
    status: 'pending',
    dueAt: new Date(now + inMs),
    warnAts: [new Date(now + inMs / 2)],
    warningsFired: 0,
  };
}

describe('arming deadlines', () => {
  const redis = testRedisTarget();
  const prefix = `${inject('redisPrefix')}-arming`;
  let deadlineQueue: DeadlineQueue;

  beforeAll(async () => {
    deadlineQueue = openDeadlineQueue(redis, prefix, systemClock, { failFast: true });
    await deadlineQueue.queues[0]!.waitUntilReady();
  });

  afterAll(async () => {
    await deadlineQueue?.close();
    await deleteKeysUnder(redis, prefix);
  });

  it('sends the deadlines that concurrent callers arm together in one round trip, and arms every one', async () => {
    const deadlines = Array.from({ length: 30 }, (_, index) => pendingDeadline(600_000 + index * 1_000));
    // Watched, not replaced: every call still goes to Redis.
    const addBulk = vi.spyOn(deadlineQueue.queues[0]!, 'addBulk');
    try {
      // As concurrent intakes do: each arms its own deadline.
      await Promise.all(deadlines.map((deadline) => deadlineQueue.scheduler.arm([deadline])));
      expect(addBulk).toHaveBeenCalledTimes(1);
      expect(addBulk.mock.calls[0]![0]).toHaveLength(30);
    } finally {
      addBulk.mockRestore();
    }
    for (const deadline of deadlines) {
      const wakeUp = nextWakeUp(deadline)!;
      const job = await deadlineQueue.queues[0]!.getJob(wakeUp.jobId);
      expect(job, wakeUp.jobId).toBeDefined();
      expect(job!.name).toBe('warn');
      // Due at the warning, give or take the time the test took to get here.
      expect(job!.timestamp + job!.opts.delay!).toBeGreaterThanOrEqual(wakeUp.at - 5_000);
      expect(job!.timestamp + job!.opts.delay!).toBeLessThanOrEqual(wakeUp.at + 5_000);
    }
    expect(await deadlineQueue.queues[0]!.getDelayedCount()).toBe(30);
  });

  it('arms nothing twice: arming the same deadline again, together or later, adds no job', async () => {
    const deadline = pendingDeadline(1_200_000);
    await Promise.all([deadlineQueue.scheduler.arm([deadline]), deadlineQueue.scheduler.arm([deadline])]);
    await deadlineQueue.scheduler.arm([deadline]);
    expect(await deadlineQueue.queues[0]!.getDelayedCount()).toBe(31);
  });

  it('leaves a wake-up beyond the arming horizon to the reconciler', async () => {
    // Its warning falls due a minute after the horizon: nothing goes to Redis yet.
    const later = pendingDeadline(2 * (ARMING_HORIZON_MS + 60_000));
    await deadlineQueue.scheduler.arm([later]);
    expect(await deadlineQueue.queues[0]!.getJob(nextWakeUp(later)!.jobId)).toBeUndefined();
    expect(await deadlineQueue.queues[0]!.getDelayedCount()).toBe(31);
  });
});
