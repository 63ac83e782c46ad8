import { DateTime, IANAZone } from 'luxon';

/**
 * Business-hours arithmetic for SLA clocks.
 *
 * A {@link BusinessCalendar} describes when a team is open in its own IANA time zone: weekly hours
 * with several intervals a day (lunch breaks), holidays, and extra working days such as China's
 * adjusted working weekends (调休). From it this module derives the *open periods*: closed
 * intervals `[start, end]` of real instants, one per wall-clock interval of each local day.
 *
 * Rules every function here shares:
 * - Business time is real elapsed milliseconds inside open periods. Each wall-clock boundary is
 *   converted in the calendar's zone, so on the night clocks go back an interval 01:00–03:00 can
 *   last three real hours, and on the night they go forward it can last one.
 * - A wall time that does not exist (the spring-forward gap) moves forward as luxon resolves it; a
 *   wall time that occurs twice (fall-back) takes its earlier occurrence. An interval left with no
 *   length after conversion did not happen that day and is dropped.
 * - Open periods are closed at both ends, so work that fills a period ends *at* its end (8 h from
 *   09:00 in a 09:00–17:00 day is 17:00 that day, not 09:00 the next).
 *
 * Everything is pure: no clock is read and nothing is cached between calls.
 */

/** A day of the week, as the keys of {@link BusinessCalendar.weeklyHours} spell it. */
export type Weekday = 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday' | 'sunday';

/**
 * One open stretch of a local day in wall-clock time: `HH:mm` to `HH:mm`, `start` before `end`.
 * `end` may be `24:00`, the midnight that ends the day.
 */
export interface TimeInterval {
  start: string;
  end: string;
}

/** When a team is open, in its own time zone. Check it with {@link validateCalendar} before storing it. */
export interface BusinessCalendar {
  /** IANA time zone the hours and dates are written in, e.g. `Asia/Shanghai`. */
  timeZone: string;
  /** Open intervals per weekday, in order and not overlapping; a missing or empty day is closed. */
  weeklyHours: Partial<Record<Weekday, TimeInterval[]>>;
  /** `YYYY-MM-DD` local dates closed all day, whatever their weekday. */
  holidays: string[];
  /**
   * `YYYY-MM-DD` local dates open although they fall on a weekend or holiday. `intervals` default
   * to {@link defaultExtraDayHours} (the hours of the first weekday, Monday first, that has any).
   */
  extraWorkingDays: { date: string; intervals?: TimeInterval[] }[];
}

/** Which clock a duration runs on: every real millisecond, or only the calendar's open time. */
export type DurationClock = 'calendar' | 'business';

/** One open period of a local day, as real instants. */
export interface OpenPeriod {
  /** The local date (`YYYY-MM-DD`) whose hours this period comes from. */
  date: string;
  start: Date;
  end: Date;
}

/** The weekdays in ISO order, Monday first; the order {@link defaultExtraDayHours} searches in. */
export const WEEKDAYS: readonly Weekday[] = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
];

/**
 * How many consecutive closed days {@link addBusinessTime} looks through before giving up (about
 * ten years). A calendar whose open time lies only in the past would otherwise loop forever.
 */
export const SEARCH_HORIZON_DAYS = 3_660;

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Largest magnitude of a valid `Date`'s time value (ECMA-262 TimeClip). */
const MAX_TIME_MS = 8.64e15;

const TIME_PATTERN = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A wall-clock interval as minutes after local midnight, `[start, end)` with `end <= 1440`. */
type MinuteRange = readonly [start: number, end: number];
/** An open period as epoch milliseconds, `[start, end]`. */
type Period = readonly [start: number, end: number];

/** A calendar checked and turned into lookups keyed by epoch day (days since 1970-01-01). */
interface CompiledCalendar {
  zone: IANAZone;
  /** Index 0 is Monday, as in {@link WEEKDAYS}. */
  weekly: readonly (readonly MinuteRange[])[];
  holidays: ReadonlySet<number>;
  extras: ReadonlyMap<number, readonly MinuteRange[]>;
}

const CLOSED: readonly MinuteRange[] = [];

