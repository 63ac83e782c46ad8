import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  addBusinessTime,
  addCalendarTime,
  addDuration,
  type BusinessCalendar,
  businessTimeBetween,
  type DurationClock,
  durationBetween,
  durationParts,
  formatIsoDuration,
  openIntervals,
  parseIsoDuration,
  type TimeInterval,
  validateCalendar,
  WEEKDAYS,
  type Weekday,
} from './business-time.js';

const S = 1_000;
const M = 60_000;
const H = 3_600_000;

const at = (iso: string) => new Date(iso);
const everyDay = (intervals: TimeInterval[]) =>
  Object.fromEntries(WEEKDAYS.map((day) => [day, intervals])) as Partial<Record<Weekday, TimeInterval[]>>;
const weekdays = (intervals: TimeInterval[]) =>
  Object.fromEntries(WEEKDAYS.slice(0, 5).map((day) => [day, intervals])) as Partial<
    Record<Weekday, TimeInterval[]>
  >;

/**
 * Shanghai office, 8 h a day with a lunch break: 09:00–12:00 and 13:00–18:00, Monday to Friday.
 * National Day week 2026-10-01..07 is off; Sunday 2026-09-27 and Saturday 2026-10-10 are worked
 * (调休) with the default hours, i.e. Monday's. (Dates illustrate the rule, not the official plan.)
 */
const shanghai: BusinessCalendar = {
  timeZone: 'Asia/Shanghai',
  weeklyHours: weekdays([
    { start: '09:00', end: '12:00' },
    { start: '13:00', end: '18:00' },
  ]),
  holidays: [
    '2025-01-01',
    '2025-10-01',
    '2026-02-17',
    '2026-02-18',
    '2026-10-01',
    '2026-10-02',
    '2026-10-03',
    '2026-10-04',
    '2026-10-05',
    '2026-10-06',
    '2026-10-07',
    '2027-01-01',
  ],
  extraWorkingDays: [
    { date: '2026-02-14' },
    { date: '2026-09-27' },
    { date: '2026-10-10' },
    { date: '2027-02-07', intervals: [{ start: '10:00', end: '15:00' }] },
  ],
};

/** Open every minute of every day in London: business time is real time. */
const london24x7: BusinessCalendar = {
  timeZone: 'Europe/London',
  weeklyHours: everyDay([{ start: '00:00', end: '24:00' }]),
  holidays: [],
  extraWorkingDays: [],
};

/** A London night shift on Sundays only, across the hour the clocks change. */
const londonSundayNight: BusinessCalendar = {
  timeZone: 'Europe/London',
  weeklyHours: { sunday: [{ start: '01:00', end: '03:00' }] },
  holidays: [],
  extraWorkingDays: [],
};

/** Tokyo evening desk crossing midnight: 18:00–24:00 and then 00:00–02:00, every day. */
const tokyoNights: BusinessCalendar = {
  timeZone: 'Asia/Tokyo',
  weeklyHours: everyDay([
    { start: '00:00', end: '02:00' },
    { start: '18:00', end: '24:00' },
  ]),
  holidays: [],
  extraWorkingDays: [],
};

const newYorkOffice: BusinessCalendar = {
  timeZone: 'America/New_York',
  weeklyHours: weekdays([{ start: '09:00', end: '17:00' }]),
  holidays: [],
  extraWorkingDays: [],
};

const newYork24x7: BusinessCalendar = { ...london24x7, timeZone: 'America/New_York' };

/** New York desk open Saturday daytime and Sunday evening, so clocks change between its shifts. */
const newYorkWeekendEvenings: BusinessCalendar = {
  timeZone: 'America/New_York',
  weeklyHours: { saturday: [{ start: '10:00', end: '16:00' }], sunday: [{ start: '22:00', end: '24:00' }] },
  holidays: [],
  extraWorkingDays: [],
};

