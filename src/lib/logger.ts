import {
  type Bindings,
  type ChildLoggerOptions,
  type Logger,
  type LoggerOptions,
  stdSerializers,
} from 'pino';
import { traceLogFields } from './trace-context.js';
import { tracingEnabled } from './tracing-switch.js';

/**
 * Paths pino replaces with "[redacted]". Customer identity is confidential (DOMAIN §6), so it
 * never reaches a log line, whichever object it travels in; API keys never do either.
 */
export const redactedLogPaths = [
  'req.headers.authorization',
  'headers.authorization',
  'apiKey',
  '*.apiKey',
  'customer.name',
  'customer.phone',
  'customer.email',
  'customer.address',
  '*.customer.name',
  '*.customer.phone',
  '*.customer.email',
  '*.customer.address',
  '*.*.customer.name',
  '*.*.customer.phone',
  '*.*.customer.email',
  '*.*.customer.address',
];

/**
 * Errors as logged. A failed query carries its SQL parameters (customer names, emails…) in its
 * message and properties, and PostgreSQL's `detail` quotes the offending values; neither is
 * logged. What stays: the driver's message with quoted values masked, the SQLSTATE, the
 * constraint and the stack.
 */
export function serializeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const cause = (error as { cause?: unknown }).cause as
    | { message?: string; code?: string; constraint?: string; table?: string }
    | undefined;
  const isQueryError = 'params' in error || 'query' in error;
  if (!isQueryError) return stdSerializers.err(error) as unknown as Record<string, unknown>;
  return {
    type: error.name,
    // PostgreSQL quotes offending input in its messages (`invalid input syntax: "…"`).
    message: (cause?.message ?? 'database query failed').replace(/"[^"]*"/g, '"…"'),
    code: cause?.code,
    constraint: cause?.constraint,
    table: cause?.table,
    // The stack's first lines repeat the message, parameters included: keep the frames only.
    stack: error.stack
      ?.split('\n')
      .filter((line) => line.trimStart().startsWith('at '))
      .join('\n'),
  };
}

/** A request as logged: method and path, never the query string (search terms name customers). */
export function serializeRequest(request: { method?: string; url?: string; id?: unknown }) {
  return { method: request.method, path: request.url?.split('?')[0], requestId: request.id };
}

/**
 * pino options shared by the API, the worker and the CLI. With tracing on, each line written
 * inside a sampled span names its trace_id and span_id (ids only: nothing of the span's
 * attributes), so a log line leads to its trace and back.
 */
export function loggerOptions(level: string, base: Record<string, unknown> = {}): LoggerOptions {
  return {
    level,
    base: { service: 'redress', ...base },
    ...(tracingEnabled ? { mixin: traceLogFields } : {}),
    redact: { paths: redactedLogPaths, censor: '[redacted]' },
    serializers: { err: serializeError, req: serializeRequest },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
  };
}

const parentOf = Symbol('redress.parentLogger');
const made = Symbol('redress.madeChild');
const pending = Symbol('redress.pendingBindings');
const later = Symbol('redress.laterBindings');

/**
 * A child logger not yet made: its parent, the bindings it is made with, those set on it since
 * (setBindings), and the child once made.
 */
interface LazyChild extends Logger {
  [parentOf]: Logger;
  [pending]: Bindings;
  [later]: Bindings[] | undefined;
  [made]: Logger | undefined;
}

/** The pino child a lazy logger stands for, made the first time it is needed, as pino would have it. */
function madeChild(lazy: LazyChild): Logger {
  let child = lazy[made];
  if (!child) {
    child = lazy[parentOf].child(lazy[pending]);
    for (const bindings of lazy[later] ?? []) child.setBindings(bindings);
    lazy[made] = child;
  }
  return child;
}

/** Per parent logger, the prototype its lazy children share, so each request allocates one object. */
const lazyPrototypes = new WeakMap<Logger, Logger>();

/** The prototype of `parent`'s lazy children: the parent, with the methods that make the child. */
function lazyPrototypeOf(parent: Logger): Logger {
  let prototype = lazyPrototypes.get(parent);
  if (prototype) return prototype;
  const methods: Record<string | symbol, unknown> = {
    [parentOf]: parent,
    child(this: LazyChild, bindings: Bindings, options?: ChildLoggerOptions) {
      return madeChild(this).child(bindings, options);
    },
    setBindings(this: LazyChild, bindings: Bindings) {
      const child = this[made];
      if (child) child.setBindings(bindings);
      else if (this[later]) this[later].push(bindings);
      else this[later] = [bindings];
    },
    bindings(this: LazyChild) {
      return (
        this[made]?.bindings() ?? Object.assign(parent.bindings(), this[pending], ...(this[later] ?? []))
      );
    },
  };
  for (const level of Object.keys(parent.levels.values)) {
    // Checked at each call, as pino's own methods are swapped when the level changes.
    methods[level] = function (this: LazyChild, ...args: unknown[]) {
      if (!this.isLevelEnabled(level)) return;
      (madeChild(this) as unknown as Record<string, (...a: unknown[]) => void>)[level]!(...args);
    };
  }
  prototype = Object.assign(Object.create(parent) as Logger, methods);
  lazyPrototypes.set(parent, prototype);
  return prototype;
}

/**
 * A child logger that becomes one (`parent.child(bindings)`) only when it first writes a line at
 * an enabled level or is asked for a child of its own; until then it is the parent with the
 * bindings kept aside. Fastify makes a child logger for every request, and the auth hook binds
 * the tenant and key to it, but at the deployed level (warn) most requests never write a line,
 * while pino serialises bindings when they are made, each value through the redaction of the `*.`
 * paths (redactedLogPaths): about 9 µs a request. What is written is the same: the line carries
 * every binding, redacted as before. A child with options of its own (a route's log level) is made
 * at once.
 */
export function lazyChildLogger(parent: Logger, bindings: Bindings, options?: ChildLoggerOptions): Logger {
  if (options && Object.keys(options).length > 0) return parent.child(bindings, options);
  const lazy = Object.create(lazyPrototypeOf(parent)) as LazyChild;
  lazy[pending] = bindings;
  lazy[later] = undefined;
  lazy[made] = undefined;
  return lazy;
}
