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
