import { describe, expect, it } from 'vitest';
import {
  allowedTransitions,
  COMPLAINT_STATUSES,
  canTransition,
  isFinal,
  isReopen,
  transitionNeedsReason,
} from './complaint-status.js';

describe('complaint status machine', () => {
  it.each([
    ['received', 'acknowledged'],
    ['acknowledged', 'investigating'],
    ['investigating', 'awaiting_customer'],
    ['awaiting_customer', 'investigating'],
    ['investigating', 'resolved'],
    ['awaiting_customer', 'resolved'],
    ['resolved', 'closed'],
    ['resolved', 'investigating'],
    ['closed', 'investigating'],
    ['received', 'rejected'],
    ['investigating', 'withdrawn'],
  ] as const)('allows %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
  });

  it.each([
    ['received', 'resolved'],
    ['received', 'investigating'],
    ['acknowledged', 'closed'],
    ['closed', 'resolved'],
    ['resolved', 'rejected'],
    ['rejected', 'investigating'],
    ['withdrawn', 'received'],
    ['investigating', 'investigating'],
  ] as const)('refuses %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
  });

  it('ends only in rejected and withdrawn', () => {
    expect(COMPLAINT_STATUSES.filter(isFinal)).toEqual(['rejected', 'withdrawn']);
  });

  it('every status can be reached from received', () => {
    const seen = new Set<string>(['received']);
    const queue = ['received' as const] as (typeof COMPLAINT_STATUSES)[number][];
    while (queue.length) {
      for (const next of allowedTransitions(queue.shift()!)) {
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      }
    }
    expect([...seen].sort()).toEqual([...COMPLAINT_STATUSES].sort());
  });

  it('asks for a reason when rejecting, withdrawing or reopening, not for routine moves', () => {
    expect(transitionNeedsReason('received', 'rejected')).toBe(true);
    expect(transitionNeedsReason('awaiting_customer', 'withdrawn')).toBe(true);
    expect(transitionNeedsReason('closed', 'investigating')).toBe(true);
    expect(transitionNeedsReason('received', 'acknowledged')).toBe(false);
    expect(transitionNeedsReason('investigating', 'resolved')).toBe(false);
  });

  it('knows a reopen', () => {
    expect(isReopen('resolved', 'investigating')).toBe(true);
    expect(isReopen('awaiting_customer', 'investigating')).toBe(false);
  });
});
