import { describe, expect, it } from 'vitest';
import { dayBounds, daysBetween, localToday, periodBounds } from './report-periods.js';

describe('report periods', () => {
  it('spans a local day in the tenant time zone', () => {
    expect(dayBounds('2026-11-25', 'Asia/Shanghai')).toEqual({
      start: new Date('2026-11-24T16:00:00Z'),
      end: new Date('2026-11-25T16:00:00Z'),
    });
    expect(dayBounds('2026-11-25', 'UTC').start).toEqual(new Date('2026-11-25T00:00:00Z'));
  });

  it('keeps days of 23 and 25 hours where clocks change', () => {
    const spring = dayBounds('2026-03-29', 'Europe/London');
    expect(spring.end.getTime() - spring.start.getTime()).toBe(23 * 3_600_000);
    const autumn = dayBounds('2026-10-25', 'Europe/London');
    expect(autumn.end.getTime() - autumn.start.getTime()).toBe(25 * 3_600_000);
  });

  it('counts periods inclusively and knows the local date', () => {
    expect(periodBounds('2026-11-01', '2026-11-30', 'UTC')).toEqual({
      start: new Date('2026-11-01T00:00:00Z'),
      end: new Date('2026-12-01T00:00:00Z'),
    });
    expect(daysBetween('2026-11-01', '2026-11-30')).toBe(30);
    expect(daysBetween('2026-11-01', '2026-11-01')).toBe(1);
    expect(localToday(new Date('2026-11-24T17:00:00Z'), 'Asia/Shanghai')).toBe('2026-11-25');
    expect(localToday(new Date('2026-11-24T17:00:00Z'), 'UTC')).toBe('2026-11-24');
  });
});
