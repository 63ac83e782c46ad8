import type pg from 'pg';

/** The tables whose rows the SQL view functions show, each with its function. */
const VIEW_OF = {
  complaints: 'complaint_view',
  deadlines: 'deadline_view',
  escalations: 'escalation_view',
} as const;

/**
 * What the SQL view function of `table` (complaint_view, deadline_view, escalation_view) makes of
 * the rows `where` selects (in `orderBy` order, if given), called as the worker's functions call it: the rows
 * read first, then shown in a statement of their own. On Citus a statement sent to a shard knows a
 * row by the shard's type, which the function does not take.
 */
export async function viewsInSql(
  pool: pg.Pool,
  table: keyof typeof VIEW_OF,
  where: string,
  params: unknown[],
  orderBy?: string,
): Promise<unknown[]> {
  const { rows } = await pool.query<{ row: unknown }>(
    `select to_jsonb(r) as row from ${table} r where ${where}${orderBy ? ` order by ${orderBy}` : ''}`,
    params,
  );
  const { rows: views } = await pool.query<{ view: unknown }>(
    `select ${VIEW_OF[table]}(jsonb_populate_record(null::${table}, x.row)) as view
     from unnest($1::jsonb[]) with ordinality as x(row, n) order by x.n`,
    [rows.map((row) => JSON.stringify(row.row))],
  );
  return views.map((row) => row.view);
}
