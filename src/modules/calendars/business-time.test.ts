import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addBusinessTime,
  type BusinessCalendar,
  businessTimeBetween,
  durationParts,
  formatIsoDuration,
  isOpenAt,
  parseIsoDuration,
  validateCalendar,
} from './business-time.js';

const H = 3_600_000;
const M = 60_000;
const weekdays = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'] as const;
const everyDay = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;

/** Shanghai office: 09:00–12:00 and 13:00–18:00 on weekdays; National Day off; 27 Sep 2026 (Sunday) worked. */
const shanghai: BusinessCalendar = {
  timeZone: 'Asia/Shanghai',
  weeklyHours: Object.fromEntries(
    weekdays.map((day) => [
      day,
      [
        { start: '09:00', end: '12:00' },
        { start: '13:00', end: '18:00' },
      ],
    ]),
  ),
  holidays: ['2026-10-01', '2026-10-02'],
  extraWorkingDays: [{ date: '2026-09-27' }],
};

const london24x7: BusinessCalendar = {
  timeZone: 'Europe/London',
  weeklyHours: Object.fromEntries(everyDay.map((day) => [day, [{ start: '00:00', end: '24:00' }]])),
  holidays: [],
  extraWorkingDays: [],
};

const londonNights: BusinessCalendar = {
  timeZone: 'Europe/London',
  weeklyHours: Object.fromEntries(everyDay.map((day) => [day, [{ start: '01:00', end: '03:00' }]])),
  holidays: [],
  extraWorkingDays: [],
};

const newYorkWeekends: BusinessCalendar = {
  timeZone: 'America/New_York',
  weeklyHours: { saturday: [{ start: '10:00', end: '16:00' }], sunday: [{ start: '22:00', end: '24:00' }] },
  holidays: [],
  extraWorkingDays: [],
};

const midnightShift: BusinessCalendar = {
  timeZone: 'Asia/Shanghai',
  weeklyHours: {
    monday: [{ start: '22:00', end: '24:00' }],
    tuesday: [
      { start: '00:00', end: '02:00' },
      { start: '22:00', end: '24:00' },
    ],
  },
  holidays: [],
  extraWorkingDays: [],
};

const at = (iso: string) => new Date(iso);

