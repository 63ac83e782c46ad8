import pTimeout from 'p-timeout';
import type { Logger } from 'pino';
import type { DeadlineMetrics } from './deadline-metrics.js';
import { ARMING_HORIZON_MS, type DeadlineScheduler, nextWakeUp } from './deadline-scheduler.js';
import { type DeadlinesRepository, MAX_WAKE_UPS_PER_TRANSACTION } from './deadlines.repository.js';
import type { DeadlinesService } from './deadlines.service.js';

const PAGE_SIZE = 2_000;
/**
 * How long one sweep's Redis step may take. The worker's Redis client waits for Redis without
 * limit; a sweep waiting with it would hold the sweep lock, and no overdue deadline would be
 * breached until Redis came back, although breaching needs only PostgreSQL.
 */
export const REDIS_STEP_TIMEOUT_MS = 5_000;

export interface ReconcileReport {
  /** Pending deadlines that need waking within the arming horizon, overdue ones included. */
  pending: number;
  rearmed: number;
  breachedOverdue: number;
  /** Whether Redis answered the re-arming; a sweep that found it away leaves it alone after. */
  redisAnswered: boolean;
}

/**
 * Makes Redis agree with PostgreSQL: every pending deadline whose next wake-up is within the
 * arming horizon gets its job, whether it just came into the horizon or went missing (a Redis
 * flush, a lost enqueue, a killed worker), and any deadline already overdue is breached on the
 * spot. Safe to run at any time and from several workers at once.
 *
 * Breaching comes first and needs only PostgreSQL, so a sweep breaches what is overdue even while
 * Redis does not answer; the re-arming after it gives up on Redis after REDIS_STEP_TIMEOUT_MS.
 */
export async function reconcileDeadlines(deps: {
  repository: DeadlinesRepository;
  deadlines: DeadlinesService;
  scheduler: DeadlineScheduler;
  metrics: DeadlineMetrics;
  now: () => number;
  log: Logger;
}): Promise<ReconcileReport> {
  const report: ReconcileReport = { pending: 0, rearmed: 0, breachedOverdue: 0, redisAnswered: true };
  const started = deps.now();
  // Overdue deadlines wake at or before their due time, so they all come before `started` in
  // wake-up order (deadlines_pending_wake_idx).
  for await (const page of pagesWakingBy(deps.repository, new Date(started))) {
    const overdue = page.filter((row) => row.dueAt.getTime() <= started);
    report.breachedOverdue += await breach(deps, overdue);
  }
  // Only what needs waking within the horizon: the deadlines further off are the next sweeps'
  // work, however many they are.
  try {
    for await (const page of pagesWakingBy(deps.repository, new Date(started + ARMING_HORIZON_MS))) {
      report.pending += page.length;
      const upcoming = page.filter((row) => row.dueAt.getTime() > started);
      report.rearmed += await pTimeout(rearmMissing(deps, upcoming), {
        milliseconds: REDIS_STEP_TIMEOUT_MS,
        message: `Redis did not answer within ${REDIS_STEP_TIMEOUT_MS} ms`,
      });
    }
  } catch (err) {
    report.redisAnswered = false;
    deps.log.error({ err }, 'reconciler could not re-arm deadline jobs in Redis; the next sweep tries again');
  }
  if (report.rearmed > 0 || report.breachedOverdue > 0)
    deps.log.warn(report, 'reconciler repaired deadline jobs');
  else deps.log.debug(report, 'reconciler found nothing to repair');
  return report;
}

/** The pending deadlines waking by `until`, a page at a time, in wake-up order. */
async function* pagesWakingBy(repository: DeadlinesRepository, until: Date) {
  let after: { wakeAt: Date; id: string } | null = null;
  for (;;) {
    const page = await repository.pendingWakingBy(until, after, PAGE_SIZE);
    if (page.length > 0) yield page;
    if (page.length < PAGE_SIZE) return;
    const last = page.at(-1)!;
    after = { wakeAt: last.wakeAt, id: last.id };
  }
}

/**
 * Breaches overdue deadlines in batches, as the worker records wake-ups: after a day without a
 * worker, a transaction per breach took minutes to catch up on a busy tenant's overdue deadlines.
 */
async function breach(
  deps: { deadlines: DeadlinesService; metrics: DeadlineMetrics },
  overdue: Array<{ id: string; dueAt: Date }>,
): Promise<number> {
  let breached = 0;
  for (let start = 0; start < overdue.length; start += MAX_WAKE_UPS_PER_TRANSACTION) {
    const batch = overdue.slice(start, start + MAX_WAKE_UPS_PER_TRANSACTION);
    const recorded = await deps.deadlines.recordWakeUps(
      batch.map((row) => ({ action: 'breach', deadlineId: row.id, armedFor: row.dueAt.getTime() })),
    );
    for (const row of recorded) {
      if (!row) continue;
      breached += 1;
      deps.metrics.breachRecorded(row.kind, (row.breachedAt!.getTime() - row.dueAt.getTime()) / 1000);
    }
  }
  return breached;
}

/** Arms the wake-ups of these deadlines that have no job in Redis; returns how many. */
async function rearmMissing(
  deps: { scheduler: DeadlineScheduler; metrics: DeadlineMetrics },
  upcoming: Array<Parameters<typeof nextWakeUp>[0]>,
): Promise<number> {
  const missing = await deps.scheduler.missing(upcoming.flatMap((row) => nextWakeUp(row) ?? []));
  if (missing.length === 0) return 0;
  await deps.scheduler.add(missing);
  deps.metrics.rearmed(missing.length);
  return missing.length;
}
