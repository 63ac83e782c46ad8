import { DateTime } from 'luxon';
import {
  addBusinessTime,
  addCalendarTime,
  type BusinessCalendar,
  businessTimeBetween,
  durationParts,
  NoOpenTimeError,
  openIntervals,
  parseIsoDuration,
  SEARCH_HORIZON_DAYS,
} from './business-time.js';

/** Local midnight of an instant's day in the calendar's zone. */
const startOfLocalDay = (instant: Date, zone: string) =>
  DateTime.fromJSDate(instant, { zone }).startOf('day');

/**
 * Local midnight of the working day an open instant belongs to: its own day, except at a midnight
 * that only closes the previous day's period (a shift ending 24:00), which belongs to that day.
 */
function workingDayOf(instant: Date, calendar: BusinessCalendar): DateTime {
  const today = startOfLocalDay(instant, calendar.timeZone);
  const periods = openIntervals(calendar, today.minus({ days: 1 }).toISODate()!, today.toISODate()!);
  const time = instant.getTime();
  const owner = periods.findLast((period) => period.start.getTime() <= time && time <= period.end.getTime());
  return owner ? DateTime.fromISO(owner.date, { zone: calendar.timeZone }) : today;
}

/** Open time of one local day. */
function openTimeOfDay(day: DateTime, calendar: BusinessCalendar): number {
  return businessTimeBetween(day.toJSDate(), day.plus({ days: 1 }).toJSDate(), calendar);
}

/**
 * Adds a policy duration. On calendar clocks (`calendar` null) a day is 24 hours. On business
 * clocks each day is one working day: the due time keeps the same position within the working
 * day (Monday 11:00 plus P5D is the next Monday 11:00, holidays skipped), clamped to the end of a
 * shorter day; the time part then adds open hours.
 */
export function addPolicyDuration(start: Date, text: string, calendar: BusinessCalendar | null): Date {
  if (!calendar) return addCalendarTime(start, parseIsoDuration(text));
  const { days, timeMs } = durationParts(text);
  let cursor = addBusinessTime(start, 0, calendar);
  if (days > 0) {
    const firstDay = workingDayOf(cursor, calendar);
    const offset = businessTimeBetween(firstDay.toJSDate(), cursor, calendar);
    let day = firstDay;
    for (let moved = 0; moved < days; ) {
      day = day.plus({ days: 1 });
      if (openTimeOfDay(day, calendar) > 0) moved += 1;
      if (day.diff(firstDay, 'days').days > SEARCH_HORIZON_DAYS)
        // The calendar's kind of failure, so intake answers 422 calendar_has_no_open_time, not 500.
        throw new NoOpenTimeError(`calendar has no working days within ${SEARCH_HORIZON_DAYS} days`);
    }
    const available = openTimeOfDay(day, calendar);
    cursor = addBusinessTime(day.toJSDate(), Math.min(offset, available), calendar);
  }
  return timeMs > 0 ? addBusinessTime(cursor, timeMs, calendar) : cursor;
}