describe('addBusinessTime, hand-worked', () => {
  it.each([
    // Monday 11:30 + 1 h: 30 min to the lunch break, 30 min after it → 13:30.
    ['lunch break', shanghai, '2026-09-21T11:30:00+08:00', 1 * H, '2026-09-21T13:30:00+08:00'],
    // Shorter than what is left of the interval: 09:10 + 20 min.
    ['within one interval', shanghai, '2026-09-21T09:10:00+08:00', 20 * M, '2026-09-21T09:30:00+08:00'],
    // 8 h from 09:00: 3 h morning + 5 h afternoon ends exactly at 18:00 that day, not the next morning.
    ['exactly one working day', shanghai, '2026-09-21T09:00:00+08:00', 8 * H, '2026-09-21T18:00:00+08:00'],
    // Friday 17:00 + 8 h: 1 h Friday, Saturday closed, Sunday 27 Sep is an extra working day
    // (09:00–12:00 3 h, 13:00–17:00 4 h) → Sunday 17:00.
    ['extra working Sunday', shanghai, '2026-09-25T17:00:00+08:00', 8 * H, '2026-09-27T17:00:00+08:00'],
    // Wednesday 30 Sep 17:00 + 2 h: 1 h Wednesday; 1–2 Oct are holidays and 3–4 Oct the weekend;
    // Monday 5 Oct 09:00 + 1 h → 10:00.
    ['holidays and weekend', shanghai, '2026-09-30T17:00:00+08:00', 2 * H, '2026-10-05T10:00:00+08:00'],
    // Saturday: nothing open until Sunday? No — 26 Sep is a plain Saturday, 27 Sep is worked: Sunday 09:30.
    ['start on a closed day', shanghai, '2026-09-26T15:00:00+08:00', 30 * M, '2026-09-27T09:30:00+08:00'],
    // Starting at night: next opening 09:00, + 45 min.
    ['start at night', shanghai, '2026-09-21T23:00:00+08:00', 45 * M, '2026-09-22T09:45:00+08:00'],
    // Starting in the lunch break adds from 13:00.
    ['start at lunch', shanghai, '2026-09-21T12:15:00+08:00', 10 * M, '2026-09-21T13:10:00+08:00'],
    // 22:00–24:00 then 00:00–02:00: three hours from Monday 22:30 cross midnight → Tuesday 01:30.
    ['across midnight', midnightShift, '2026-09-21T22:30:00+08:00', 3 * H, '2026-09-22T01:30:00+08:00'],
    // London 24×7 across spring-forward (29 Mar 2026, 01:00 GMT → 02:00 BST): 3 real hours from
    // 00:00 GMT is 03:00 GMT = 04:00 BST.
    ['spring forward, 24×7', london24x7, '2026-03-29T00:00:00Z', 3 * H, '2026-03-29T03:00:00Z'],
    // Fall back (25 Oct 2026, 02:00 BST → 01:00 GMT): 01:00–03:00 local spans 3 real hours
    // (00:00Z to 03:00Z), so 2.5 h from its opening ends at 02:30Z.
    ['fall back, 01:00–03:00 is 3 h', londonNights, '2026-10-25T00:00:00Z', 2.5 * H, '2026-10-25T02:30:00Z'],
    // On a normal night the same interval is 2 h: 2.5 h runs into the next night (01:00 GMT + 0.5 h).
    [
      'normal night, 01:00–03:00 is 2 h',
      londonNights,
      '2026-11-01T01:00:00Z',
      2.5 * H,
      '2026-11-02T01:30:00Z',
    ],
    // New York, Saturday 10:00–16:00 EDT; 8 h from Saturday 7 Mar 2026 14:00 EST: 2 h Saturday, then
    // Sunday 22:00–24:00 EDT (DST began that morning) 2 h, then next Saturday 10:00 EDT + 4 h → 14:00.
    [
      'New York weekends across DST',
      newYorkWeekends,
      '2026-03-07T14:00:00-05:00',
      8 * H,
      '2026-03-14T14:00:00-04:00',
    ],
  ])('%s', (_label, calendar, start, duration, expected) => {
    expect(addBusinessTime(at(start), duration, calendar).toISOString()).toBe(at(expected).toISOString());
  });

  it('adding zero moves a closed start to the next opening and keeps an open one', () => {
    expect(addBusinessTime(at('2026-09-21T12:30:00+08:00'), 0, shanghai).toISOString()).toBe(
      at('2026-09-21T13:00:00+08:00').toISOString(),
    );
    expect(addBusinessTime(at('2026-09-21T10:00:00+08:00'), 0, shanghai).toISOString()).toBe(
      at('2026-09-21T10:00:00+08:00').toISOString(),
    );
    // An interval's end counts as open.
    expect(addBusinessTime(at('2026-09-21T18:00:00+08:00'), 0, shanghai).toISOString()).toBe(
      at('2026-09-21T18:00:00+08:00').toISOString(),
    );
  });

  it('refuses negative durations and calendars with no open time', () => {
    expect(() => addBusinessTime(new Date(), -1, shanghai)).toThrow(RangeError);
    expect(() => addBusinessTime(new Date(), Number.NaN, shanghai)).toThrow(RangeError);
    const closed: BusinessCalendar = { timeZone: 'UTC', weeklyHours: {}, holidays: [], extraWorkingDays: [] };
    expect(() => addBusinessTime(new Date(), H, closed)).toThrow(/no open time/);
  });

  it('counts open time between instants', () => {
    expect(
      businessTimeBetween(at('2026-09-21T08:00:00+08:00'), at('2026-09-22T08:00:00+08:00'), shanghai),
    ).toBe(8 * H);
    expect(
      businessTimeBetween(at('2026-09-21T11:00:00+08:00'), at('2026-09-21T14:00:00+08:00'), shanghai),
    ).toBe(2 * H);
    expect(businessTimeBetween(at('2026-09-22T00:00:00Z'), at('2026-09-21T00:00:00Z'), shanghai)).toBe(0);
  });
});

