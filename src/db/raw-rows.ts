import { getTableColumns, type Table } from 'drizzle-orm';

/**
 * Maps a row returned by raw SQL (snake_case column names, driver values) to the row shape
 * drizzle gives for `table`, as if it had been selected through the query builder.
 */
export function tableRowFromRaw<T extends Table>(table: T, raw: Record<string, unknown>): T['$inferSelect'] {
  return Object.fromEntries(
    Object.entries(getTableColumns(table)).map(([property, column]) => {
      const value = raw[column.name];
      return [property, value === null || value === undefined ? null : column.mapFromDriverValue(value)];
    }),
  ) as T['$inferSelect'];
}

/**
 * Maps a row PostgreSQL sent as one JSON value (`to_jsonb(t)`) to the row shape drizzle gives for
 * `table`. Hot reads use it because node-postgres re-reads the column list and looks up one parser
 * per column on every execution, prepared or not: for a 50-column complaint that cost more than
 * the rest of the read. One JSON column costs one JSON.parse. The keys are the column names, and
 * every column type the tables use (timestamps as ISO strings, arrays, jsonb) maps back as it
 * would from the driver.
 */
export function tableRowFromJson<T extends Table>(
  table: T,
  json: Record<string, unknown>,
): T['$inferSelect'] {
  return tableRowFromRaw(table, json);
}
