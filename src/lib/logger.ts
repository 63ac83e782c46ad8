import { type LoggerOptions, stdSerializers } from 'pino';

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

/** pino options shared by the API, the worker and the CLI. */
export function loggerOptions(level: string, base: Record<string, unknown> = {}): LoggerOptions {
  return {
    level,
    base: { service: 'redress', ...base },
    redact: { paths: redactedLogPaths, censor: '[redacted]' },
    serializers: { err: serializeError, req: serializeRequest },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
  };
}