describe('ISO-8601 durations', () => {
  it.each([
    ['PT24H', 24 * H],
    ['PT4H', 4 * H],
    ['P5D', 5 * 24 * H],
    ['PT2S', 2000],
    ['PT0.5S', 500],
    ['P1W', 7 * 24 * H],
    ['P1DT2H30M', 26.5 * H],
  ])('%s is %d ms', (text, ms) => {
    expect(parseIsoDuration(text)).toBe(ms);
  });

  it('keeps days apart from the time part', () => {
    expect(durationParts('P1W2DT3H')).toEqual({ days: 9, timeMs: 3 * H });
  });

  it.each(['P1Y', 'P1M', 'P2Y3M', 'P', 'PT', '-PT1H', 'abc', '', 'PT1.2345S', 'P1.5D'])(
    'refuses %j',
    (text) => {
      expect(() => parseIsoDuration(text)).toThrow();
    },
  );

  it('round-trips whole milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 * 24 * H }), (ms) => {
        expect(parseIsoDuration(formatIsoDuration(ms))).toBe(ms);
      }),
    );
  });
});

describe('validateCalendar', () => {
  it('accepts a good calendar', () => {
    expect(validateCalendar(shanghai)).toEqual([]);
  });

  it.each([
    [{ timeZone: 'Mars/Base' }, /IANA/],
    [{ weeklyHours: { monday: [{ start: '9:00', end: '17:00' }] } }, /HH:mm/],
    [{ weeklyHours: { monday: [{ start: '17:00', end: '09:00' }] } }, /start before/],
    [
      {
        weeklyHours: {
          monday: [
            { start: '09:00', end: '13:00' },
            { start: '12:00', end: '18:00' },
          ],
        },
      },
      /overlap/,
    ],
    [{ holidays: ['2026-02-30'] }, /YYYY-MM-DD/],
    [{ holidays: ['2026-09-27'] }, /both a holiday and an extra working day/],
    [{ weeklyHours: {}, extraWorkingDays: [] }, /no working hours/],
    [{ weeklyHours: { caturday: [{ start: '09:00', end: '10:00' }] } }, /not a weekday/],
  ])('names the problem in %o', (overrides, message) => {
    const problems = validateCalendar({ ...shanghai, ...overrides } as BusinessCalendar);
    expect(problems.join('\n')).toMatch(message);
  });
});

describe('addBusinessTime, properties', () => {
  const calendars = [shanghai, london24x7, londonNights, newYorkWeekends, midnightShift];
  const start = fc.date({
    min: new Date('2025-01-01T00:00:00Z'),
    max: new Date('2027-12-31T00:00:00Z'),
    noInvalidDate: true,
  });
  const duration = fc.integer({ min: 0, max: 30 * 8 * H });
  const calendar = fc.constantFrom(...calendars);
  const runs = { numRuns: 150 };

  it('never lands inside a closed period', () => {
    fc.assert(
      fc.property(calendar, start, duration, (cal, from, ms) => {
        expect(isOpenAt(addBusinessTime(from, ms, cal), cal)).toBe(true);
      }),
      runs,
    );
  });

  it('adding zero returns the start if open, else the next open instant with nothing open in between', () => {
    fc.assert(
      fc.property(calendar, start, (cal, from) => {
        const result = addBusinessTime(from, 0, cal);
        expect(result.getTime()).toBeGreaterThanOrEqual(from.getTime());
        if (isOpenAt(from, cal)) expect(result.getTime()).toBe(from.getTime());
        expect(businessTimeBetween(from, result, cal)).toBe(0);
      }),
      runs,
    );
  });

  it('adding a + b equals adding a then b', () => {
    fc.assert(
      fc.property(calendar, start, duration, duration, (cal, from, a, b) => {
        expect(addBusinessTime(from, a + b, cal).getTime()).toBe(
          addBusinessTime(addBusinessTime(from, a, cal), b, cal).getTime(),
        );
      }),
      runs,
    );
  });

  it('is monotonic in the duration', () => {
    fc.assert(
      fc.property(calendar, start, duration, duration, (cal, from, a, b) => {
        const [short, long] = a <= b ? [a, b] : [b, a];
        expect(addBusinessTime(from, short, cal).getTime()).toBeLessThanOrEqual(
          addBusinessTime(from, long, cal).getTime(),
        );
      }),
      runs,
    );
  });

  it('counts back exactly the open time it added', () => {
    fc.assert(
      fc.property(calendar, start, duration, (cal, from, ms) => {
        expect(businessTimeBetween(from, addBusinessTime(from, ms, cal), cal)).toBe(ms);
      }),
      runs,
    );
  });
});
