import { DateTime } from 'luxon';

/** The instants a local calendar day spans in a time zone: [start, end). DST days are 23 or 25 hours. */
export function dayBounds(date: string, timeZone: string): { start: Date; end: Date } {
  const start = DateTime.fromISO(date, { zone: timeZone }).startOf('day');
  return { start: start.toJSDate(), end: start.plus({ days: 1 }).toJSDate() };
}

/** The instants from the start of `from` to the end of `to` (both local days, inclusive). */
export function periodBounds(from: string, to: string, timeZone: string): { start: Date; end: Date } {
  return { start: dayBounds(from, timeZone).start, end: dayBounds(to, timeZone).end };
}

/**
 * A report's period: local days from `from` to `to`, both counted, which are the instants
 * [start, end) in the tenant's time zone (periodBounds).
 */
export interface ReportPeriod {
  from: string;
  to: string;
  start: Date;
  end: Date;
}

export function reportPeriod(from: string, to: string, timeZone: string): ReportPeriod {
  return { from, to, ...periodBounds(from, to, timeZone) };
}

/** Today's date in a time zone, as YYYY-MM-DD. */
export const localToday = (now: Date, timeZone: string): string =>
  DateTime.fromJSDate(now, { zone: timeZone }).toISODate()!;

/** Whole days from `from` to `to`, counting both. */
export const daysBetween = (from: string, to: string): number =>
  DateTime.fromISO(to).diff(DateTime.fromISO(from), 'days').days + 1;