/** Minutes after midnight of a valid `HH:mm`, or undefined when it is not one. */
function parseTime(time: unknown): number | undefined {
  if (typeof time !== 'string') return undefined;
  const match = TIME_PATTERN.exec(time);
  if (!match) return undefined;
  const hours = match[1] ?? match[3];
  const minutes = match[2] ?? match[4];
  return Number(hours) * 60 + Number(minutes);
}

/** Epoch day of a valid `YYYY-MM-DD` calendar date, or undefined (rejects 2026-02-30 and the like). */
function parseDate(date: unknown): number | undefined {
  if (typeof date !== 'string') return undefined;
  const match = DATE_PATTERN.exec(date);
  if (!match) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 onto 1900–1999.
  const probe = new Date(0);
  probe.setUTCFullYear(year, month - 1, day);
  if (probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) {
    return undefined;
  }
  return probe.getTime() / DAY_MS;
}

function formatDate(epochDay: number): string {
  return new Date(epochDay * DAY_MS).toISOString().slice(0, 10);
}

/** Index into {@link WEEKDAYS} of an epoch day; 1970-01-01 was a Thursday. */
function weekdayIndex(epochDay: number): number {
  return (((epochDay + 3) % 7) + 7) % 7;
}

/** Problems with one day's intervals; `where` names the day in messages. */
function intervalProblems(where: string, intervals: unknown): string[] {
  if (!Array.isArray(intervals)) return [`${where} must be a list of intervals`];
  const problems: string[] = [];
  let previous: { start: number; end: number; text: string } | undefined;
  intervals.forEach((interval: Partial<TimeInterval> | null | undefined, index) => {
    const at = `${where}[${index}]`;
    const start = parseTime(interval?.start);
    const end = parseTime(interval?.end);
    if (start === undefined) problems.push(`${at}.start '${String(interval?.start)}' is not a time HH:mm`);
    if (end === undefined) problems.push(`${at}.end '${String(interval?.end)}' is not a time HH:mm`);
    if (start === undefined || end === undefined) return;
    const text = `${interval?.start}–${interval?.end}`;
    if (start >= end) {
      problems.push(`${at}: ${text} must start before it ends`);
      return;
    }
    // Unsorted and overlapping lists get different messages because the fixes differ.
    if (previous && start < previous.start) {
      problems.push(
        `${at}: ${text} comes before the previous interval ${previous.text}; list intervals in order`,
      );
    } else if (previous && start < previous.end) {
      problems.push(`${at}: ${text} overlaps the previous interval ${previous.text}`);
    }
    if (!previous || end > previous.end) previous = { start, end, text };
  });
  return problems;
}

/**
 * The hours an extra working day keeps when it names none: those of the first weekday, Monday
 * first, that has any (Monday's hours for a Monday–Friday office). Empty when no weekday is open.
 */
export function defaultExtraDayHours(calendar: BusinessCalendar): TimeInterval[] {
  for (const day of WEEKDAYS) {
    const intervals = calendar.weeklyHours[day];
    if (intervals && intervals.length > 0) return intervals.map((interval) => ({ ...interval }));
  }
  return [];
}

/**
 * Lists every problem with a calendar as a human-readable sentence; an empty list means the
 * calendar is usable. Checks the time zone, each `HH:mm`, that intervals start before they end and
 * are listed in order without overlapping, the dates, dates that are both holiday and extra
 * working day, and that the calendar is open at some time at all.
 */
