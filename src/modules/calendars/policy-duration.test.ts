import { describe, expect, it } from 'vitest';
import { type BusinessCalendar, NoOpenTimeError } from './business-time.js';
import { addPolicyDuration } from './policy-duration.js';

const officeHours: BusinessCalendar = {
  timeZone: 'Asia/Shanghai',
  weeklyHours: Object.fromEntries(
    ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => [
      day,
      [{ start: '09:00', end: '18:00' }],
    ]),
  ),
  holidays: ['2026-10-01'],
  extraWorkingDays: [{ date: '2026-09-27', intervals: [{ start: '09:00', end: '13:00' }] }],
};

/** Tokyo Friday-night desk, 18:00 to midnight. */
const fridayNights: BusinessCalendar = {
  timeZone: 'Asia/Tokyo',
  weeklyHours: { friday: [{ start: '18:00', end: '24:00' }] },
  holidays: [],
  extraWorkingDays: [],
};

const at = (iso: string) => new Date(iso).toISOString();

describe('addPolicyDuration', () => {
  it.each([
    // Calendar clocks: a day is 24 hours, whatever the weekday.
    ['P1D on the calendar clock', null, '2026-09-25T17:00:00+08:00', 'P1D', '2026-09-26T17:00:00+08:00'],
    ['PT4H on the calendar clock', null, '2026-09-25T23:00:00+08:00', 'PT4H', '2026-09-26T03:00:00+08:00'],
    // Business days keep the position within the working day: Monday 11:00 + 5 days → next Monday 11:00.
    ['P5D business', officeHours, '2026-09-14T11:00:00+08:00', 'P5D', '2026-09-21T11:00:00+08:00'],
    // Wednesday 30 Sep 10:00 + 1 day: Thursday 1 Oct is a holiday → Friday 2 Oct 10:00.
    [
      'P1D business over a holiday',
      officeHours,
      '2026-09-30T10:00:00+08:00',
      'P1D',
      '2026-10-02T10:00:00+08:00',
    ],
    // Friday 16:00 (7 h into the day) + 1 day: Sunday 27 Sep is a short extra working day (4 h),
    // so the position is clamped to its end, 13:00.
    [
      'P1D business onto a short day',
      officeHours,
      '2026-09-25T16:00:00+08:00',
      'P1D',
      '2026-09-27T13:00:00+08:00',
    ],
    // From a closed time the count starts at the next opening: Saturday → Sunday 27 Sep 09:00, + 1 day → Monday 09:00.
    [
      'P1D business from a closed day',
      officeHours,
      '2026-09-26T20:00:00+08:00',
      'P1D',
      '2026-09-28T09:00:00+08:00',
    ],
    // Saturday 00:00 is the end of Friday's shift, 6 h into that working day: + 1 day → the end of
    // next Friday's shift, not a week later and not at its start.
    [
      'P1D business from a shift that closes at midnight',
      fridayNights,
      '2026-01-17T00:00:00+09:00',
      'P1D',
      '2026-01-24T00:00:00+09:00',
    ],
    // Days then hours: Monday 17:00 + 1 day → Tuesday 17:00, + 2 h → Wednesday 10:00.
    ['P1DT2H business', officeHours, '2026-09-21T17:00:00+08:00', 'P1DT2H', '2026-09-23T10:00:00+08:00'],
  ])('%s', (_label, calendar, start, duration, expected) => {
    expect(addPolicyDuration(new Date(start), duration, calendar).toISOString()).toBe(at(expected));
  });

  it('refuses, as a calendar never open again, business days a calendar runs out of', () => {
    const oneDay: BusinessCalendar = {
      timeZone: 'UTC',
      weeklyHours: {},
      holidays: [],
      extraWorkingDays: [{ date: '2026-12-20', intervals: [{ start: '09:00', end: '17:00' }] }],
    };
    expect(() => addPolicyDuration(new Date('2026-12-01T00:00:00Z'), 'P2D', oneDay)).toThrow(NoOpenTimeError);
  });
});
