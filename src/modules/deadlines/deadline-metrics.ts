import { Counter, Histogram, type Registry } from 'prom-client';

export interface DeadlineMetrics {
  breachRecorded(kind: string, lagSeconds: number): void;
  warningRecorded(kind: string): void;
  rearmed(count: number): void;
}

/**
 * Prometheus metrics of deadline enforcement. Detection lag is the time from a deadline's due
 * time to the breach being recorded: the number Redress promises to keep under a second.
 */
export function createDeadlineMetrics(registry: Registry): DeadlineMetrics {
  const lag = new Histogram({
    name: 'redress_deadline_detection_lag_seconds',
    help: 'Seconds from a deadline falling due to its breach being recorded',
    labelNames: ['kind'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 60],
    registers: [registry],
  });
  const breaches = new Counter({
    name: 'redress_deadline_breaches_total',
    help: 'Breaches recorded by this process',
    labelNames: ['kind'],
    registers: [registry],
  });
  const warnings = new Counter({
    name: 'redress_deadline_warnings_total',
    help: 'Warnings recorded by this process',
    labelNames: ['kind'],
    registers: [registry],
  });
  const rearmedJobs = new Counter({
    name: 'redress_deadline_jobs_rearmed_total',
    help: 'Deadline jobs the reconciler found missing in Redis and armed again',
    registers: [registry],
  });
  return {
    breachRecorded(kind, lagSeconds) {
      lag.observe({ kind }, Math.max(0, lagSeconds));
      breaches.inc({ kind });
    },
    warningRecorded(kind) {
      warnings.inc({ kind });
    },
    rearmed(count) {
      rearmedJobs.inc(count);
    },
  };
}
