import { causeChain, ServiceUnavailableError } from './errors.js';

/** A service a request may need, named as /readyz names its checks. */
export type BackingService = 'postgres' | 'redis';

const DISPLAY_NAMES: Record<BackingService, string> = { postgres: 'PostgreSQL', redis: 'Redis' };

/**
 * Seconds a caller is asked to wait after an outage answer: about what a restart or a failover
 * takes, and no shorter than the time a request may spend finding out (DATABASE_CONNECT_TIMEOUT_MS).
 */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

/** Node's socket and name-lookup errors: the peer refused, reset, went silent or was not found. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * SQLSTATEs of a server that is going away or will not take the session: admin_shutdown (57P01),
 * crash_shutdown (57P02), cannot_connect_now (57P03, starting up or in recovery),
 * too_many_connections (53300), and the whole connection_exception class (08).
 */
const PG_UNREACHABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);

/**
 * What node-postgres and pg-pool say of a connection that was lost, or could not be had in
 * DATABASE_CONNECT_TIMEOUT_MS ('Connection terminated due to connection timeout' while opening
 * one, 'timeout exceeded when trying to connect' while waiting for one).
 */
const PG_MESSAGES = [/^Connection terminated\b/, /^timeout exceeded when trying to connect$/];

/**
 * What ioredis fails a command with while Redis is away: a request connection keeps no offline
 * queue, so it refuses at once; a command sent before the connection dropped fails once its
 * retries are spent, or when it outlives the command timeout.
 */
const REDIS_ERROR_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);
const REDIS_MESSAGES = [
  /^Stream isn't writeable and enableOfflineQueue options is false$/,
  /^Connection is closed\.$/,
  /^Command timed out$/,
  /^None of startup nodes is available$/,
];

function serviceOf(error: unknown): BackingService | 'socket' | undefined {
  if (!(error instanceof Error)) return undefined;
  if (REDIS_ERROR_NAMES.has(error.name) || REDIS_MESSAGES.some((pattern) => pattern.test(error.message)))
    return 'redis';
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (PG_UNREACHABLE_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return 'postgres';
    if (SOCKET_CODES.has(code)) return 'socket';
  }
  if (PG_MESSAGES.some((pattern) => pattern.test(error.message))) return 'postgres';
  return undefined;
}

/**
 * The backing service an error says cannot be reached, or undefined for any other error. The one
 * place that recognises an outage: the error handler, GraphQL and subscriptions all ask here.
 *
 * A bare socket error (ECONNREFUSED …) is PostgreSQL's: node-postgres hands a failed connection
 * attempt to its caller as it is, while ioredis reports its socket errors on its 'error' event
 * and fails commands with its own errors, recognised above. Nothing else on the request path
 * lets a socket error escape (webhook URL checks turn theirs into a refusal).
 */
export function unreachableService(error: unknown): BackingService | undefined {
  let socket = false;
  for (const current of causeChain(error)) {
    const service = serviceOf(current);
    if (service === 'socket') socket = true;
    else if (service) return service;
  }
  return socket ? 'postgres' : undefined;
}

/** `PostgreSQL cannot be reached`: what an outage answer says, naming no address. */
export const unreachableMessage = (service: BackingService): string =>
  `${DISPLAY_NAMES[service]} cannot be reached`;

/** The 503 for a request that needs `service` while it cannot be reached. */
export function serviceUnreachableError(service: BackingService, cause?: unknown): ServiceUnavailableError {
  return new ServiceUnavailableError({
    detail: `${unreachableMessage(service)}; retry after ${OUTAGE_RETRY_AFTER_SECONDS} s (send a write again with the same Idempotency-Key).`,
    headers: { 'retry-after': String(OUTAGE_RETRY_AFTER_SECONDS) },
    extensions: { service },
    cause,
  });
}

/** The 503 an outage error stands for, or undefined when it is no outage. */
export function outageError(error: unknown): ServiceUnavailableError | undefined {
  if (error instanceof ServiceUnavailableError) return error;
  const service = unreachableService(error);
  return service ? serviceUnreachableError(service, error) : undefined;
}
