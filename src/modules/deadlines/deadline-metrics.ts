import pTimeout from 'p-timeout';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

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

export interface DeadlineGaugeSources {
  deadlineCounts: () => Promise<Record<string, number>>;
  queueCounts: () => Promise<Record<string, Record<string, number>>>;
}

/** How long a scrape waits for PostgreSQL or Redis before reporting the source down. */
const SOURCE_TIMEOUT_MS = 2_000;

const withTimeout = <T>(work: Promise<T>, ms: number): Promise<T> =>
  pTimeout(work, { milliseconds: ms, message: `no answer within ${ms} ms` });

/**
 * Gauges read at scrape time: deadlines by status (from PostgreSQL) and queue depths (from Redis).
 * A source that fails or does not answer in time is reported by `redress_metrics_source_up` and
 * its gauges are left out, so a Redis outage never stalls the scrape.
 */
export function registerDeadlineGauges(registry: Registry, sources: DeadlineGaugeSources): void {
  async function read<T>(work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await withTimeout(work(), SOURCE_TIMEOUT_MS);
    } catch {
      return undefined;
    }
  }
  // prom-client collects gauges concurrently; they share one reading of the sources per scrape.
  let reading: { at: number; snapshot: Promise<Snapshot> } | null = null;
  type Snapshot = {
    deadlines: Record<string, number> | undefined;
    queues: Record<string, Record<string, number>> | undefined;
  };
  const snapshot = (): Promise<Snapshot> => {
    if (!reading || Date.now() - reading.at > 1_000) {
      reading = {
        at: Date.now(),
        snapshot: Promise.all([read(sources.deadlineCounts), read(sources.queueCounts)]).then(
          ([deadlines, queues]) => ({ deadlines, queues }),
        ),
      };
    }
    return reading.snapshot;
  };

  new Gauge({
    name: 'redress_deadlines',
    help: 'Deadlines by status (pending, paused, breached), all tenants',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      this.reset();
      const counts = (await snapshot()).deadlines;
      if (!counts) return;
      for (const status of ['pending', 'paused', 'breached']) this.set({ status }, counts[status] ?? 0);
    },
  });
  new Gauge({
    name: 'redress_queue_jobs',
    help: 'BullMQ jobs by queue and state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [queue, counts] of Object.entries((await snapshot()).queues ?? {})) {
        for (const [state, count] of Object.entries(counts)) this.set({ queue, state }, count);
      }
    },
  });
  new Gauge({
    name: 'redress_metrics_source_up',
    help: 'Whether a metrics source (postgres, redis) answered the last scrape',
    labelNames: ['source'],
    registers: [registry],
    async collect() {
      const { deadlines, queues } = await snapshot();
      this.set({ source: 'postgres' }, deadlines ? 1 : 0);
      this.set({ source: 'redis' }, queues ? 1 : 0);
    },
  });
}