export function validateCalendar(calendar: BusinessCalendar): string[] {
  const problems: string[] = [];
  if (typeof calendar.timeZone !== 'string' || !IANAZone.isValidZone(calendar.timeZone)) {
    problems.push(`timeZone '${String(calendar.timeZone)}' is not a known IANA time zone`);
  }

  const known = new Set<string>(WEEKDAYS);
  let weeklyOpen = false;
  for (const [day, intervals] of Object.entries(calendar.weeklyHours ?? {})) {
    if (!known.has(day)) {
      problems.push(`weeklyHours.${day} is not a weekday; use lowercase English names such as 'monday'`);
      continue;
    }
    if (intervals === undefined) continue;
    problems.push(...intervalProblems(`weeklyHours.${day}`, intervals));
    if (Array.isArray(intervals) && intervals.length > 0) weeklyOpen = true;
  }

  const holidays = new Set<number>();
  (calendar.holidays ?? []).forEach((date, index) => {
    const day = parseDate(date);
    if (day === undefined) problems.push(`holidays[${index}] '${String(date)}' is not a date YYYY-MM-DD`);
    else holidays.add(day);
  });

  const extras = new Set<number>();
  let extraOpen = false;
  (calendar.extraWorkingDays ?? []).forEach((extra, index) => {
    const at = `extraWorkingDays[${index}]`;
    const day = parseDate(extra?.date);
    if (day === undefined) {
      problems.push(`${at}.date '${String(extra?.date)}' is not a date YYYY-MM-DD`);
    } else {
      if (holidays.has(day)) problems.push(`${extra.date} is both a holiday and an extra working day`);
      if (extras.has(day)) {
        problems.push(`${at}: ${extra.date} is listed as an extra working day more than once`);
      }
      extras.add(day);
    }
    if (extra?.intervals === undefined) {
      if (!weeklyOpen) problems.push(`${at} names no intervals and no weekday has hours to default to`);
      return;
    }
    // An explicit empty list is more likely a mistake than a wish to be open for no time at all.
    if (Array.isArray(extra.intervals) && extra.intervals.length === 0) {
      problems.push(`${at}.intervals is empty; omit it to use the default hours`);
      return;
    }
    problems.push(...intervalProblems(`${at}.intervals`, extra.intervals));
    extraOpen = true;
  });

  if (!weeklyOpen && !extraOpen) {
    problems.push('the calendar is never open: no weekday has hours and no extra working day names any');
  }
  return problems;
}

function toMinuteRanges(intervals: readonly TimeInterval[]): MinuteRange[] {
  return intervals.map((interval) => [parseTime(interval.start)!, parseTime(interval.end)!] as const);
}

/** Thrown when a calendar is never open again: no business time can be added on it. */
export class NoOpenTimeError extends Error {
  override name = 'NoOpenTimeError';
}

// Calendars are values nobody mutates once built, so each is validated and indexed once: a
// deadline plan asks for business time day by day, and re-checking the calendar on every call
// made a long target on a large calendar cost seconds.
const compiledCalendars = new WeakMap<BusinessCalendar, CompiledCalendar>();

/** Validates and indexes a calendar (once per calendar object); throws with every problem listed. */
function compile(calendar: BusinessCalendar): CompiledCalendar {
  let result = compiledCalendars.get(calendar);
  if (!result) {
    result = compileAfresh(calendar);
    compiledCalendars.set(calendar, result);
  }
  return result;
}

function compileAfresh(calendar: BusinessCalendar): CompiledCalendar {
  const problems = validateCalendar(calendar);
  if (problems.length > 0) throw new Error(`Invalid business calendar: ${problems.join('; ')}`);
  const weekly = WEEKDAYS.map((day) => toMinuteRanges(calendar.weeklyHours[day] ?? []));
  const defaults = toMinuteRanges(defaultExtraDayHours(calendar));
  const extras = new Map<number, readonly MinuteRange[]>();
  for (const extra of calendar.extraWorkingDays) {
    extras.set(parseDate(extra.date)!, extra.intervals ? toMinuteRanges(extra.intervals) : defaults);
  }
  return {
    zone: IANAZone.create(calendar.timeZone),
    weekly,
    holidays: new Set(calendar.holidays.map((date) => parseDate(date)!)),
    extras,
  };
}

/**
 * The wall-clock hours of one local day: an extra working day wins over a holiday, which wins over
 * the weekday. (Validation rejects a date listed as both, so the first rule only matters in principle.)
 */
function hoursOf(calendar: CompiledCalendar, epochDay: number): readonly MinuteRange[] {
  const extra = calendar.extras.get(epochDay);
  if (extra) return extra;
  if (calendar.holidays.has(epochDay)) return CLOSED;
  return calendar.weekly[weekdayIndex(epochDay)] ?? CLOSED;
}

function offsetMs(zone: IANAZone, instant: number): number {
  return zone.offset(instant) * MINUTE_MS;
}

