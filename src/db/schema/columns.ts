import { customType, timestamp } from 'drizzle-orm/pg-core';

/**
 * Millisecond precision keeps every stored instant exactly representable as a JS Date, so
 * pagination cursors built from a timestamp round-trip without drifting by microseconds.
 */
export const instant = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });

/** Raw bytes (a hash): a Buffer in and out, as node-postgres reads `bytea`. */
export const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });
