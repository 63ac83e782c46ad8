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
export function createDatabase(options: { url: string; poolMax: number; applicationName: string }): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    application_name: options.applicationName,
    // JIT compilation pays off for queries that run for seconds over millions of rows; ours run
    // for milliseconds, but the planner's estimate for correlated subqueries (the reports) often
    // passes jit_above_cost, and compiling took 0.5 s of a 0.8 s daily inventory. Setting
    // `options` hides libpq's PGOPTIONS from node-postgres, so it is passed on here, after ours
    // (the last setting wins); an `options` parameter in DATABASE_URL replaces both.
    options: ['-c jit=off', process.env.PGOPTIONS].filter(Boolean).join(' '),
    // Fail fast instead of queueing forever when the database is unreachable.
    connectionTimeoutMillis: 5_000,
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