/** The local epoch day an instant falls on in the zone. */
function localDay(zone: IANAZone, instant: number): number {
  const local = instant + offsetMs(zone, instant);
  if (!Number.isFinite(local)) throw new RangeError('instant is outside the range of dates');
  return Math.floor(local / DAY_MS);
}

/**
 * The instant a wall-clock time (given as if it were UTC) happens, on a day whose offset changes.
 * Every offset in force near the wall time is tried; a candidate counts when the zone really shows
 * that wall time at that instant. Two candidates mean the time repeats (fall-back) and the earlier
 * wins; none means it falls in a gap, which luxon resolves by moving forward by the gap's length.
 */
function resolveTransitionWallTime(zone: IANAZone, wall: number, before: number, after: number): number {
  const candidates = [before, after, offsetMs(zone, wall - before), offsetMs(zone, wall - after)];
  let earliest = Number.POSITIVE_INFINITY;
  for (const offset of candidates) {
    const instant = wall - offset;
    if (offsetMs(zone, instant) === offset && instant < earliest) earliest = instant;
  }
  if (earliest !== Number.POSITIVE_INFINITY) return earliest;
  const shifted = DateTime.fromMillis(wall, { zone: 'utc' }).setZone(zone, { keepLocalTime: true });
  if (!shifted.isValid) throw new RangeError('date is outside the range luxon supports');
  return shifted.toMillis();
}

/**
 * Builds a function from local epoch day to that day's open periods, sorted, as real instants.
 * Meant to live for one call: it remembers the zone offsets it sampled, which is what makes
 * day-by-day iteration cheap (one offset lookup per open day instead of several per boundary).
 */
function dayResolver(calendar: CompiledCalendar): (epochDay: number) => Period[] {
  const samples = new Map<number, number>();
  // Offsets sampled at UTC midnights; a local day's instants all lie within 14 h of its wall times.
  const sample = (epochDay: number): number => {
    let offset = samples.get(epochDay);
    if (offset === undefined) {
      offset = offsetMs(calendar.zone, epochDay * DAY_MS);
      samples.set(epochDay, offset);
    }
    return offset;
  };
  return (epochDay) => {
    const hours = hoursOf(calendar, epochDay);
    if (hours.length === 0) return [];
    // The offsets a day before and two days after bracket every instant of this local day. When
    // they agree, the offset is taken to hold all day (this assumes no zone changes its offset and
    // back again within three days), so each boundary is plain arithmetic, which keeps the common
    // day to one offset lookup; otherwise every boundary is resolved carefully.
    const before = sample(epochDay - 1);
    const after = sample(epochDay + 2);
    if (!Number.isFinite(before) || !Number.isFinite(after) || Math.abs(epochDay * DAY_MS) > MAX_TIME_MS) {
      throw new RangeError('business time ran outside the range of dates');
    }
    const steady = before === after;
    const toInstant = (minute: number): number => {
      // 24:00 is simply minute 1440, the next day's midnight.
      const wall = epochDay * DAY_MS + minute * MINUTE_MS;
      return steady ? wall - before : resolveTransitionWallTime(calendar.zone, wall, before, after);
    };
    const periods: Period[] = [];
    for (const [startMinute, endMinute] of hours) {
      const start = toInstant(startMinute);
      const end = toInstant(endMinute);
      // An interval lying wholly in a spring-forward gap has no length: it did not happen.
      if (end > start) periods.push([start, end]);
    }
    // Gap shifts can reorder boundaries on a transition day; elsewhere the wall order holds.
    if (!steady) periods.sort((a, b) => a[0] - b[0]);
    return periods;
  };
}

/**
 * Open periods from local day `firstDay` to `lastDay`, each tagged with its local day, sorted and
 * never overlapping: a period that starts before an earlier one ends (possible only around clock
 * changes) is trimmed to start at that end, so no open millisecond is counted twice. Throws when
 * `horizonDays` consecutive days pass with nothing open, so an unbounded search always ends.
 */
