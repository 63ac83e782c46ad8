import { Counter, Histogram, type Registry } from 'prom-client';
import type { NextStep } from './retry-schedule.js';

export interface WebhookMetrics {
  /** One attempt finished, with what it led to and how long the request took. */
  attempted(next: NextStep, status: number | null, latencySeconds: number): void;
  /** Seconds from an event's commit to the first attempt to deliver it. */
  firstAttempt(lagSeconds: number): void;
}

const statusClass = (status: number | null) => (status === null ? 'none' : `${Math.floor(status / 100)}xx`);

/**
 * Prometheus metrics of webhook delivery in the worker's registry. The first-attempt lag is the
 * figure that shows a backlog building: it grows long before deliveries start failing.
 */
export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  const outcomes = new Counter({
    name: 'redress_webhook_deliveries_total',
    help: 'Delivery attempts by what they led to: succeeded, retrying (another attempt scheduled) or failed (given up)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'redress_webhook_attempt_duration_seconds',
    help: "Seconds from sending a delivery to the receiver's answer (or the error), by status class",
    labelNames: ['status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
    registers: [registry],
  });
  const lag = new Histogram({
    name: 'redress_webhook_first_attempt_lag_seconds',
    help: 'Seconds from an event being committed to the first attempt to deliver it',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  return {
    attempted(next, status, latencySeconds) {
      outcomes.inc({ outcome: next.kind === 'retry' ? 'retrying' : next.kind });
      latency.observe({ status: statusClass(status) }, latencySeconds);
    },
    firstAttempt(lagSeconds) {
      lag.observe(Math.max(0, lagSeconds));
    },
  };
}
