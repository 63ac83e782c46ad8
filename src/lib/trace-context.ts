import {
  type Attributes,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { tracingEnabled } from './tracing-switch.js';

/**
 * The W3C trace context of the moment something was written, as `propagation.inject` gives it
 * (`traceparent`, and `tracestate` when a vendor set one). Stored with events and carried in jobs,
 * so work done later, in another process, continues the trace that caused it.
 */
export type TraceCarrier = Record<string, string>;

const tracer = trace.getTracer('redress');

/**
 * The active trace context, to store with what is being written; null with tracing off or outside
 * any trace. Unsampled contexts are kept too: what follows from them is then left out as well, so
 * a complaint is traced from end to end or not at all.
 */
export function currentTraceContext(): TraceCarrier | null {
  if (!tracingEnabled) return null;
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ? carrier : null;
}

/**
 * Runs `work` in a new span whose parent is the stored context `parent` (or the active context
 * when `parent` is undefined; a root when null), ending it when `work` settles. With tracing off,
 * runs `work` alone.
 */
export async function inSpan<T>(
  name: string,
  options: { parent?: TraceCarrier | null; kind?: SpanKind; attributes?: Attributes },
  work: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!tracingEnabled) return work(undefined);
  const parent =
    options.parent === undefined
      ? context.active()
      : options.parent === null
        ? ROOT_CONTEXT
        : propagation.extract(ROOT_CONTEXT, options.parent);
  const span = tracer.startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
    },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Starts a span under the stored context `parent` that the caller ends itself; undefined with
 * tracing off or with no stored context.
 */
export function startSpanUnder(
  name: string,
  parent: TraceCarrier | null | undefined,
  options: { kind?: SpanKind; attributes?: Attributes } = {},
): Span | undefined {
  if (!tracingEnabled || !parent) return undefined;
  return tracer.startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
    },
    propagation.extract(ROOT_CONTEXT, parent),
  );
}

/**
 * The trace and span ids of the active span, for a log line; empty outside a sampled span, so
 * logs name only traces that were exported.
 */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  return traceFlags & 1 ? { trace_id: traceId, span_id: spanId } : {};
}

export { type Span, SpanKind, SpanStatusCode };
