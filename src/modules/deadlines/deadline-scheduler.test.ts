import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DeadlineJob, deadlineQueueNames, queuePrefix } from '../../jobs/queues.js';
import { slotOf } from '../../lib/redis.js';
import { deadlineShard, nextWakeUp, parseWakeUpJobId, wakeUpJobId } from './deadline-scheduler.js';

const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
const at = (iso: string) => new Date(iso);

describe('wake-up job ids', () => {
  it('round-trip every wake-up', () => {
    fc.assert(
      fc.property(
        fc.uuid(),
        fc.integer({ min: 0, max: 253_402_300_799_999 }),
        fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
        (deadlineId, armedFor, index) => {
          const job: DeadlineJob =
            index === undefined
              ? { action: 'breach', deadlineId, armedFor }
              : { action: 'warn', deadlineId, armedFor, index };
          expect(parseWakeUpJobId(wakeUpJobId(job))).toEqual(job);
        },
      ),
    );
  });

  it('are short, and refuse ids the scheduler never made', () => {
    expect(
      wakeUpJobId({ action: 'breach', deadlineId: id, armedFor: Date.parse('2026-11-25T00:00:00Z') }),
    ).toBe('b.D4-tW9nLRp-hZXCGdyiVDg.mwvcx6o0');
    for (const bad of ['', 'b.', 'x.D4-tW9nLRp-hZXCGdyiVDg.mwvcx6o0', 'b.short.mhe5zi00', 'repeat:purge']) {
      expect(parseWakeUpJobId(bad)).toBeNull();
    }
  });
});

describe('nextWakeUp', () => {
  const deadline = {
    id,
    status: 'pending' as const,
    dueAt: at('2026-11-25T04:00:00Z'),
    warnAts: [at('2026-11-25T02:00:00Z'), at('2026-11-25T03:00:00Z')],
    warningsFired: 0,
  };

  it('is the first warning not yet recorded, then the breach', () => {
    expect(nextWakeUp(deadline)).toMatchObject({
      at: deadline.warnAts[0]!.getTime(),
      job: { action: 'warn', index: 0 },
    });
    expect(nextWakeUp({ ...deadline, warningsFired: 1 })).toMatchObject({
      job: { action: 'warn', index: 1 },
    });
    expect(nextWakeUp({ ...deadline, warningsFired: 2 })).toMatchObject({
      at: deadline.dueAt.getTime(),
      job: { action: 'breach', armedFor: deadline.dueAt.getTime() },
    });
  });

  it('is nothing for a deadline that is not pending', () => {
    for (const status of ['met', 'breached', 'paused', 'cancelled'] as const) {
      expect(nextWakeUp({ ...deadline, status })).toBeNull();
    }
  });
});

describe('deadline queue shards', () => {
  it('puts a deadline in the same shard every time, one of those there are', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.integer({ min: 1, max: 64 }), (id, shards) => {
        const shard = deadlineShard(id, shards);
        expect(shard).toBeGreaterThanOrEqual(0);
        expect(shard).toBeLessThan(shards);
        expect(deadlineShard(id, shards)).toBe(shard);
      }),
    );
  });

  it('spreads deadlines evenly over the shards', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4_000; i += 1) counts[deadlineShard(crypto.randomUUID(), 4)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });

  it('keeps each queue in one hash slot, the first shard under the name one queue always had', () => {
    expect(deadlineQueueNames(3)).toEqual(['deadlines', 'deadlines-1', 'deadlines-2']);
    const prefix = queuePrefix('redress', 'deadlines-1');
    expect(prefix).toBe('redress:bull:{redress:deadlines-1}');
    // Whatever BullMQ appends, the tag decides the slot.
    expect(slotOf(`${prefix}:deadlines-1:delayed`)).toBe(slotOf(`${prefix}:deadlines-1:b.AAAA.1`));
    expect(slotOf(`${prefix}:x`)).not.toBe(slotOf(`${queuePrefix('redress', 'deadlines')}:x`));
  });
});