describe('addBusinessTime: hand-worked cases', () => {
  const cases: { name: string; calendar: BusinessCalendar; start: string; add: number; expected: string }[] =
    [
      // Monday 11:30 → 12:00 is 30 min, lunch skipped, 13:00 → 13:30 is the other 30 min.
      {
        name: 'lunch break',
        calendar: shanghai,
        start: '2026-09-28T11:30+08:00',
        add: H,
        expected: '2026-09-28T13:30+08:00',
      },
      // Friday 17:00–18:00 = 1 h (7 h left); weekend closed; Monday 09–12 = 3 h (4 h left); 13:00 + 4 h = 17:00.
      {
        name: 'Friday into Monday',
        calendar: shanghai,
        start: '2026-01-09T17:00+08:00',
        add: 8 * H,
        expected: '2026-01-12T17:00+08:00',
      },
      // 09–12 = 3 h, 13:00 + 5 h = 18:00: a full day ends at closing time, not at 09:00 the next day.
      {
        name: 'full day ends at close',
        calendar: shanghai,
        start: '2026-01-12T09:00+08:00',
        add: 8 * H,
        expected: '2026-01-12T18:00+08:00',
      },
      // 18:00 is the (closed) end of the afternoon period, so zero stays there.
      {
        name: 'zero at closing time',
        calendar: shanghai,
        start: '2026-01-12T18:00+08:00',
        add: 0,
        expected: '2026-01-12T18:00+08:00',
      },
      // Any positive remainder at a period's end continues in the next period: Tuesday 09:00 + 1 ms.
      {
        name: 'one ms past close',
        calendar: shanghai,
        start: '2026-01-12T18:00+08:00',
        add: 1,
        expected: '2026-01-13T09:00:00.001+08:00',
      },
      // 09:00 + 15 min inside the first period.
      {
        name: 'shorter than one interval',
        calendar: shanghai,
        start: '2026-01-12T09:00+08:00',
        add: 15 * M,
        expected: '2026-01-12T09:15+08:00',
      },
      // Wednesday 17–18 = 1 h; Oct 1–7 closed (holidays, weekend); Thursday Oct 8 09:00 + 1 h.
      {
        name: 'National Day skipped',
        calendar: shanghai,
        start: '2026-09-30T17:00+08:00',
        add: 2 * H,
        expected: '2026-10-08T10:00+08:00',
      },
      // Friday 17–18 = 1 h; Saturday closed; Sunday Sep 27 is worked with Monday's hours: 09:00 + 1 h.
      {
        name: 'extra working Sunday',
        calendar: shanghai,
        start: '2026-09-25T17:00+08:00',
        add: 2 * H,
        expected: '2026-09-27T10:00+08:00',
      },
      // Friday Oct 9 17–18 = 1 h; Saturday Oct 10 is worked: 09:00 + 1 h.
      {
        name: 'extra working Saturday',
        calendar: shanghai,
        start: '2026-10-09T17:00+08:00',
        add: 2 * H,
        expected: '2026-10-10T10:00+08:00',
      },
      // Sunday Feb 7 2027 is worked 10:00–15:00 only: Friday 17–18 = 1 h, then 10:00 + 4 h = 14:00.
      {
        name: 'extra day with own hours',
        calendar: shanghai,
        start: '2027-02-05T17:00+08:00',
        add: 5 * H,
        expected: '2027-02-07T14:00+08:00',
      },
      // Saturday is closed: the clock starts Monday 09:00; + 1 h.
      {
        name: 'start on Saturday',
        calendar: shanghai,
        start: '2026-01-10T10:00+08:00',
        add: H,
        expected: '2026-01-12T10:00+08:00',
      },
      {
        name: 'zero on Saturday',
        calendar: shanghai,
        start: '2026-01-10T10:00+08:00',
        add: 0,
        expected: '2026-01-12T09:00+08:00',
      },
      // Tuesday 22:00 is closed: Wednesday 09:00 + 30 min.
      {
        name: 'start at night',
        calendar: shanghai,
        start: '2026-01-13T22:00+08:00',
        add: 30 * M,
        expected: '2026-01-14T09:30+08:00',
      },
      // 12:30 is lunch: 13:00 + 1 h.
      {
        name: 'start at lunch',
        calendar: shanghai,
        start: '2026-01-13T12:30+08:00',
        add: H,
        expected: '2026-01-13T14:00+08:00',
      },
      {
        name: 'zero at lunch',
        calendar: shanghai,
        start: '2026-01-13T12:30+08:00',
        add: 0,
        expected: '2026-01-13T13:00+08:00',
      },
      // 22:00–24:00 = 2 h, then Tuesday 00:00 + 1 h.
      {
        name: 'across midnight',
        calendar: tokyoNights,
        start: '2026-01-12T22:00+09:00',
        add: 3 * H,
        expected: '2026-01-13T01:00+09:00',
      },
      // Exactly the rest of Monday: ends at 24:00, which is Tuesday 00:00.
      {
        name: 'ends at 24:00',
        calendar: tokyoNights,
        start: '2026-01-12T22:00+09:00',
        add: 2 * H,
        expected: '2026-01-13T00:00+09:00',
      },
      // 01:00–02:00 = 1 h, closed until 18:00, + 1 h.
      {
        name: 'after the night shift',
        calendar: tokyoNights,
        start: '2026-01-13T01:00+09:00',
        add: 2 * H,
        expected: '2026-01-13T19:00+09:00',
      },
      // London clocks go 01:00 GMT → 02:00 BST on 29 Mar: 00:00 GMT + 2 real hours = 02:00Z = 03:00 BST.
      {
        name: 'London spring forward 24×7',
        calendar: london24x7,
        start: '2026-03-29T00:00Z',
        add: 2 * H,
        expected: '2026-03-29T03:00+01:00',
      },
      // Clocks go 02:00 BST → 01:00 GMT on 25 Oct: 00:30 BST (23:30Z) + 2 h = 01:30Z, the second 01:30.
      {
        name: 'London fall back 24×7',
        calendar: london24x7,
        start: '2026-10-25T00:30+01:00',
        add: 2 * H,
        expected: '2026-10-25T01:30+00:00',
      },
      // 01:00 on 25 Oct is taken at its first occurrence, 01:00 BST = 00:00Z; 03:00 GMT = 03:00Z: 3 real hours.
      {
        name: 'fall-back night shift starts early',
        calendar: londonSundayNight,
        start: '2026-10-24T23:30Z',
        add: 0,
        expected: '2026-10-25T00:00Z',
      },
      {
        name: 'fall-back night shift is 3 h',
        calendar: londonSundayNight,
        start: '2026-10-25T00:00Z',
        add: 3 * H,
        expected: '2026-10-25T03:00Z',
      },
      // On 29 Mar 01:00 does not exist and moves forward to 02:00 BST = 01:00Z; 03:00 BST = 02:00Z: 1 h.
      {
        name: 'spring-forward night shift is 1 h',
        calendar: londonSundayNight,
        start: '2026-03-28T12:00Z',
        add: H,
        expected: '2026-03-29T02:00Z',
      },
      // The 1 h is used up; the next shift is Sunday 5 Apr 01:00 BST = 00:00Z, + 1 ms.
      {
        name: 'spring-forward night shift overflows',
        calendar: londonSundayNight,
        start: '2026-03-28T12:00Z',
        add: H + 1,
        expected: '2026-04-05T00:00:00.001Z',
      },
      // On an ordinary Sunday 01:00–03:00 GMT is 2 h; the last 30 min fall on the next Sunday, 01:00Z + 30 min.
      {
        name: 'ordinary night shift is 2 h',
        calendar: londonSundayNight,
        start: '2026-11-01T01:00Z',
        add: 2.5 * H,
        expected: '2026-11-08T01:30Z',
      },
      // Friday 16:00 EDT + 1 h = 17:00; the clocks change on Sunday; Monday 09:00 EST + 1 h = 10:00 EST = 15:00Z.
      {
        name: 'New York over fall back',
        calendar: newYorkOffice,
        start: '2026-10-30T16:00-04:00',
        add: 2 * H,
        expected: '2026-11-02T15:00Z',
      },
      // Friday 16:00 EST + 1 h; Monday 09:00 EDT + 1 h = 10:00 EDT = 14:00Z.
      {
        name: 'New York over spring forward',
        calendar: newYorkOffice,
        start: '2026-03-06T16:00-05:00',
        add: 2 * H,
        expected: '2026-03-09T14:00Z',
      },
      // Saturday 7 Mar 14:00 EST: 2 h to 16:00; Sunday 22:00–24:00 EDT (DST began that morning) 2 h;
      // Saturday 14 Mar 10:00 EDT + 4 h.
      {
        name: 'New York weekend shifts across spring forward',
        calendar: newYorkWeekendEvenings,
        start: '2026-03-07T14:00-05:00',
        add: 8 * H,
        expected: '2026-03-14T14:00-04:00',
      },
      // NY clocks go 02:00 EST → 03:00 EDT on 8 Mar: 01:30 EST (06:30Z) + 1 h = 07:30Z = 03:30 EDT.
      {
        name: 'New York spring forward 24×7',
        calendar: newYork24x7,
        start: '2026-03-08T01:30-05:00',
        add: H,
        expected: '2026-03-08T03:30-04:00',
      },
    ];

  it.each(cases)('$name', ({ calendar, start, add, expected }) => {
    expect(addBusinessTime(at(start), add, calendar).toISOString()).toBe(at(expected).toISOString());
  });

  it('treats an instant at the end of a period followed by a closed day as open', () => {
    // Friday 18:00–24:00 only: Saturday 00:00 is the closed end of Friday's period.
    const fridayNight: BusinessCalendar = {
      ...tokyoNights,
      weeklyHours: { friday: [{ start: '18:00', end: '24:00' }] },
    };
    const saturdayMidnight = at('2026-01-17T00:00+09:00');
    expect(addBusinessTime(saturdayMidnight, 0, fridayNight)).toEqual(saturdayMidnight);
    // Any more and the next Friday 18:00 is where it continues.
    expect(addBusinessTime(saturdayMidnight, M, fridayNight)).toEqual(at('2026-01-23T18:01+09:00'));
  });

  it('rejects negative, non-finite and invalid inputs', () => {
    const start = at('2026-01-12T09:00+08:00');
    expect(() => addBusinessTime(start, -1, shanghai)).toThrow(RangeError);
    expect(() => addBusinessTime(start, Number.NaN, shanghai)).toThrow(RangeError);
    expect(() => addBusinessTime(start, Number.POSITIVE_INFINITY, shanghai)).toThrow(RangeError);
    expect(() => addBusinessTime(new Date(Number.NaN), H, shanghai)).toThrow(RangeError);
    expect(() => addBusinessTime(start, H, { ...shanghai, timeZone: 'Mars/Olympus' })).toThrow(
      /Invalid business calendar.*Mars\/Olympus/,
    );
  });

  it('gives up with a clear error when there is no open time ahead', () => {
    // Valid (open once, in 2020) but never again: the search stops at the horizon instead of looping.
    const bygone: BusinessCalendar = {
      timeZone: 'UTC',
      weeklyHours: {},
      holidays: [],
      extraWorkingDays: [{ date: '2020-01-06', intervals: [{ start: '09:00', end: '17:00' }] }],
    };
    expect(() => addBusinessTime(at('2026-01-01T00:00Z'), H, bygone)).toThrow(
      /no open time in the 3660 days/,
    );
    expect(addBusinessTime(at('2019-12-31T00:00Z'), H, bygone)).toEqual(at('2020-01-06T10:00Z'));
  });

  it('stays fast over long durations', () => {
    // A year of 24×7 time is 365 × 24 real hours, DST or not; this walks 366 days.
    const started = performance.now();
    expect(addBusinessTime(at('2026-01-01T00:00Z'), 365 * 24 * H, london24x7)).toEqual(
      at('2027-01-01T00:00Z'),
    );
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('businessTimeBetween: hand-worked cases', () => {
  const cases: { name: string; calendar: BusinessCalendar; from: string; to: string; expected: number }[] = [
    // 11:00–12:00 + 13:00–14:00.
    {
      name: 'across lunch',
      calendar: shanghai,
      from: '2026-01-12T11:00+08:00',
      to: '2026-01-12T14:00+08:00',
      expected: 2 * H,
    },
    // Saturday and Sunday closed, Monday 09:00–10:00.
    {
      name: 'from a weekend',
      calendar: shanghai,
      from: '2026-01-10T10:00+08:00',
      to: '2026-01-12T10:00+08:00',
      expected: H,
    },
    // Thursday 2026-10-01 is a holiday.
    {
      name: 'a holiday',
      calendar: shanghai,
      from: '2026-10-01T00:00+08:00',
      to: '2026-10-02T00:00+08:00',
      expected: 0,
    },
    // Sunday 2026-09-27 is worked: 3 h + 5 h.
    {
      name: 'an extra working day',
      calendar: shanghai,
      from: '2026-09-27T00:00+08:00',
      to: '2026-09-28T00:00+08:00',
      expected: 8 * H,
    },
    {
      name: 'reversed range',
      calendar: shanghai,
      from: '2026-01-12T14:00+08:00',
      to: '2026-01-12T11:00+08:00',
      expected: 0,
    },
    // Local midnight to midnight on 29 Mar 2026 is 23 real hours in London…
    {
      name: 'London spring-forward day',
      calendar: london24x7,
      from: '2026-03-29T00:00+00:00',
      to: '2026-03-30T00:00+01:00',
      expected: 23 * H,
    },
    // …and 25 real hours on 25 Oct 2026.
    {
      name: 'London fall-back day',
      calendar: london24x7,
      from: '2026-10-25T00:00+01:00',
      to: '2026-10-26T00:00+00:00',
      expected: 25 * H,
    },
    // 01:00 BST (00:00Z) to 03:00 GMT (03:00Z).
    {
      name: 'London 01:00–03:00 on fall-back',
      calendar: londonSundayNight,
      from: '2026-10-24T00:00Z',
      to: '2026-10-26T00:00Z',
      expected: 3 * H,
    },
    // 01:00 is in the gap (→ 02:00 BST = 01:00Z) to 03:00 BST = 02:00Z.
    {
      name: 'London 01:00–03:00 on spring-forward',
      calendar: londonSundayNight,
      from: '2026-03-28T00:00Z',
      to: '2026-03-30T00:00Z',
      expected: H,
    },
    {
      name: 'New York spring-forward day',
      calendar: newYork24x7,
      from: '2026-03-08T00:00-05:00',
      to: '2026-03-09T00:00-04:00',
      expected: 23 * H,
    },
    {
      name: 'New York fall-back day',
      calendar: newYork24x7,
      from: '2026-11-01T00:00-04:00',
      to: '2026-11-02T00:00-05:00',
      expected: 25 * H,
    },
    // 22:00–24:00 and 00:00–02:00 Tuesday.
    {
      name: 'across midnight',
      calendar: tokyoNights,
      from: '2026-01-12T20:00+09:00',
      to: '2026-01-13T12:00+09:00',
      expected: 6 * H,
    },
  ];

  it.each(cases)('$name', ({ calendar, from, to, expected }) => {
    expect(businessTimeBetween(at(from), at(to), calendar)).toBe(expected);
  });

  it('counts a New York Sunday night shift 01:00–03:00 as 3 h when clocks fall back', () => {
    const shift: BusinessCalendar = {
      ...newYork24x7,
      weeklyHours: { sunday: [{ start: '01:00', end: '03:00' }] },
    };
    // 01:00 EDT = 05:00Z to 03:00 EST = 08:00Z.
    expect(openIntervals(shift, '2026-11-01', '2026-11-01')).toEqual([
      { date: '2026-11-01', start: at('2026-11-01T05:00Z'), end: at('2026-11-01T08:00Z') },
    ]);
  });
});

describe('openIntervals', () => {
  it('lists each local day’s periods, honouring holidays and extra days', () => {
    expect(openIntervals(shanghai, '2026-09-26', '2026-10-01')).toEqual([
      // Saturday 26 closed; Sunday 27 worked with Monday's hours; Monday–Wednesday open; Thursday a holiday.
      ...['2026-09-27', '2026-09-28', '2026-09-29', '2026-09-30'].flatMap((date) => [
        { date, start: at(`${date}T09:00+08:00`), end: at(`${date}T12:00+08:00`) },
        { date, start: at(`${date}T13:00+08:00`), end: at(`${date}T18:00+08:00`) },
      ]),
    ]);
  });

  it('shows the 25-hour London day', () => {
    expect(openIntervals(london24x7, '2026-10-25', '2026-10-25')).toEqual([
      { date: '2026-10-25', start: at('2026-10-24T23:00Z'), end: at('2026-10-26T00:00Z') },
    ]);
  });
});

describe('addCalendarTime and addDuration', () => {
  const friday = at('2026-01-09T17:00+08:00');

  it('adds real time on the calendar clock, even across a clock change', () => {
    expect(addCalendarTime(at('2026-03-28T12:00Z'), 24 * H)).toEqual(at('2026-03-29T12:00Z'));
    expect(addDuration(friday, 8 * H, 'calendar', shanghai)).toEqual(at('2026-01-10T01:00+08:00'));
    expect(() => addCalendarTime(friday, -1)).toThrow(RangeError);
    expect(() => addCalendarTime(friday, Number.NaN)).toThrow(RangeError);
  });

  it('adds open time on the business clock', () => {
    expect(addDuration(friday, 8 * H, 'business', shanghai)).toEqual(at('2026-01-12T17:00+08:00'));
  });

  it('treats a business clock without a calendar as open 24×7', () => {
    expect(addDuration(friday, 8 * H, 'business', null)).toEqual(at('2026-01-10T01:00+08:00'));
  });
});

describe('durationBetween', () => {
  const friday = at('2026-01-09T17:00+08:00');
  const monday = at('2026-01-12T17:00+08:00');

  it('counts real time on the calendar clock, whatever the calendar', () => {
    expect(durationBetween(friday, monday, 'calendar', shanghai)).toBe(72 * H);
    expect(durationBetween(at('2026-03-29T00:00Z'), at('2026-03-30T00:00Z'), 'calendar', null)).toBe(24 * H);
  });

  it('counts open time on the business clock, and real time without a calendar', () => {
    expect(durationBetween(friday, monday, 'business', shanghai)).toBe(8 * H);
    expect(durationBetween(friday, monday, 'business', null)).toBe(72 * H);
  });

  it('is 0 when `to` is not after `from`, and refuses invalid dates', () => {
    expect(durationBetween(monday, friday, 'calendar', null)).toBe(0);
    expect(durationBetween(monday, friday, 'business', shanghai)).toBe(0);
    expect(() => durationBetween(new Date(Number.NaN), monday, 'calendar', null)).toThrow(RangeError);
  });
});

describe('parseIsoDuration and formatIsoDuration', () => {
  it.each([
    ['PT24H', 24 * H],
    ['PT4H', 4 * H],
    ['P5D', 5 * 24 * H], // as a length a day is 24 h; business policies take the days from durationParts
    ['PT2S', 2 * S],
    ['PT0.5S', 500],
    ['PT0,25S', 250], // ISO also allows a decimal comma
    ['PT1.5000S', 1_500], // trailing zeros beyond milliseconds are harmless
    ['P1W', 7 * 24 * H],
    ['P1DT2H30M', 24 * H + 2 * H + 30 * M],
    ['PT90M', 90 * M],
    ['PT0S', 0],
  ])('parses %s', (text, expected) => {
    expect(parseIsoDuration(text)).toBe(expected);
  });

  it.each([
    ['P1Y', /years and months/],
    ['P1M', /years and months/],
    ['P1Y2M3D', /years and months/],
    ['P', /names no days/],
    ['PT', /names no days/],
    ['P1DT', /'T' must be followed/],
    ['-PT1H', /negative/],
    ['abc', /expected PnW or PnDTnHnMnS/],
    ['', /empty/],
    ['P1W2D', /expected PnW or PnDTnHnMnS/],
    ['PT1.5H', /expected PnW or PnDTnHnMnS/],
    ['PT0.0001S', /finer than a millisecond/],
    ['P1.5D', /expected PnW or PnDTnHnMnS/],
    ['P99999999999999999999D', /too long/],
  ])('rejects %s', (text, message) => {
    expect(() => parseIsoDuration(text)).toThrow(message);
    expect(() => durationParts(text)).toThrow(message);
  });

  it.each([
    ['P5D', { days: 5, timeMs: 0 }],
    ['P1W', { days: 7, timeMs: 0 }],
    ['PT36H', { days: 0, timeMs: 36 * H }],
    ['P1DT2H30M', { days: 1, timeMs: 2 * H + 30 * M }],
    ['PT0.5S', { days: 0, timeMs: 500 }],
  ])('keeps the days of %s apart from its time part', (text, parts) => {
    expect(durationParts(text)).toEqual(parts);
  });

  it.each([
    [0, 'PT0S'],
    [1, 'PT0.001S'],
    [500, 'PT0.5S'],
    [4 * H, 'PT4H'],
    [5 * 24 * H, 'P5D'],
    [24 * H + 2 * H + 30 * M, 'P1DT2H30M'],
    [H + 2_050, 'PT1H2.05S'],
  ])('formats %i ms as %s', (ms, text) => {
    expect(formatIsoDuration(ms)).toBe(text);
  });

  it('refuses to format what it cannot represent', () => {
    expect(() => formatIsoDuration(-1)).toThrow(RangeError);
    expect(() => formatIsoDuration(0.5)).toThrow(RangeError);
  });

  it('round-trips every whole number of milliseconds', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat(10 * 24 * H), fc.maxSafeNat()), (ms) => {
        expect(parseIsoDuration(formatIsoDuration(ms))).toBe(ms);
      }),
      { numRuns: 500 },
    );
  });
});

