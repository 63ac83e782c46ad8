import type { NextStep } from './retry-schedule.js';

/** What the run of failures needs to know of an attempt. */
export interface FinishedAttempt {
  delivery: { tenantId: string; subscriptionId: string };
  attemptedAt: Date;
  next: NextStep;
}

/**
 * Per subscription, how a batch of attempts moves its run of failures: a success ends the run
 * (`reset`), and the first failure after the last success starts a new one (`since`).
 */
export function failingRuns(
  results: readonly FinishedAttempt[],
): Array<{ tenantId: string; subscriptionId: string; reset: boolean; since: Date | null }> {
  const bySubscription = new Map<string, FinishedAttempt[]>();
  for (const result of results) {
    const list = bySubscription.get(result.delivery.subscriptionId) ?? [];
    list.push(result);
    bySubscription.set(result.delivery.subscriptionId, list);
  }
  return [...bySubscription].map(([subscriptionId, list]) => {
    const { tenantId } = list[0]!.delivery;
    const ordered = [...list].sort((a, b) => a.attemptedAt.getTime() - b.attemptedAt.getTime());
    const lastSuccess = ordered.findLastIndex((result) => result.next.kind === 'succeeded');
    const firstFailureAfter = ordered.slice(lastSuccess + 1)[0];
    return {
      tenantId,
      subscriptionId,
      reset: lastSuccess >= 0,
      since: firstFailureAfter?.attemptedAt ?? null,
    };
  });
}
