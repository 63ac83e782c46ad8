import type { LoggerOptions } from 'pino';

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

/** pino options shared by the API, the worker and the CLI. */
export function loggerOptions(level: string, base: Record<string, unknown> = {}): LoggerOptions {
  return {
    level,
    base: { service: 'redress', ...base },
    redact: { paths: redactedLogPaths, censor: '[redacted]' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
  };
}
