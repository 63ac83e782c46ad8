import { DateTime, IANAZone } from 'luxon';

/**
 * Business-hours arithmetic over a calendar in an IANA time zone: weekly working hours with
 * several intervals a day (lunch breaks), public holidays, and extra working days such as
 * China's adjusted working weekends (调休).
 *
 * Open periods are closed intervals [start, end] of real instants. Each wall-clock boundary is
 * converted in the calendar's zone, so business time is real elapsed milliseconds: on the night
 * clocks go back, 01:00–03:00 local is three real hours. A wall time that does not exist (the
 * spring-forward gap) moves forward to the first valid instant, as luxon resolves it.
 *
 * Everything here is pure: the time to start from is always passed in.
 */

export type Weekday = 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday' | 'sunday';

/** A local wall-clock interval, `HH:mm` to `HH:mm`; `end` may be `24:00` (midnight ending the day). */
export interface TimeInterval {
  start: string;
  end: string;
}

export interface BusinessCalendar {
  timeZone: string;
  /** Open intervals per weekday; a missing or empty day is closed. */
  weeklyHours: Partial<Record<Weekday, TimeInterval[]>> | Record<string, TimeInterval[] | undefined>;
  /** `YYYY-MM-DD` local dates closed all day. */
  holidays: string[];
  /** Dates open although weekends or holidays; `intervals` default to the first working weekday's hours. */
  extraWorkingDays: { date: string; intervals?: TimeInterval[] | undefined }[];
}

export const WEEKDAYS: readonly Weekday[] = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
];

const TIME_PATTERN = /^(?:([01]\d|2[0-3]):([0-5]\d)|24:00)$/;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
/** No calendar search runs further than this, so a calendar with no open time can never loop forever. */
const SEARCH_HORIZON_DAYS = 3_660;

function minutesOf(time: string): number {
  if (time === '24:00') return 24 * 60;
  const match = TIME_PATTERN.exec(time);
  if (!match) throw new Error(`'${time}' is not HH:mm`);
  return Number(match[1]) * 60 + Number(match[2]);
}

function validDate(date: string): boolean {
  return DATE_PATTERN.test(date) && DateTime.fromISO(date, { zone: 'UTC' }).isValid;
}

function intervalProblems(where: string, intervals: TimeInterval[]): string[] {
  const problems: string[] = [];
  let previousEnd = -1;
  for (const interval of intervals) {
    if (!TIME_PATTERN.test(interval.start) || !TIME_PATTERN.test(interval.end)) {
      problems.push(`${where}: '${interval.start}'–'${interval.end}' is not HH:mm to HH:mm`);
      continue;
    }
    const start = minutesOf(interval.start);
    const end = minutesOf(interval.end);
    if (start >= end)
      problems.push(`${where}: interval ${interval.start}–${interval.end} must start before it ends`);
    else if (start < previousEnd) problems.push(`${where}: intervals must be in order and must not overlap`);
    previousEnd = Math.max(previousEnd, end);
  }
  return problems;
}

/** The hours an extra working day keeps when it names none: those of the first weekday that has any. */
export function defaultExtraDayHours(calendar: BusinessCalendar): TimeInterval[] {
  for (const day of WEEKDAYS) {
    const hours = (calendar.weeklyHours as Record<string, TimeInterval[] | undefined>)[day];
    if (hours && hours.length > 0) return hours;
  }
  return [];
}

