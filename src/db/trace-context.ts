import { sql } from 'drizzle-orm';
import { currentTraceContext } from '../lib/trace-context.js';
import type { Queryable } from './client.js';

/**
 * Runs `work` where events written by SQL functions, which do not name `trace_context`, get the
 * active trace context through the column's default (`redress.trace_context`, set for this
 * transaction only). Outside a trace, or with tracing off, `work` runs on `db` as it is, in the
 * one round trip it was written for; inside one, it runs in a transaction (a savepoint in the
 * caller's), which costs a BEGIN, a set_config and a COMMIT more.
 */
export async function withTraceContext<T>(db: Queryable, work: (q: Queryable) => Promise<T>): Promise<T> {
  const carrier = currentTraceContext();
  if (!carrier) return work(db);
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('redress.trace_context', ${JSON.stringify(carrier)}, true)`);
    return work(tx);
  });
}
