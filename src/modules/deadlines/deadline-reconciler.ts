import type { Logger } from 'pino';
import type { DeadlineMetrics } from './deadline-metrics.js';
import { ARMING_HORIZON_MS, type DeadlineScheduler, nextWakeUp } from './deadline-scheduler.js';
import { type DeadlinesRepository, MAX_WAKE_UPS_PER_TRANSACTION } from './deadlines.repository.js';
import type { DeadlinesService } from './deadlines.service.js';

const PAGE_SIZE = 2_000;

export interface ReconcileReport {
  /** Pending deadlines that need waking within the arming horizon, overdue ones included. */
  pending: number;
  rearmed: number;
  breachedOverdue: number;
}

/**
 * Makes Redis agree with PostgreSQL: every pending deadline whose next wake-up is within the
 * arming horizon gets its job, whether it just came into the horizon or went missing (a Redis
 * flush, a lost enqueue, a killed worker), and any deadline already overdue is breached on the
 * spot. Safe to run at any time and from several workers at once.
 */
export async function reconcileDeadlines(deps: {
  repository: DeadlinesRepository;
  deadlines: DeadlinesService;
  scheduler: DeadlineScheduler;
  metrics: DeadlineMetrics;
  now: () => number;
  log: Logger;
}): Promise<ReconcileReport> {
  const report: ReconcileReport = { pending: 0, rearmed: 0, breachedOverdue: 0 };
  // Only what needs waking within the horizon, read through deadlines_pending_wake_idx: the
  // deadlines further off are the next sweeps' work, however many they are.
  const until = new Date(deps.now() + ARMING_HORIZON_MS);
  let after: { wakeAt: Date; id: string } | null = null;
  for (;;) {
    const page = await deps.repository.pendingWakingBy(until, after, PAGE_SIZE);
    if (page.length === 0) break;
    report.pending += page.length;
    const now = deps.now();
    const overdue = page.filter((row) => row.dueAt.getTime() <= now);
    // In batches, as the worker records wake-ups: after a day without a worker, a transaction per
    // breach took minutes to catch up on a busy tenant's overdue deadlines.
    for (let start = 0; start < overdue.length; start += MAX_WAKE_UPS_PER_TRANSACTION) {
      const batch = overdue.slice(start, start + MAX_WAKE_UPS_PER_TRANSACTION);
      const recorded = await deps.deadlines.recordWakeUps(
        batch.map((row) => ({ action: 'breach', deadlineId: row.id, armedFor: row.dueAt.getTime() })),
      );
      for (const breached of recorded) {
        if (!breached) continue;
        report.breachedOverdue += 1;
        deps.metrics.breachRecorded(
          breached.kind,
          (breached.breachedAt!.getTime() - breached.dueAt.getTime()) / 1000,
        );
      }
    }
    const upcoming = page.filter((row) => row.dueAt.getTime() > now);
    const missing = await deps.scheduler.missing(upcoming.flatMap((row) => nextWakeUp(row) ?? []));
    if (missing.length > 0) {
      await deps.scheduler.add(missing);
      report.rearmed += missing.length;
      deps.metrics.rearmed(missing.length);
    }
    const last = page.at(-1)!;
    after = { wakeAt: last.wakeAt, id: last.id };
    if (page.length < PAGE_SIZE) break;
  }
  if (report.rearmed > 0 || report.breachedOverdue > 0)
    deps.log.warn(report, 'reconciler repaired deadline jobs');
  else deps.log.debug(report, 'reconciler found nothing to repair');
  return report;
}