/** Every problem with a calendar, in words; empty when it is usable. */
export function validateCalendar(calendar: BusinessCalendar): string[] {
  const problems: string[] = [];
  if (!IANAZone.isValidZone(calendar.timeZone))
    problems.push(`timeZone: '${calendar.timeZone}' is not an IANA time zone`);
  const weekly = calendar.weeklyHours as Record<string, TimeInterval[] | undefined>;
  for (const [day, intervals] of Object.entries(weekly)) {
    if (!WEEKDAYS.includes(day as Weekday)) problems.push(`weeklyHours: '${day}' is not a weekday`);
    else if (intervals) problems.push(...intervalProblems(`weeklyHours.${day}`, intervals));
  }
  const holidays = new Set<string>();
  for (const date of calendar.holidays) {
    if (!validDate(date)) problems.push(`holidays: '${date}' is not a YYYY-MM-DD date`);
    else if (holidays.has(date)) problems.push(`holidays: '${date}' is listed twice`);
    holidays.add(date);
  }
  const extra = new Set<string>();
  for (const day of calendar.extraWorkingDays) {
    if (!validDate(day.date)) problems.push(`extraWorkingDays: '${day.date}' is not a YYYY-MM-DD date`);
    else if (holidays.has(day.date))
      problems.push(`'${day.date}' is both a holiday and an extra working day`);
    else if (extra.has(day.date)) problems.push(`extraWorkingDays: '${day.date}' is listed twice`);
    extra.add(day.date);
    if (day.intervals) problems.push(...intervalProblems(`extraWorkingDays.${day.date}`, day.intervals));
  }
  const weeklyOpen = WEEKDAYS.some((day) => (weekly[day]?.length ?? 0) > 0);
  const extraOpen = calendar.extraWorkingDays.some((day) => (day.intervals?.length ?? 0) > 0);
  if (!weeklyOpen && !extraOpen) problems.push('the calendar has no working hours at all');
  return problems;
}

/** Open periods of a calendar, day by day, as real epoch-millisecond intervals. */
class OpenPeriods {
  private readonly holidays: Set<string>;
  private readonly extra: Map<string, TimeInterval[]>;
  private readonly cache = new Map<string, Array<[number, number]>>();

  constructor(private readonly calendar: BusinessCalendar) {
    if (!IANAZone.isValidZone(calendar.timeZone))
      throw new Error(`'${calendar.timeZone}' is not an IANA time zone`);
    this.holidays = new Set(calendar.holidays);
    const fallback = defaultExtraDayHours(calendar);
    this.extra = new Map(calendar.extraWorkingDays.map((day) => [day.date, day.intervals ?? fallback]));
  }

  /** Local midnight of the day containing `epochMs`. */
  dayOf(epochMs: number): DateTime {
    return DateTime.fromMillis(epochMs, { zone: this.calendar.timeZone }).startOf('day');
  }

  /** Open intervals of one local day, in order. */
  periodsOf(day: DateTime): Array<[number, number]> {
    const key = day.toISODate()!;
    const cached = this.cache.get(key);
    if (cached) return cached;
    let intervals: TimeInterval[];
    if (this.extra.has(key)) intervals = this.extra.get(key)!;
    else if (this.holidays.has(key)) intervals = [];
    else {
      const weekday = WEEKDAYS[day.weekday - 1]!;
      intervals = (this.calendar.weeklyHours as Record<string, TimeInterval[] | undefined>)[weekday] ?? [];
    }
    const periods = intervals.map((interval): [number, number] => [
      this.instantAt(day, minutesOf(interval.start)),
      this.instantAt(day, minutesOf(interval.end)),
    ]);
    this.cache.set(key, periods);
    return periods;
  }

  private instantAt(day: DateTime, minutes: number): number {
    if (minutes === 24 * 60) return day.plus({ days: 1 }).startOf('day').toMillis();
    return day
      .set({ hour: Math.floor(minutes / 60), minute: minutes % 60, second: 0, millisecond: 0 })
      .toMillis();
  }

  /** Open intervals from the day of `fromMs` onward, lazily, up to the search horizon. */
  *from(fromMs: number): Generator<[number, number]> {
    let day = this.dayOf(fromMs);
    for (let i = 0; i < SEARCH_HORIZON_DAYS; i += 1) {
      for (const period of this.periodsOf(day)) {
        if (period[1] >= fromMs) yield period;
      }
      day = day.plus({ days: 1 });
    }
    throw new Error(
      `calendar in ${this.calendar.timeZone} has no open time within ${SEARCH_HORIZON_DAYS} days`,
    );
  }
}

