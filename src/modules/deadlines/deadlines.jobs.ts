import type { Job } from 'bullmq';
import type { DeadlineMetrics } from './deadline-metrics.js';
import { type DeadlineScheduler, parseWakeUpJobId } from './deadline-scheduler.js';
import type { DeadlinesService } from './deadlines.service.js';

/**
 * Handles one deadline wake-up and arms the deadline's next one. Safe to run any number of times:
 * the service records a warning or breach with a conditional update, so a repeated or stale job
 * changes nothing, and arming is idempotent by job id.
 */
export async function processDeadlineJob(
  deps: {
    deadlines: DeadlinesService;
    scheduler: Pick<DeadlineScheduler, 'arm'>;
    metrics: DeadlineMetrics;
    now: () => number;
  },
  job: Pick<Job, 'id'>,
): Promise<'recorded' | 'nothing-due' | 'unknown-job'> {
  const wakeUp = job.id ? parseWakeUpJobId(job.id) : null;
  if (!wakeUp) return 'unknown-job';
  const armedFor = new Date(wakeUp.armedFor);
  if (wakeUp.action === 'breach') {
    const breached = await deps.deadlines.recordBreach(wakeUp.deadlineId, armedFor);
    if (!breached) return 'nothing-due';
    deps.metrics.breachRecorded(
      breached.kind,
      (breached.breachedAt!.getTime() - breached.dueAt.getTime()) / 1000,
    );
    return 'recorded';
  }
  const warned = await deps.deadlines.recordWarning(wakeUp.deadlineId, wakeUp.index, armedFor);
  if (warned) {
    deps.metrics.warningRecorded(warned.kind);
    await deps.scheduler.arm([{ ...warned }]);
    return 'recorded';
  }
  // Recorded by an earlier run that may have died before arming what comes next.
  const current = await deps.deadlines.findById(wakeUp.deadlineId);
  if (current && current.dueAt.getTime() === wakeUp.armedFor) await deps.scheduler.arm([current]);
  return 'nothing-due';
}
