import type { Job } from 'bullmq';
import type { DeadlineJob } from '../../jobs/queues.js';
import type { DeadlineMetrics } from './deadline-metrics.js';
import { type DeadlineScheduler, parseWakeUpJobId } from './deadline-scheduler.js';
import type { RecordedWakeUp } from './deadlines.repository.js';
import type { DeadlinesService } from './deadlines.service.js';

/**
 * Handles one deadline wake-up and arms the deadline's next one. Safe to run any number of times:
 * a warning or breach is recorded with a conditional update, so a repeated or stale job changes
 * nothing, and arming is idempotent by job id.
 */
export async function processDeadlineJob(
  deps: {
    /** Records the wake-up (in the worker, batched with others falling due at the same moment). */
    record: (job: DeadlineJob) => Promise<RecordedWakeUp | undefined>;
    deadlines: Pick<DeadlinesService, 'findPendingById'>;
    scheduler: Pick<DeadlineScheduler, 'arm'>;
    metrics: DeadlineMetrics;
  },
  job: Pick<Job, 'id'>,
): Promise<'recorded' | 'nothing-due' | 'unknown-job'> {
  const wakeUp = job.id ? parseWakeUpJobId(job.id) : null;
  if (!wakeUp) return 'unknown-job';
  const recorded = await deps.record(wakeUp);
  if (wakeUp.action === 'breach') {
    if (!recorded) return 'nothing-due';
    deps.metrics.breachRecorded(
      recorded.kind,
      (recorded.breachedAt!.getTime() - recorded.dueAt.getTime()) / 1000,
    );
    return 'recorded';
  }
  if (recorded) {
    deps.metrics.warningRecorded(recorded.kind);
    await deps.scheduler.arm([recorded]);
    return 'recorded';
  }
  // Recorded by an earlier run that may have died before arming what comes next.
  const current = await deps.deadlines.findPendingById(wakeUp.deadlineId);
  if (current && current.dueAt.getTime() === wakeUp.armedFor) await deps.scheduler.arm([current]);
  return 'nothing-due';
}