describe('validateCalendar', () => {
  it('accepts a good calendar', () => {
    for (const calendar of [shanghai, london24x7, londonSundayNight, tokyoNights, newYorkOffice]) {
      expect(validateCalendar(calendar)).toEqual([]);
    }
  });

  const good = { start: '09:00', end: '17:00' };
  const cases: { name: string; calendar: BusinessCalendar; message: RegExp }[] = [
    {
      name: 'unknown time zone',
      calendar: { ...newYorkOffice, timeZone: 'America/Gotham' },
      message: /'America\/Gotham' is not a known IANA time zone/,
    },
    {
      name: 'bad HH:mm',
      calendar: { ...newYorkOffice, weeklyHours: { monday: [{ start: '9:00', end: '17:00' }] } },
      message: /weeklyHours\.monday\[0\]\.start '9:00' is not a time HH:mm/,
    },
    {
      name: 'hour out of range',
      calendar: { ...newYorkOffice, weeklyHours: { monday: [{ start: '09:00', end: '24:30' }] } },
      message: /end '24:30' is not a time/,
    },
    {
      name: 'start not before end',
      calendar: { ...newYorkOffice, weeklyHours: { monday: [{ start: '12:00', end: '12:00' }] } },
      message: /12:00–12:00 must start before it ends/,
    },
    {
      name: 'unsorted intervals',
      calendar: {
        ...newYorkOffice,
        weeklyHours: {
          tuesday: [
            { start: '13:00', end: '17:00' },
            { start: '09:00', end: '12:00' },
          ],
        },
      },
      message: /weeklyHours\.tuesday\[1\].*list intervals in order/,
    },
    {
      name: 'overlapping intervals',
      calendar: {
        ...newYorkOffice,
        weeklyHours: {
          tuesday: [
            { start: '09:00', end: '12:30' },
            { start: '12:00', end: '17:00' },
          ],
        },
      },
      message: /12:00–17:00 overlaps the previous interval 09:00–12:30/,
    },
    {
      name: 'unknown weekday',
      calendar: {
        ...newYorkOffice,
        weeklyHours: { Monday: [good] } as unknown as BusinessCalendar['weeklyHours'],
      },
      message: /weeklyHours\.Monday is not a weekday/,
    },
    {
      name: 'bad holiday date',
      calendar: { ...newYorkOffice, holidays: ['2026-02-30'] },
      message: /holidays\[0\] '2026-02-30' is not a date/,
    },
    {
      name: 'bad extra day date',
      calendar: { ...newYorkOffice, extraWorkingDays: [{ date: '2026/09/27' }] },
      message: /extraWorkingDays\[0\]\.date '2026\/09\/27' is not a date/,
    },
    {
      name: 'bad extra day interval',
      calendar: {
        ...newYorkOffice,
        extraWorkingDays: [{ date: '2026-09-27', intervals: [{ start: '18:00', end: '09:00' }] }],
      },
      message: /extraWorkingDays\[0\]\.intervals\[0\]: 18:00–09:00 must start before it ends/,
    },
    {
      name: 'empty extra day intervals',
      calendar: { ...newYorkOffice, extraWorkingDays: [{ date: '2026-09-27', intervals: [] }] },
      message: /intervals is empty; omit it/,
    },
    {
      name: 'holiday and extra day at once',
      calendar: { ...newYorkOffice, holidays: ['2026-12-26'], extraWorkingDays: [{ date: '2026-12-26' }] },
      message: /2026-12-26 is both a holiday and an extra working day/,
    },
    {
      name: 'duplicate extra day',
      calendar: { ...newYorkOffice, extraWorkingDays: [{ date: '2026-12-26' }, { date: '2026-12-26' }] },
      message: /listed as an extra working day more than once/,
    },
    {
      name: 'never open',
      calendar: { ...newYorkOffice, weeklyHours: { monday: [] } },
      message: /the calendar is never open/,
    },
    {
      name: 'extra day with nothing to default to',
      calendar: { ...newYorkOffice, weeklyHours: {}, extraWorkingDays: [{ date: '2026-12-26' }] },
      message: /extraWorkingDays\[0\] names no intervals and no weekday has hours/,
    },
  ];

  it.each(cases)('reports $name', ({ calendar, message }) => {
    const problems = validateCalendar(calendar);
    expect(
      problems.some((problem) => message.test(problem)),
      problems.join('\n'),
    ).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties. The oracle below re-derives open periods independently of the module: luxon's
// getPossibleOffsets for ambiguous wall times (earliest wins) instead of the module's offset
// probing, ISO strings instead of epoch days, and no trimming or caching.
// ---------------------------------------------------------------------------------------------

const isoDate = (value: DateTime): string => {
  const date = value.toISODate();
  if (date === null) throw new Error('invalid date');
  return date;
};
const plusDays = (date: string, days: number) =>
  isoDate(DateTime.fromISO(date, { zone: 'utc' }).plus({ days }));
const localDateOf = (calendar: BusinessCalendar, instant: number) =>
  isoDate(DateTime.fromMillis(instant, { zone: calendar.timeZone }));

/** A wall time's instant: its earliest occurrence, or luxon's forward shift when it does not exist. */
function wallInstant(zone: string, date: string, time: string): number {
  const [day, clock] = time === '24:00' ? [plusDays(date, 1), '00:00'] : [date, time];
  const local = DateTime.fromISO(`${day}T${clock}`, { zone });
  const occurrences = local.getPossibleOffsets().map((candidate) => candidate.toMillis());
  return occurrences.length > 0 ? Math.min(...occurrences) : local.toMillis();
}

/** Open periods `[start, end]` of one local date, from the calendar's rules read afresh. */
function oraclePeriods(calendar: BusinessCalendar, date: string): [number, number][] {
  const extra = calendar.extraWorkingDays.find((candidate) => candidate.date === date);
  let intervals: TimeInterval[];
  if (extra) {
    const firstOpen = WEEKDAYS.map((day) => calendar.weeklyHours[day] ?? []).find((list) => list.length > 0);
    intervals = extra.intervals ?? firstOpen ?? [];
  } else if (calendar.holidays.includes(date)) {
    intervals = [];
  } else {
    const weekday = WEEKDAYS[DateTime.fromISO(date, { zone: 'utc' }).weekday - 1];
    intervals = (weekday && calendar.weeklyHours[weekday]) || [];
  }
  return intervals
    .map((interval): [number, number] => [
      wallInstant(calendar.timeZone, date, interval.start),
      wallInstant(calendar.timeZone, date, interval.end),
    ])
    .filter(([start, end]) => start < end);
}

/** Every oracle period of the local dates around `from`..`to`. */
function oraclePeriodsAround(calendar: BusinessCalendar, from: number, to: number): [number, number][] {
  const periods: [number, number][] = [];
  const last = plusDays(localDateOf(calendar, to), 1);
  for (let date = plusDays(localDateOf(calendar, from), -1); date <= last; date = plusDays(date, 1)) {
    periods.push(...oraclePeriods(calendar, date));
  }
  return periods;
}

const isOpenAt = (calendar: BusinessCalendar, instant: number) =>
  oraclePeriodsAround(calendar, instant, instant).some(([start, end]) => start <= instant && instant <= end);

/**
 * London office with a holiday, an extra evening and a Sunday-night shift around the clock change:
 * 01:15–01:45 happens twice on fall-back nights (the earlier counts) and not at all on
 * spring-forward nights, when those wall times move to 02:15–02:45 BST and the night periods come
 * out of order and overlapping.
 */
const londonOffice: BusinessCalendar = {
  timeZone: 'Europe/London',
  weeklyHours: {
    ...weekdays([{ start: '09:00', end: '17:30' }]),
    sunday: [
      { start: '00:30', end: '01:15' },
      { start: '01:30', end: '01:45' },
      { start: '02:00', end: '03:00' },
    ],
  },
  holidays: ['2025-12-25', '2026-04-03', '2026-12-25'],
  extraWorkingDays: [{ date: '2026-03-28', intervals: [{ start: '22:00', end: '24:00' }] }],
};

/**
 * New York weekend desk. On Sundays 01:30 repeats when clocks fall back, and 02:30–03:00 does not
 * exist when they spring forward (02:30 moves to 03:30 EDT, after 03:00 EDT, so the period vanishes).
 */
const newYorkWeekends: BusinessCalendar = {
  timeZone: 'America/New_York',
  weeklyHours: {
    saturday: [{ start: '10:00', end: '16:00' }],
    sunday: [
      { start: '00:00', end: '01:30' },
      { start: '02:30', end: '03:00' },
      { start: '12:00', end: '24:00' },
    ],
  },
  holidays: ['2026-07-04'],
  extraWorkingDays: [],
};

/** Santiago changes clocks at midnight, so 24:00 and 00:00 boundaries fall on the transitions. */
const santiago24x7: BusinessCalendar = { ...london24x7, timeZone: 'America/Santiago' };

const propertyCalendars = [shanghai, londonOffice, newYorkWeekends, london24x7, santiago24x7, tokyoNights];

const FIRST = Date.UTC(2025, 0, 1);
const LAST = Date.UTC(2027, 11, 31);
const DAYS = (LAST - FIRST) / (24 * H);

const changesByZone = new Map<string, string[]>();

/** Local dates in 2025–2027 whose UTC offset differs from the day before: clock changes. Memoised. */
function clockChanges(zone: string): string[] {
  let changes = changesByZone.get(zone);
  if (changes) return changes;
  changes = [];
  let previous = DateTime.fromISO('2024-12-31T12:00', { zone }).offset;
  for (let date = '2025-01-01'; date <= '2027-12-31'; date = plusDays(date, 1)) {
    const offset = DateTime.fromISO(`${date}T12:00`, { zone }).offset;
    if (offset !== previous) changes.push(date);
    previous = offset;
  }
  changesByZone.set(zone, changes);
  return changes;
}

/** A period boundary of `date` (or its midnight when closed), nudged by at most 1 ms. */
const nearBoundaryOf = (calendar: BusinessCalendar, date: string) =>
  fc.record({ pick: fc.nat(), nudge: fc.constantFrom(-1, 0, 0, 1) }).map(({ pick, nudge }) => {
    const boundaries = oraclePeriods(calendar, date).flat();
    return (
      (boundaries[pick % Math.max(boundaries.length, 1)] ?? wallInstant(calendar.timeZone, date, '00:00')) +
      nudge
    );
  });

/** Starts in the days around one of the zone's clock changes, or undefined when it has none. */
function aroundClockChange(calendar: BusinessCalendar): fc.Arbitrary<number> | undefined {
  const changes = clockChanges(calendar.timeZone);
  if (changes.length === 0) return undefined;
  return fc
    .record({ change: fc.constantFrom(...changes), shift: fc.integer({ min: -2, max: 1 }) })
    .map(({ change, shift }) => plusDays(change, shift))
    .chain((date) =>
      fc.oneof(
        nearBoundaryOf(calendar, date),
        fc
          .integer({ min: 0, max: 48 * 4 - 1 })
          .map((quarter) => wallInstant(calendar.timeZone, date, '00:00') + quarter * 15 * M),
      ),
    );
}

/**
 * Starts anywhere in 2025–2027, on round minutes, on or right next to period boundaries, and in
 * the days around clock changes, where almost all the subtle cases live.
 */
const startIn = (calendar: BusinessCalendar) =>
  fc.oneof(
    fc.integer({ min: FIRST, max: LAST }),
    fc.integer({ min: FIRST / M, max: LAST / M }).map((minutes) => minutes * M),
    fc.integer({ min: 0, max: DAYS }).chain((day) => nearBoundaryOf(calendar, plusDays('2025-01-01', day))),
    aroundClockChange(calendar) ?? fc.integer({ min: FIRST, max: LAST }),
  );

/**
 * Zero to about 30 business days of 8 h, biased to short spans (to end near the start, e.g. on a
 * clock-change night) and to round values that end exactly on boundaries.
 */
const MAX_DURATION = 30 * 8 * H;
const durationArb = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: MAX_DURATION }),
  fc.integer({ min: 0, max: MAX_DURATION / M }).map((minutes) => minutes * M),
  fc.integer({ min: 0, max: MAX_DURATION / H }).map((hours) => hours * H),
  fc.integer({ min: 0, max: 12 * 4 }).map((quarters) => quarters * 15 * M),
);

const scenario = fc
  .constantFrom(...propertyCalendars)
  .chain((calendar) =>
    fc.record({ calendar: fc.constant(calendar), start: startIn(calendar), a: durationArb, b: durationArb }),
  );

const RUNS = { numRuns: 200 };

describe('clock-change edge cases of the property calendars', () => {
  const cases: { name: string; calendar: BusinessCalendar; from: string; to: string; expected: number }[] = [
    // 29 Mar: 00:30 GMT = 00:30Z; 01:15, 01:30, 01:45 do not exist and move an hour forward, to
    // 01:15Z, 01:30Z, 01:45Z; 02:00 BST = 01:00Z; 03:00 BST = 02:00Z. So the periods are
    // [00:30Z, 01:15Z], [01:30Z, 01:45Z] and [01:00Z, 02:00Z]: out of order and overlapping. Their
    // union, counted once, is 00:30Z–02:00Z = 1.5 h.
    {
      name: 'London overlap counts once',
      calendar: londonOffice,
      from: '2026-03-29T00:00Z',
      to: '2026-03-29T12:00Z',
      expected: 1.5 * H,
    },
    // 25 Oct, earlier occurrences: 00:30–01:15 BST = 23:30Z–00:15Z (45 min); 01:30–01:45 BST =
    // 00:30Z–00:45Z (15 min); 02:00–03:00 GMT = 02:00Z–03:00Z (1 h). Total 2 h.
    {
      name: 'London repeated 01:15–01:45',
      calendar: londonOffice,
      from: '2026-10-24T12:00Z',
      to: '2026-10-25T12:00Z',
      expected: 2 * H,
    },
    // 8 Mar: 00:00–01:30 EST is 1.5 h; 02:30 → 03:30 EDT is after 03:00 EDT, so 02:30–03:00 vanishes;
    // 12:00–24:00 EDT is 12 h.
    {
      name: 'New York vanished period',
      calendar: newYorkWeekends,
      from: '2026-03-08T00:00-05:00',
      to: '2026-03-09T00:00-04:00',
      expected: 13.5 * H,
    },
    // 1 Nov: 00:00 EDT (04:00Z) to the first 01:30 EDT (05:30Z) is 1.5 h; 02:30–03:00 EST is 0.5 h;
    // 12:00–24:00 EST is 12 h.
    {
      name: 'New York repeated 01:30',
      calendar: newYorkWeekends,
      from: '2026-11-01T00:00-04:00',
      to: '2026-11-02T00:00-05:00',
      expected: 14 * H,
    },
  ];

  it.each(cases)('$name', ({ calendar, from, to, expected }) => {
    expect(businessTimeBetween(at(from), at(to), calendar)).toBe(expected);
  });

  it('adds across the London overlap in instant order, counting it once', () => {
    const calendar = { ...londonOffice, extraWorkingDays: [] };
    // The night shift is 00:30Z–02:00Z as one stretch: 00:30Z + 1 h = 01:30Z…
    expect(addBusinessTime(at('2026-03-28T23:00Z'), H, calendar)).toEqual(at('2026-03-29T01:30Z'));
    // …and 00:30Z + 1.5 h = 02:00Z (03:00 BST), its end.
    expect(addBusinessTime(at('2026-03-28T23:00Z'), 1.5 * H, calendar)).toEqual(at('2026-03-29T02:00Z'));
  });
});

/**
 * The oracle's addBusinessTime: the union of three weeks of oracle periods, merged after sorting,
 * walked from `start`. Slow but plain; enough for durations up to a day on these calendars.
 */
function oracleAdd(calendar: BusinessCalendar, start: number, duration: number): number {
  const first = plusDays(localDateOf(calendar, start), -1);
  const periods: [number, number][] = [];
  for (let day = 0; day < 22; day++) periods.push(...oraclePeriods(calendar, plusDays(first, day)));
  periods.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [from, to] of periods) {
    const last = merged.at(-1);
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  let remaining = duration;
  for (const [from, to] of merged) {
    if (to < start) continue;
    const begin = Math.max(from, start);
    if (remaining <= to - begin) return begin + remaining;
    remaining -= to - begin;
  }
  throw new Error('oracle window too short');
}

/** Starts around clock changes for the zones that have them; durations up to a day. */
const nearChangeScenario = fc.constantFrom(...propertyCalendars).chain((calendar) =>
  fc.record({
    calendar: fc.constant(calendar),
    start: aroundClockChange(calendar) ?? startIn(calendar),
    duration: fc.oneof(
      fc.integer({ min: 0, max: 24 * H }),
      fc.integer({ min: 0, max: 24 * 4 }).map((quarters) => quarters * 15 * M),
    ),
  }),
);

describe('properties over several calendars', () => {
  it('never lands inside a closed period', () => {
    fc.assert(
      fc.property(scenario, ({ calendar, start, a }) => {
        const result = addBusinessTime(new Date(start), a, calendar).getTime();
        expect(isOpenAt(calendar, result)).toBe(true);
      }),
      RUNS,
    );
  });

  it('adds zero as the start when open, else the next open instant', () => {
    fc.assert(
      fc.property(scenario, ({ calendar, start }) => {
        const result = addBusinessTime(new Date(start), 0, calendar).getTime();
        expect(result).toBeGreaterThanOrEqual(start);
        expect(isOpenAt(calendar, result)).toBe(true);
        if (isOpenAt(calendar, start)) expect(result).toBe(start);
        // Nothing open strictly between start and result.
        const skipped = oraclePeriodsAround(calendar, start, result).filter(
          ([from, to]) => from < result && to > start,
        );
        if (result > start) expect(skipped).toEqual([]);
      }),
      RUNS,
    );
  });

  it('adds a + b as a then b', () => {
    fc.assert(
      fc.property(scenario, ({ calendar, start, a, b }) => {
        const whole = addBusinessTime(new Date(start), a + b, calendar);
        const stepped = addBusinessTime(addBusinessTime(new Date(start), a, calendar), b, calendar);
        expect(stepped.toISOString()).toBe(whole.toISOString());
      }),
      RUNS,
    );
  });

  it('is monotonic in the duration', () => {
    fc.assert(
      fc.property(scenario, ({ calendar, start, a, b }) => {
        const [shorter, longer] = a <= b ? [a, b] : [b, a];
        const early = addBusinessTime(new Date(start), shorter, calendar).getTime();
        const late = addBusinessTime(new Date(start), longer, calendar).getTime();
        expect(early).toBeLessThanOrEqual(late);
      }),
      RUNS,
    );
  });

  it('counts back exactly the open time it added', () => {
    fc.assert(
      fc.property(scenario, ({ calendar, start, a }) => {
        const opened = addBusinessTime(new Date(start), 0, calendar);
        const result = addBusinessTime(new Date(start), a, calendar);
        expect(businessTimeBetween(opened, result, calendar)).toBe(a);
        // Closed time before the first open instant adds nothing either.
        expect(businessTimeBetween(new Date(start), result, calendar)).toBe(a);
      }),
      RUNS,
    );
  });

  it('agrees with a plain oracle, above all around clock changes', () => {
    fc.assert(
      fc.property(nearChangeScenario, ({ calendar, start, duration }) => {
        const result = addBusinessTime(new Date(start), duration, calendar).getTime();
        expect(new Date(result).toISOString()).toBe(
          new Date(oracleAdd(calendar, start, duration)).toISOString(),
        );
      }),
      RUNS,
    );
  });

  it('durationBetween undoes addDuration on either clock', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<[DurationClock, BusinessCalendar | null]>(
          ['calendar', shanghai],
          ['business', shanghai],
          ['business', londonSundayNight],
          ['business', null],
        ),
        fc.integer({ min: FIRST, max: LAST }),
        durationArb,
        ([clock, calendar], start, duration) => {
          const due = addDuration(new Date(start), duration, clock, calendar);
          expect(durationBetween(new Date(start), due, clock, calendar)).toBe(duration);
        },
      ),
      RUNS,
    );
  });
});
