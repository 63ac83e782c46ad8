import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { QueryResult, QueryResultRow } from 'pg';
import type { Queryable } from './client.js';

const dialect = new PgDialect();

/**
 * Runs a hand-written statement as a named prepared statement: PostgreSQL parses and plans it
 * once per connection instead of on every call. Worth it for the large, hot statements only
 * (intake's one-statement insert spends more time being parsed and planned than executed).
 * The text must be the same on every call under the same name; values go in as parameters.
 */
export async function executePrepared<T extends QueryResultRow>(
  queryable: Queryable,
  name: string,
  statement: SQL,
): Promise<QueryResult<T>> {
  const query = dialect.sqlToQuery(statement);
  // The pool or, inside a transaction, that transaction's connection.
  const prepared = queryable._.session.prepareQuery(query, undefined, name, false);
  return (await prepared.execute()) as QueryResult<T>;
}