/**
 * The instant at which `durationMs` of open time has elapsed after `start`. Adding zero gives
 * `start` when it is open (an interval's end counts as open) and otherwise the next opening;
 * adding `a + b` equals adding `a` and then `b`.
 */
export function addBusinessTime(start: Date, durationMs: number, calendar: BusinessCalendar): Date {
  if (!Number.isFinite(durationMs) || durationMs < 0)
    throw new RangeError(`duration must be ≥ 0 ms, got ${durationMs}`);
  const periods = new OpenPeriods(calendar);
  let remaining = durationMs;
  const startMs = start.getTime();
  for (const [open, close] of periods.from(startMs)) {
    const from = Math.max(open, startMs);
    const available = close - from;
    if (remaining <= available) return new Date(from + remaining);
    remaining -= available;
  }
  /* c8 ignore next */
  throw new Error('unreachable: the period generator ends by throwing');
}

/** Open milliseconds between two instants (0 when `to` is not after `from`). */
export function businessTimeBetween(from: Date, to: Date, calendar: BusinessCalendar): number {
  const fromMs = from.getTime();
  const toMs = to.getTime();
  if (toMs <= fromMs) return 0;
  const periods = new OpenPeriods(calendar);
  let total = 0;
  for (const [open, close] of periods.from(fromMs)) {
    if (open >= toMs) break;
    total += Math.max(0, Math.min(close, toMs) - Math.max(open, fromMs));
  }
  return total;
}

/** True when `instant` lies in an open period (ends included). */
export function isOpenAt(instant: Date, calendar: BusinessCalendar): boolean {
  const periods = new OpenPeriods(calendar);
  const ms = instant.getTime();
  // Look at the day before too: a period ending at 24:00 belongs to the previous local day.
  const today = periods.dayOf(ms);
  return [today.minus({ days: 1 }), today].some((day) =>
    periods.periodsOf(day).some(([open, close]) => open <= ms && ms <= close),
  );
}

const ISO_DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,3})?)S)?)?$/;

/** An ISO-8601 duration split into whole days (weeks counted as 7) and a time part in ms. */
export interface DurationParts {
  days: number;
  timeMs: number;
}

/**
 * Reads the ISO-8601 durations policies use (`PT24H`, `PT4H`, `P5D`, `PT2S`, `PT0.5S`, `P1W`,
 * `P1DT2H30M`). Years and months are refused: their length depends on when they start.
 */
export function durationParts(text: string): DurationParts {
  if (/^P[^T]*[YM]/.test(text)) {
    throw new Error(`'${text}': years and months have no fixed length; use weeks, days or hours`);
  }
  const match = ISO_DURATION.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) {
    throw new Error(`'${text}' is not an ISO-8601 duration such as PT4H or P5D`);
  }
  const [, weeks, days, hours, minutes, seconds] = match;
  return {
    days: Number(weeks ?? 0) * 7 + Number(days ?? 0),
    timeMs: Math.round(
      Number(hours ?? 0) * 3_600_000 + Number(minutes ?? 0) * 60_000 + Number(seconds ?? 0) * 1000,
    ),
  };
}

/** Milliseconds of an ISO-8601 duration, a day counting 24 hours (business clocks read days as working days). */
export function parseIsoDuration(text: string): number {
  const { days, timeMs } = durationParts(text);
  return days * 86_400_000 + timeMs;
}

/** The ISO-8601 spelling of a whole number of milliseconds, as `PnDTnHnMnS`. */
export function formatIsoDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0)
    throw new RangeError(`duration must be a whole number of ms ≥ 0, got ${ms}`);
  const days = Math.floor(ms / 86_400_000);
  let rest = ms - days * 86_400_000;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = rest / 1000;
  const time = `${hours ? `${hours}H` : ''}${minutes ? `${minutes}M` : ''}${seconds ? `${seconds}S` : ''}`;
  if (!days && !time) return 'PT0S';
  return `P${days ? `${days}D` : ''}${time ? `T${time}` : ''}`;
}
