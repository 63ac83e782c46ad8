import { type Column, getTableColumns, type Table } from 'drizzle-orm';

/** Each column of a table: its property, its column name, and the column (which maps its values). */
type ColumnEntry = readonly [property: string, name: string, column: Column];

const columnEntries = new WeakMap<Table, readonly ColumnEntry[]>();

/**
 * A table's columns, listed once: every complaint read maps a row, and listing its 50 columns
 * anew for each was a twentieth of the API's CPU on `GET /v1/complaints/{id}`.
 */
function columnsOf(table: Table): readonly ColumnEntry[] {
  let entries = columnEntries.get(table);
  if (!entries) {
    entries = Object.entries(getTableColumns(table)).map(([property, column]) => [
      property,
      column.name,
      column,
    ]);
    columnEntries.set(table, entries);
  }
  return entries;
}

/**
 * Maps a row returned by raw SQL (snake_case column names, driver values) to the row shape
 * drizzle gives for `table`, as if it had been selected through the query builder. A row sent as
 * one JSON value (`to_jsonb(t)`) maps the same way: its keys are the column names, and every column
 * type the tables use (timestamps as ISO strings, arrays, jsonb) maps back as from the driver.
 */
export function tableRowFromRaw<T extends Table>(table: T, raw: Record<string, unknown>): T['$inferSelect'] {
  const row: Record<string, unknown> = {};
  for (const [property, name, column] of columnsOf(table)) {
    const value = raw[name];
    row[property] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as T['$inferSelect'];
}
