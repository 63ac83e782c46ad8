import { z } from 'zod';

const EARLIEST = Date.UTC(1900, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * An RFC 3339 date-time with a zone offset, between the years 1900 and 9999: wide enough for any
 * real complaint, narrow enough that every value fits a PostgreSQL timestamp and a JS Date.
 */
export const instantSchema = z.iso
  // A value that is no date-time at all gets this one problem, not the range problem as well.
  .datetime({ offset: true, abort: true })
  .refine((value) => {
    const ms = Date.parse(value);
    return ms >= EARLIEST && ms <= LATEST;
  }, 'must be between the years 1900 and 9999')
  .describe('RFC 3339 date-time with a time zone offset');