function* openPeriods(
  calendar: CompiledCalendar,
  firstDay: number,
  lastDay: number,
  horizonDays: number,
): Generator<[start: number, end: number, day: number], void, undefined> {
  const resolve = dayResolver(calendar);
  let frontier = Number.NEGATIVE_INFINITY;
  let closedDays = 0;
  for (let day = firstDay; day <= lastDay; day++) {
    let opened = false;
    for (const [periodStart, end] of resolve(day)) {
      const start = Math.max(periodStart, frontier);
      if (end <= start) continue;
      opened = true;
      frontier = end;
      yield [start, end, day];
    }
    if (opened) closedDays = 0;
    else if (++closedDays > horizonDays) {
      throw new NoOpenTimeError(
        `Business calendar has no open time in the ${horizonDays} days from ${formatDate(firstDay)}; ` +
          'check its weekly hours, holidays and extra working days',
      );
    }
  }
}

/** Checks a duration argument and rounds it to whole milliseconds, the resolution of `Date`. */
function checkedDuration(durationMs: number): number {
  if (typeof durationMs !== 'number' || !Number.isFinite(durationMs)) {
    throw new RangeError(`duration must be a finite number of milliseconds, got ${String(durationMs)}`);
  }
  if (durationMs < 0) throw new RangeError(`duration must not be negative, got ${durationMs}`);
  return Math.round(durationMs);
}

function checkedInstant(instant: Date, name: string): number {
  const time = instant instanceof Date ? instant.getTime() : Number.NaN;
  if (!Number.isFinite(time)) throw new RangeError(`${name} must be a valid Date`);
  return time;
}

function dateFrom(time: number): Date {
  if (!(Math.abs(time) <= MAX_TIME_MS)) throw new RangeError('result is outside the range of dates');
  return new Date(time);
}

/**
 * The open periods of each local date from `fromLocalDate` to `toLocalDate` (`YYYY-MM-DD`, both
 * included) as real instants, in order. Useful to show a calendar and to reason about results.
 * Throws when the calendar or a date is invalid.
 */
export function openIntervals(
  calendar: BusinessCalendar,
  fromLocalDate: string,
  toLocalDate: string,
): OpenPeriod[] {
  const compiled = compile(calendar);
  const first = parseDate(fromLocalDate);
  const last = parseDate(toLocalDate);
  if (first === undefined) throw new RangeError(`'${fromLocalDate}' is not a date YYYY-MM-DD`);
  if (last === undefined) throw new RangeError(`'${toLocalDate}' is not a date YYYY-MM-DD`);
  const result: OpenPeriod[] = [];
  // Start a day early so trimming against the previous day matches what the arithmetic sees.
  for (const [start, end, day] of openPeriods(compiled, first - 1, last, Number.POSITIVE_INFINITY)) {
    if (day >= first) result.push({ date: formatDate(day), start: new Date(start), end: new Date(end) });
  }
  return result;
}

/**
 * The instant at which `durationMs` of open time has elapsed after `start`.
 *
 * The result always lies inside an open period, ends included. Adding 0 returns `start` when it is
 * open (also exactly at a period's end) and otherwise the start of the next open period. Adding is
 * associative: `add(t, a + b)` equals `add(add(t, a), b)` for whole-millisecond `a, b >= 0`,
 * because from a period's end any positive remainder continues in the next period.
 *
 * Fractional durations are rounded to whole milliseconds. Runs day by day, so the cost grows with
 * the number of calendar days spanned, not with the duration's resolution.
 *
 * @throws RangeError when `durationMs` is negative or not finite, or `start` is not a valid Date.
 * @throws Error when the calendar is invalid, or has no open time for {@link SEARCH_HORIZON_DAYS}
 *   consecutive days on the way.
 */
export function addBusinessTime(start: Date, durationMs: number, calendar: BusinessCalendar): Date {
  let remaining = checkedDuration(durationMs);
  let cursor = checkedInstant(start, 'start');
  const compiled = compile(calendar);
  // A period of the previous local day can still contain `start`, e.g. one ending at 24:00.
  const firstDay = localDay(compiled.zone, cursor) - 1;
  for (const [periodStart, end] of openPeriods(
    compiled,
    firstDay,
    Number.POSITIVE_INFINITY,
    SEARCH_HORIZON_DAYS,
  )) {
    if (end < cursor) continue;
    const from = Math.max(periodStart, cursor);
    const available = end - from;
    // `<=` lets work end exactly at a period's end; a positive remainder moves on to the next period.
    if (remaining <= available) return dateFrom(from + remaining);
    remaining -= available;
    cursor = end;
  }
  // Unreachable: an unbounded openPeriods only ends by throwing at the horizon. Kept for the compiler.
  throw new Error('Business calendar has no open time ahead');
}

