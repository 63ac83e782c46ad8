import type { Job } from 'bullmq';
import type { DeadlineJob } from '../../jobs/queues.js';
import type { DeadlineMetrics } from './deadline-metrics.js';
import type { DeadlinesService } from './deadlines.service.js';

/**
 * Handles one deadline wake-up. Safe to run any number of times: the service records a warning
 * or breach with a conditional update, so a repeated or stale job changes nothing.
 */
export async function processDeadlineJob(
  deps: { deadlines: DeadlinesService; metrics: DeadlineMetrics; now: () => number },
  job: Pick<Job<DeadlineJob>, 'data'>,
): Promise<'recorded' | 'nothing-due'> {
  const data = job.data;
  const armedFor = new Date(data.armedFor);
  if (data.action === 'breach') {
    const breached = await deps.deadlines.recordBreach(data.deadlineId, armedFor);
    if (!breached) return 'nothing-due';
    deps.metrics.breachRecorded(
      breached.kind,
      (breached.breachedAt!.getTime() - breached.dueAt.getTime()) / 1000,
    );
    return 'recorded';
  }
  const warned = await deps.deadlines.recordWarning(data.deadlineId, data.index, armedFor);
  if (!warned) return 'nothing-due';
  deps.metrics.warningRecorded(warned.kind);
  return 'recorded';
}
