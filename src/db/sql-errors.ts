import { causeChain } from '../lib/errors.js';

/** The SQLSTATE of a PostgreSQL error, wherever the driver or drizzle wrapped it. */
export function sqlState(error: unknown): string | undefined {
  for (const current of causeChain(error)) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * Whether a query failed waiting for a pool connection: pg-pool's own error, which has no
 * SQLSTATE, as it comes or wrapped by drizzle.
 */
export function waitedTooLongForConnection(error: unknown): boolean {
  for (const current of causeChain(error)) {
    if (current instanceof Error && current.message === 'timeout exceeded when trying to connect')
      return true;
  }
  return false;
}

/**
 * SQLSTATE classes PostgreSQL reports for a statement it refused or rolled back: bad data (22),
 * a constraint (23), a deadlock or serialization failure (40), a statement it cannot run (42), a
 * lock it could not take (55), an exception raised by a function (P0). Lost connections (08),
 * shutdowns (57P0x), system and internal errors (58, XX) and errors with no SQLSTATE at all are
 * not among them: after those, a statement's commit may or may not have happened.
 */
const ROLLED_BACK_CLASSES = new Set(['22', '23', '40', '42', '55', 'P0']);

/**
 * Whether PostgreSQL said the statement failed, so it wrote nothing and running it again cannot
 * write anything twice. Batched writes retry their items one at a time only after such a failure.
 */
export function statementRolledBack(error: unknown): boolean {
  const state = sqlState(error);
  if (state === undefined) return false;
  // A statement cancelled by statement_timeout or by request rolled back too.
  return ROLLED_BACK_CLASSES.has(state.slice(0, 2)) || state === '57014';
}
