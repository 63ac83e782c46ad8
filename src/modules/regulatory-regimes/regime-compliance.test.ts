import { describe, expect, it } from 'vitest';
import type { BusinessCalendar } from '../calendars/business-time.js';
import { type GovernedComplaint, regimeCompliance } from './regime-compliance.js';
import { REGIMES } from './regimes.js';

const weekdays = (zone: string, holidays: string[]): BusinessCalendar => ({
  timeZone: zone,
  weeklyHours: Object.fromEntries(
    ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => [
      day,
      [{ start: '09:00', end: '17:00' }],
    ]),
  ),
  holidays,
  extraWorkingDays: [],
});
const frankfurt = weekdays('Europe/Berlin', [
  '2026-04-03',
  '2026-04-06',
  '2026-05-01',
  '2026-05-14',
  '2026-05-25',
]);
const london = weekdays('Europe/London', ['2026-12-25', '2026-12-28', '2027-01-01']);

const complaint = (
  receivedAt: string,
  closed: boolean,
  deadlines: GovernedComplaint['deadlines'],
  calendarId = 'cal',
): GovernedComplaint => ({
  complaintId: receivedAt + deadlines.length,
  receivedAt: new Date(receivedAt),
  closed,
  calendarId,
  deadlines,
});
const resolution = (metAt: string | null, extra: { breached?: boolean; extensions?: number } = {}) => ({
  kind: 'resolution' as const,
  metAt: metAt ? new Date(metAt) : null,
  breached: extra.breached ?? false,
  extensions: extra.extensions ?? 0,
});

describe('regimeCompliance', () => {
  it('counts PSD2 complaints answered within 15 business days, extensions and breaches', () => {
    // Received Wed 25 Mar 2026 10:00 CET: 15 business days (Easter skipped) end Fri 17 Apr 10:00 CEST.
    const received = '2026-03-25T09:00:00Z';
    const counts = regimeCompliance(
      REGIMES.eu_psd2,
      [
        complaint(received, true, [
          resolution('2026-04-16T08:00:00Z'),
          // The tenant's own online-reply target on the same policy: not a regime breach.
          { kind: 'online_reply', metAt: null, breached: true, extensions: 0 },
        ]),
        // Extended to 35 business days and answered then: decided, not within the 15.
        complaint(received, true, [resolution('2026-05-01T08:00:00Z', { extensions: 1 })]),
        // Never answered, breached.
        complaint(received, false, [resolution(null, { breached: true })]),
        // Received on 28 May: its 15 business days run past the report's `now`, so undecided.
        complaint('2026-05-28T09:00:00Z', false, [resolution(null)]),
      ],
      new Map([['cal', frankfurt]]),
      new Date('2026-06-01T00:00:00Z'),
    );
    expect(counts).toMatchObject({
      received: 4,
      closed: 2,
      extensionsUsed: 1,
      extendedComplaints: 1,
      breaches: 1,
    });
    expect(counts.clocks).toEqual([
      expect.objectContaining({ id: 'final_response', decided: 3, within: 1, withinPercent: 33.3 }),
    ]);
  });

  it('reads the FCA three-business-day window off the final response, across Christmas', () => {
    // Thu 24 Dec 15:00: the window ends Thu 31 Dec 15:00 (25, 28 Dec holidays; the weekend).
    const counts = regimeCompliance(
      REGIMES.uk_fca_disp,
      [
        complaint('2026-12-24T15:00:00Z', true, [resolution('2026-12-31T14:00:00Z')]),
        complaint('2026-12-24T15:00:00Z', true, [resolution('2027-01-04T10:00:00Z')]),
      ],
      new Map([['cal', london]]),
      new Date('2027-03-01T00:00:00Z'),
    );
    expect(counts.clocks).toEqual([
      expect.objectContaining({
        id: 'summary_resolution',
        kind: null,
        decided: 2,
        within: 1,
        withinPercent: 50,
      }),
      expect.objectContaining({ id: 'final_response', decided: 2, within: 2, withinPercent: 100 }),
    ]);
  });

  it('gives null shares when nothing is decided', () => {
    const counts = regimeCompliance(REGIMES.cn_cbirc_2020, [], new Map(), new Date());
    expect(counts).toMatchObject({ received: 0, closed: 0, breaches: 0 });
    expect(counts.clocks[0]).toMatchObject({ decided: 0, within: 0, withinPercent: null });
  });
});
