import { fillPlaceholders, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import type { QueryResult, QueryResultRow } from 'pg';
import type { Queryable } from './client.js';

const dialect = new PgDialect();

/**
 * A hand-written statement run as a named prepared statement: PostgreSQL parses it once per
 * connection instead of on every call, and after five runs plans it once too, if a plan for any
 * values costs about what the runs' own plans did (plan_cache_mode auto). Worth it for the large,
 * hot statements only (intake's one-statement insert spends more time being parsed and planned
 * than executed).
 *
 * The statement is written once with `sql.placeholder('name')` for every value and compiled to
 * its text once, here; each call only fills in the values. Building the text on every call cost
 * intake about a twentieth of the API's CPU.
 */
export function preparedStatement<Values extends Record<string, unknown>, Row extends QueryResultRow>(
  name: string,
  statement: SQL,
) {
  const query = dialect.sqlToQuery(statement);
  return {
    /** Runs on the pool or, inside a transaction, on that transaction's connection. */
    async execute(queryable: Queryable, values: Values): Promise<QueryResult<Row>> {
      const prepared = queryable._.session.prepareQuery(query, undefined, name, false);
      return (await prepared.execute(values)) as QueryResult<Row>;
    },
    /**
     * The plan PostgreSQL picks for these values (EXPLAIN, not run). Tests pin each hot statement
     * to the index it is written for with it, so a schema change that strands one shows.
     */
    plan(pool: pg.Pool, values: Values): Promise<PlanNode> {
      return explainPlan(pool, { sql: query.sql, params: fillPlaceholders(query.params, values) });
    },
  };
}

/** One node of an EXPLAIN (FORMAT JSON) plan, with the members tests look at. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** The plan PostgreSQL picks for a statement and its values (EXPLAIN, not run). */
export async function explainPlan(
  pool: pg.Pool,
  query: { sql: string; params: unknown[] },
): Promise<PlanNode> {
  const result = await pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    `explain (format json) ${query.sql}`,
    query.params,
  );
  return result.rows[0]!['QUERY PLAN'][0].Plan;
}

/** Every node of a plan, depth first. */
export function planNodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(planNodes)];
}