/**
 * The open time, in milliseconds, between `from` and `to`: 0 when `to` is not after `from`.
 * The inverse of {@link addBusinessTime}: `businessTimeBetween(t, addBusinessTime(t, d)) === d`
 * for whole-millisecond `d >= 0`, whether or not `t` itself is open (closed time counts nothing).
 *
 * @throws RangeError when either instant is not a valid Date.
 * @throws Error when the calendar is invalid.
 */
export function businessTimeBetween(from: Date, to: Date, calendar: BusinessCalendar): number {
  const fromTime = checkedInstant(from, 'from');
  const toTime = checkedInstant(to, 'to');
  const compiled = compile(calendar);
  if (toTime <= fromTime) return 0;
  const firstDay = localDay(compiled.zone, fromTime) - 1;
  const lastDay = localDay(compiled.zone, toTime) + 1;
  let total = 0;
  for (const [start, end] of openPeriods(compiled, firstDay, lastDay, Number.POSITIVE_INFINITY)) {
    if (start >= toTime) break;
    const overlap = Math.min(end, toTime) - Math.max(start, fromTime);
    if (overlap > 0) total += overlap;
  }
  return total;
}

/**
 * `start` plus `durationMs` real milliseconds: every millisecond counts, nights, weekends and
 * clock changes included (so a day across a clock change is still 24 real hours).
 *
 * @throws RangeError when `durationMs` is negative or not finite, `start` is not a valid Date, or
 *   the result is out of range. Fractional durations are rounded to whole milliseconds.
 */
export function addCalendarTime(start: Date, durationMs: number): Date {
  return dateFrom(checkedInstant(start, 'start') + checkedDuration(durationMs));
}

/**
 * Adds a duration on the chosen clock: `calendar` counts every millisecond
 * ({@link addCalendarTime}); `business` counts only the calendar's open time
 * ({@link addBusinessTime}). A business clock with a `null` calendar means open 24×7, which is the
 * same as calendar time; a calendar passed with the `calendar` clock is ignored.
 */
export function addDuration(
  start: Date,
  durationMs: number,
  clock: DurationClock,
  calendar: BusinessCalendar | null,
): Date {
  if (clock === 'business' && calendar !== null) return addBusinessTime(start, durationMs, calendar);
  return addCalendarTime(start, durationMs);
}

/**
 * The time on the chosen clock between two instants, 0 when `to` is not after `from`: the inverse
 * of {@link addDuration}, reading the clock and a `null` calendar the same way.
 *
 * @throws RangeError when either instant is not a valid Date.
 * @throws Error when the business clock's calendar is invalid.
 */
export function durationBetween(
  from: Date,
  to: Date,
  clock: DurationClock,
  calendar: BusinessCalendar | null,
): number {
  if (clock === 'business' && calendar !== null) return businessTimeBetween(from, to, calendar);
  return Math.max(0, checkedInstant(to, 'to') - checkedInstant(from, 'from'));
}

/** An ISO-8601 duration with its whole days (a week counting 7) kept apart from the time part. */
export interface DurationParts {
  days: number;
  /** Hours, minutes and seconds, in milliseconds. */
  timeMs: number;
}

const WEEKS_DURATION = /^P(\d+)W$/;
const DAY_TIME_DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:[.,](\d+))?S)?)?$/;

/**
 * Parses an ISO-8601 duration, for the subset SLA policies use: `PnW`, or `PnDTnHnMnS` with any
 * components present and optional fractional seconds (`PT0.5S`). Days stay apart from the time
 * part because a policy on a business clock reads them as working days (see `addPolicyDuration`);
 * {@link parseIsoDuration} gives the plain length. Years and months are rejected because their
 * length varies.
 *
 * @throws Error for years or months, negative or empty durations (`P`, `PT`), weeks combined with
 *   other components, precision finer than a millisecond, lengths beyond
 *   `Number.MAX_SAFE_INTEGER` ms, and anything else not in the subset.
 */
