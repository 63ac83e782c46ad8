import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema/index.js';

export type Db = NodePgDatabase<typeof schema>;
/** A drizzle transaction handle; repositories accept it as their optional last argument. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Either the pool-backed database or an open transaction. */
export type Queryable = Db | Tx;

export interface Database {
  db: Db;
  pool: pg.Pool;
  close(): Promise<void>;
}

/** Opens a connection pool; no connection is made until the first query. */
export function createDatabase(options: {
  url: string;
  poolMax: number;
  applicationName: string;
  /** PostgreSQL cancels any statement of this pool that runs longer (SQLSTATE 57014). */
  statementTimeoutMs?: number;
  /** How long a query waits for a connection, in line behind the others or while one opens. */
  connectionTimeoutMs?: number;
}): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    application_name: options.applicationName,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    // JIT compilation pays off for queries that run for seconds over millions of rows; ours run
    // for milliseconds, but the planner's estimate for correlated subqueries (the reports) often
    // passes jit_above_cost, and compiling took 0.5 s of a 0.8 s daily inventory. Setting
    // `options` hides libpq's PGOPTIONS from node-postgres, so it is passed on here, after ours
    // (the last setting wins); an `options` parameter in DATABASE_URL replaces both.
    options: ['-c jit=off', process.env.PGOPTIONS].filter(Boolean).join(' '),
    // Fail fast instead of queueing forever when the database is unreachable: the query fails,
    // and a request gets 503 service_unavailable (DATABASE_CONNECT_TIMEOUT_MS).
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client that loses its connection emits 'error' on the pool; without a listener
  // that would crash the process instead of letting the next query reconnect.
  pool.on('error', () => {});
  // A client in use emits 'error' too when its connection drops, with no listener of the pool's:
  // unheard, that ended the process. The query under way fails with the same error, which its
  // caller handles, and the pool discards the client when it comes back.
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = drizzle(pool, { schema });
  return {
    db,
    pool,
    close: () => pool.end(),
  };
}

/**
 * The reports' own small pool, on the read replica when there is one. A long report then waits
 * for one of its own few connections and is cut off by its statement timeout, instead of holding
 * connections that intake needs.
 */
export function createReportsDatabase(env: {
  DATABASE_URL: string;
  DATABASE_READ_URL?: string | undefined;
  REPORTS_POOL_MAX: number;
  REPORTS_STATEMENT_TIMEOUT_MS: number;
}): Database {
  return createDatabase({
    url: env.DATABASE_READ_URL ?? env.DATABASE_URL,
    poolMax: env.REPORTS_POOL_MAX,
    applicationName: 'redress-reports',
    statementTimeoutMs: env.REPORTS_STATEMENT_TIMEOUT_MS,
    // A report waits in line for one of these few connections as long as it may run, no longer.
    connectionTimeoutMs: env.REPORTS_STATEMENT_TIMEOUT_MS,
  });
}
