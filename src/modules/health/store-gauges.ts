import pTimeout from 'p-timeout';
import { Gauge, type Registry } from 'prom-client';
import type { Readiness } from './readiness.js';

/** Where the gauges read at scrape time come from. */
export interface StoreGaugeSources {
  /** Deadlines by status (PostgreSQL). */
  deadlineCounts: () => Promise<Record<string, number>>;
  /** Events the outbox relay has yet to fan out, and the oldest one's age (PostgreSQL). */
  outboxBacklog: () => Promise<{ waiting: number; oldestAgeSeconds: number }>;
  /** Webhook subscriptions by status and disabled reason (PostgreSQL). */
  webhookSubscriptions: () => Promise<{ status: string; reason: string; count: number }[]>;
  /** BullMQ job counts by queue and state (Redis). */
  queueCounts: () => Promise<Record<string, Record<string, number>>>;
  /** Whether PostgreSQL and Redis answer, as /readyz tells (checkReadiness). */
  readiness: () => Promise<Readiness>;
}

/** How long a scrape waits for PostgreSQL or Redis before reporting the source down. */
const SOURCE_TIMEOUT_MS = 2_000;

async function read<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await pTimeout(work(), {
      milliseconds: SOURCE_TIMEOUT_MS,
      message: `no answer within ${SOURCE_TIMEOUT_MS} ms`,
    });
  } catch {
    return undefined;
  }
}

type Snapshot = {
  deadlines: Record<string, number> | undefined;
  outbox: { waiting: number; oldestAgeSeconds: number } | undefined;
  subscriptions: { status: string; reason: string; count: number }[] | undefined;
  queues: Record<string, Record<string, number>> | undefined;
  readiness: Readiness | undefined;
};

/**
 * Gauges read at scrape time from PostgreSQL and Redis: deadlines by status, the outbox backlog,
 * webhook subscriptions, queue depths and readiness. A source that fails or does not answer in
 * time is reported by `redress_metrics_source_up` and its gauges are left out, so an outage never
 * stalls the scrape. Both processes show them; they count all tenants, so dashboards take `max`.
 */
export function registerStoreGauges(registry: Registry, sources: StoreGaugeSources): void {
  // prom-client collects gauges concurrently; they share one reading of the sources per scrape.
  let reading: { at: number; snapshot: Promise<Snapshot> } | null = null;
  const snapshot = (): Promise<Snapshot> => {
    if (!reading || Date.now() - reading.at > 1_000) {
      reading = {
        at: Date.now(),
        snapshot: Promise.all([
          read(sources.deadlineCounts),
          read(sources.outboxBacklog),
          read(sources.webhookSubscriptions),
          read(sources.queueCounts),
          read(sources.readiness),
        ]).then(([deadlines, outbox, subscriptions, queues, readiness]) => ({
          deadlines,
          outbox,
          subscriptions,
          queues,
          readiness,
        })),
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
    name: 'redress_outbox_events',
    help: 'Committed events the outbox relay has yet to fan out to webhooks and subscriptions, all tenants',
    registers: [registry],
    async collect() {
      this.reset();
      const outbox = (await snapshot()).outbox;
      if (outbox) this.set(outbox.waiting);
    },
  });
  new Gauge({
    name: 'redress_outbox_oldest_age_seconds',
    help: 'Seconds the oldest event waiting for the outbox relay has waited (0 when none wait): the relay lag',
    registers: [registry],
    async collect() {
      this.reset();
      const outbox = (await snapshot()).outbox;
      if (outbox) this.set(outbox.oldestAgeSeconds);
    },
  });
  new Gauge({
    name: 'redress_webhook_subscriptions',
    help: 'Webhook subscriptions by status (active, disabled) and disabled reason (gone, failing, manual; none), all tenants',
    labelNames: ['status', 'reason'],
    registers: [registry],
    async collect() {
      this.reset();
      const subscriptions = (await snapshot()).subscriptions;
      if (!subscriptions) return;
      // Zero rather than absent, so an alert on growth sees the first one disabled.
      for (const reason of ['gone', 'failing', 'manual']) this.set({ status: 'disabled', reason }, 0);
      this.set({ status: 'active', reason: 'none' }, 0);
      for (const { status, reason, count } of subscriptions) this.inc({ status, reason }, count);
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
    name: 'redress_dependency_up',
    help: 'Whether PostgreSQL and Redis answered this process within 2 s, as /readyz checks them (1) or not (0)',
    labelNames: ['dependency'],
    registers: [registry],
    async collect() {
      const readiness = (await snapshot()).readiness;
      for (const dependency of ['postgres', 'redis'] as const)
        this.set({ dependency }, readiness?.checks[dependency].status === 'up' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'redress_metrics_source_up',
    help: 'Whether a metrics source (postgres, redis) answered the last scrape',
    labelNames: ['source'],
    registers: [registry],
    async collect() {
      const { deadlines, outbox, subscriptions, queues } = await snapshot();
      this.set({ source: 'postgres' }, deadlines && outbox && subscriptions ? 1 : 0);
      this.set({ source: 'redis' }, queues ? 1 : 0);
    },
  });
}
