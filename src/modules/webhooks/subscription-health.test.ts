import { describe, expect, it } from 'vitest';
import type { NextStep } from './retry-schedule.js';
import { failingRuns } from './subscription-health.js';

const at = (second: number) => new Date(Date.UTC(2026, 2, 1, 12, 0, second));
const ok: NextStep = { kind: 'succeeded' };
const failed: NextStep = { kind: 'failed' };
const retry: NextStep = { kind: 'retry', at: at(59), delayMs: 1 };
const TENANT = '6f1c2a4e-0000-4000-8000-000000000001';
const attempt = (subscriptionId: string, second: number, next: NextStep) => ({
  delivery: { tenantId: TENANT, subscriptionId },
  attemptedAt: at(second),
  next,
});

describe('failingRuns', () => {
  it('starts or continues a run from the first failure when nothing succeeded', () => {
    expect(failingRuns([attempt('s', 5, retry), attempt('s', 3, failed)])).toEqual([
      { tenantId: TENANT, subscriptionId: 's', reset: false, since: at(3) },
    ]);
  });

  it('ends the run on a success, whatever came before it', () => {
    expect(failingRuns([attempt('s', 1, retry), attempt('s', 2, ok)])).toEqual([
      { tenantId: TENANT, subscriptionId: 's', reset: true, since: null },
    ]);
  });

  it('starts a new run at the first failure after the last success', () => {
    expect(
      failingRuns([attempt('s', 1, ok), attempt('s', 4, retry), attempt('s', 2, retry), attempt('s', 3, ok)]),
    ).toEqual([{ tenantId: TENANT, subscriptionId: 's', reset: true, since: at(4) }]);
  });

  it('keeps subscriptions apart', () => {
    expect(failingRuns([attempt('a', 1, ok), attempt('b', 1, retry)])).toEqual([
      { tenantId: TENANT, subscriptionId: 'a', reset: true, since: null },
      { tenantId: TENANT, subscriptionId: 'b', reset: false, since: at(1) },
    ]);
  });
});
