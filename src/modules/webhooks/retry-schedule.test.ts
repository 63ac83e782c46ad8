import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, nextStep, parseRetryAfter } from './retry-schedule.js';

const now = new Date('2026-03-01T12:00:00.000Z');
const STANDARD = [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];

describe('parseRetryAfter', () => {
  it.each([
    [undefined, null],
    ['', null],
    ['soon', null],
    ['-5', null],
    ['1.5', null],
    ['0', 0],
    ['30', 30_000],
    [' 7 ', 7_000],
    ['999999', MAX_RETRY_AFTER_MS],
    ['Sun, 01 Mar 2026 12:01:00 GMT', 60_000],
    ['Sun, 01 Mar 2026 11:00:00 GMT', 0],
    ['Wed, 01 Apr 2026 12:00:00 GMT', MAX_RETRY_AFTER_MS],
  ])('reads %o as %o ms', (header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected);
  });

  it('never answers outside 0…24 h', () => {
    fc.assert(
      fc.property(fc.nat(), (seconds) => {
        const ms = parseRetryAfter(String(seconds), now)!;
        return ms >= 0 && ms <= MAX_RETRY_AFTER_MS;
      }),
    );
  });
});

describe('nextStep', () => {
  const step = (attempt: number, status: number | null, retryAfter?: string) =>
    nextStep({ attempt, schedule: STANDARD, status, retryAfter, now });

  it('counts any 2xx as delivered', () => {
    for (const status of [200, 201, 202, 204, 299]) expect(step(1, status)).toEqual({ kind: 'succeeded' });
  });

  it.each([
    [1, 500, 5_000],
    [2, null, 300_000],
    [3, 302, 1_800_000],
    [9, 404, 86_400_000],
  ])('after attempt %i answered %o waits the scheduled %i ms', (attempt, status, delayMs) => {
    expect(step(attempt, status)).toEqual({ kind: 'retry', at: new Date(now.getTime() + delayMs), delayMs });
  });

  it('gives up after the last scheduled attempt, whatever the answer asks', () => {
    expect(step(10, 500)).toEqual({ kind: 'failed' });
    expect(step(10, 429, '1')).toEqual({ kind: 'failed' });
    expect(nextStep({ attempt: 1, schedule: [0], status: 500, retryAfter: undefined, now })).toEqual({
      kind: 'failed',
    });
  });

  it('takes the delay a 429 or 503 asks for instead of the schedule', () => {
    expect(step(1, 429, '120')).toMatchObject({ kind: 'retry', delayMs: 120_000 });
    expect(step(1, 503, 'Sun, 01 Mar 2026 12:10:00 GMT')).toMatchObject({ kind: 'retry', delayMs: 600_000 });
    expect(step(1, 429, '0')).toMatchObject({ kind: 'retry', delayMs: 0 });
    // Unreadable, or on a status that does not carry it: the schedule.
    expect(step(1, 429, 'later')).toMatchObject({ delayMs: 5_000 });
    expect(step(1, 500, '120')).toMatchObject({ delayMs: 5_000 });
  });

  it('allows exactly as many attempts as the schedule has entries', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 86_400 }), { minLength: 1, maxLength: 20 }), (schedule) => {
        let attempts = 0;
        for (;;) {
          attempts += 1;
          const next = nextStep({ attempt: attempts, schedule, status: 500, retryAfter: undefined, now });
          if (next.kind === 'failed') break;
          if (next.kind !== 'retry' || next.delayMs !== schedule[attempts]! * 1000) return false;
        }
        return attempts === schedule.length;
      }),
    );
  });
});