export function durationParts(text: string): DurationParts {
  const invalid = (why: string) => new Error(`Invalid ISO-8601 duration '${text}': ${why}`);
  if (typeof text !== 'string' || text.length === 0) throw invalid('it is empty');
  if (text.startsWith('-')) throw invalid('negative durations are not allowed');
  const datePart = text.split('T')[0] ?? '';
  if (datePart.startsWith('P') && /[YM]/.test(datePart)) {
    throw invalid('years and months have no fixed length; use days (P30D) or weeks (P4W)');
  }

  const weeks = WEEKS_DURATION.exec(text);
  if (weeks) return checkedParts(Number(weeks[1]) * 7, 0, invalid);

  const match = DAY_TIME_DURATION.exec(text);
  if (!match) throw invalid('expected PnW or PnDTnHnMnS, e.g. PT4H, P5D, P1DT2H30M, PT0.5S');
  const [, days, hours, minutes, seconds, fraction] = match;
  if (days === undefined && hours === undefined && minutes === undefined && seconds === undefined) {
    throw invalid('it names no days, hours, minutes or seconds');
  }
  if (text.includes('T') && hours === undefined && minutes === undefined && seconds === undefined) {
    throw invalid("'T' must be followed by hours, minutes or seconds");
  }
  let fractionMs = 0;
  if (fraction !== undefined) {
    // Exact digit handling instead of floating point: `0.1` must be 100 ms, not 100.00000000000001.
    if (/[1-9]/.test(fraction.slice(3))) throw invalid('precision finer than a millisecond is not supported');
    fractionMs = Number(fraction.slice(0, 3).padEnd(3, '0'));
  }
  const timeMs =
    Number(hours ?? 0) * HOUR_MS +
    Number(minutes ?? 0) * MINUTE_MS +
    Number(seconds ?? 0) * 1000 +
    fractionMs;
  return checkedParts(Number(days ?? 0), timeMs, invalid);
}

/** Refuses parts whose total length in milliseconds is not a safe integer. */
function checkedParts(days: number, timeMs: number, invalid: (why: string) => Error): DurationParts {
  if (!Number.isSafeInteger(days * DAY_MS + timeMs)) throw invalid('it is too long');
  return { days, timeMs };
}

/**
 * The length of an ISO-8601 duration (as {@link durationParts} reads it) in milliseconds, a day
 * counting 24 hours and a week 7 days: on a calendar clock `P1D` is 24 real hours even across a
 * clock change.
 */
export function parseIsoDuration(text: string): number {
  const { days, timeMs } = durationParts(text);
  return days * DAY_MS + timeMs;
}

/**
 * Formats whole milliseconds as an ISO-8601 duration that {@link parseIsoDuration} reads back
 * exactly: days, then hours, minutes and seconds with a millisecond fraction when needed
 * (`P1DT2H30M`, `PT0.5S`); zero is `PT0S`.
 *
 * @throws RangeError when `ms` is negative or not a safe integer.
 */
export function formatIsoDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new RangeError(`duration must be a whole, non-negative number of milliseconds, got ${ms}`);
  }
  if (ms === 0) return 'PT0S';
  const days = Math.floor(ms / DAY_MS);
  let rest = ms - days * DAY_MS;
  const hours = Math.floor(rest / HOUR_MS);
  rest -= hours * HOUR_MS;
  const minutes = Math.floor(rest / MINUTE_MS);
  rest -= minutes * MINUTE_MS;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;

  let time = '';
  if (hours > 0) time += `${hours}H`;
  if (minutes > 0) time += `${minutes}M`;
  if (seconds > 0 || millis > 0) {
    const fraction = millis > 0 ? `.${String(millis).padStart(3, '0').replace(/0+$/, '')}` : '';
    time += `${seconds}${fraction}S`;
  }
  return `P${days > 0 ? `${days}D` : ''}${time ? `T${time}` : ''}`;
}
