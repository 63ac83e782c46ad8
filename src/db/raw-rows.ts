import { getTableColumns, type Table } from 'drizzle-orm';

/**
 * Maps a row returned by raw SQL (snake_case column names, driver values) to the row shape
 * drizzle gives for `table`, as if it had been selected through the query builder. A row sent as
 * one JSON value (`to_jsonb(t)`) maps the same way: its keys are the column names, and every column
 * type the tables use (timestamps as ISO strings, arrays, jsonb) maps back as from the driver.
 */
export function tableRowFromRaw<T extends Table>(table: T, raw: Record<string, unknown>): T['$inferSelect'] {
  return Object.fromEntries(
    Object.entries(getTableColumns(table)).map(([property, column]) => {
      const value = raw[column.name];
      return [property, value === null || value === undefined ? null : column.mapFromDriverValue(value)];
    }),
  ) as T['$inferSelect'];
}
