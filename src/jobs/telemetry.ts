import type { Telemetry } from 'bullmq';
import { tracingEnabled } from '../lib/tracing-switch.js';

/**
 * BullMQ's own OpenTelemetry integration (bullmq-otel), given to every queue and worker when
 * tracing is on: adding a job is a span, the job's trace context travels in its options, and the
 * worker processes it in a span under that context. A job armed by a request therefore runs in
 * the request's trace, however much later. Undefined, and never loaded, with tracing off.
 */
export const queueTelemetry: Telemetry | undefined = tracingEnabled
  ? new (await import('bullmq-otel')).BullMQOtel({ tracerName: 'redress' })
  : undefined;
