import { describe, expect, it } from 'vitest';
import type { BusinessCalendar, TimeInterval } from '../calendars/business-time.js';
import { addPolicyDuration } from '../calendars/policy-duration.js';
import { clockDueAt, REGIME_IDS, REGIMES, type RegimeId, regimeDueDates, roleMayApprove } from './regimes.js';

const weekdays = (
  zone: string,
  hours: TimeInterval[],
  holidays: string[],
  extra: string[] = [],
): BusinessCalendar => ({
  timeZone: zone,
  weeklyHours: Object.fromEntries(
    ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => [day, hours]),
  ),
  holidays,
  extraWorkingDays: extra.map((date) => ({ date })),
});
const nineToFive = [{ start: '09:00', end: '17:00' }];

/** England and Wales bank holidays 2026 (gov.uk): Boxing Day falls on a Saturday, so 28 Dec. */
const london = weekdays('Europe/London', nineToFive, [
  '2026-01-01',
  '2026-04-03',
  '2026-04-06',
  '2026-05-04',
  '2026-05-25',
  '2026-08-31',
  '2026-12-25',
  '2026-12-28',
]);
/** A Frankfurt office: Good Friday, Easter Monday, Labour Day, Ascension, Whit Monday 2026. */
const frankfurt = weekdays('Europe/Berlin', nineToFive, [
  '2026-04-03',
  '2026-04-06',
  '2026-05-01',
  '2026-05-14',
  '2026-05-25',
]);
/** A New York office: Independence Day 2026 (a Saturday) is observed on Friday 3 July. */
const newYork = weekdays('America/New_York', nineToFive, ['2026-07-03', '2026-09-07']);
/** A Sydney office: Australia Day 2026 is Monday 26 January. */
const sydney = weekdays('Australia/Sydney', nineToFive, ['2026-01-26']);
/**
 * A Shanghai office on the 2025 National Day schedule as the test builds it: closed 1–8 October
 * (Wednesday to Wednesday), with make-up working days (调休) on Sunday 28 September and Saturday
 * 11 October. The test stands on this calendar, not on the official notice.
 */
const shanghai = weekdays(
  'Asia/Shanghai',
  nineToFive,
  [
    '2025-10-01',
    '2025-10-02',
    '2025-10-03',
    '2025-10-04',
    '2025-10-05',
    '2025-10-06',
    '2025-10-07',
    '2025-10-08',
  ],
  ['2025-09-28', '2025-10-11'],
);

const dueOf = (regime: RegimeId, clockId: string, receivedAt: string, calendar: BusinessCalendar | null) => {
  const due = regimeDueDates(REGIMES[regime], new Date(receivedAt), calendar).find(
    (d) => d.clockId === clockId,
  );
  if (!due) throw new Error(`no clock ${clockId} in ${regime}`);
  return due.dueAt.toISOString();
};

const extendedDue = (
  regime: RegimeId,
  step: number,
  receivedAt: string,
  calendar: BusinessCalendar | null,
) => {
  const spec = REGIMES[regime].extensions[step];
  if (!spec) throw new Error(`no extension ${step} in ${regime}`);
  return clockDueAt(spec, new Date(receivedAt), calendar).toISOString();
};

describe('regime clocks, hand-worked', () => {
  it.each([
    // FCA: 8 weeks of calendar days, whatever the bank holidays (Wed 25 Mar 10:00 GMT → Wed 20 May).
    [
      'FCA final response P8W',
      'uk_fca_disp',
      'final_response',
      '2026-03-25T10:00:00Z',
      london,
      '2026-05-20T10:00:00.000Z',
    ],
    // FCA summary resolution: Thu 24 Dec 15:00 + 3 business days skips Christmas, the weekend and
    // the substitute Boxing Day (Mon 28) → Tue 29 (1), Wed 30 (2), Thu 31 Dec (3) at 15:00.
    [
      'FCA summary resolution over Christmas',
      'uk_fca_disp',
      'summary_resolution',
      '2026-12-24T15:00:00Z',
      london,
      '2026-12-31T15:00:00.000Z',
    ],
    // FCA payments: Wed 25 Mar 10:00 GMT + 15 business days skipping Good Friday and Easter
    // Monday → Fri 17 Apr 10:00 BST (clocks changed on 29 Mar) = 09:00Z.
    [
      'FCA payments 15 business days over Easter',
      'uk_fca_disp_payments',
      'final_response',
      '2026-03-25T10:00:00Z',
      london,
      '2026-04-17T09:00:00.000Z',
    ],
    // PSD2 in Frankfurt: Wed 25 Mar 10:00 CET + 15 business days → Fri 17 Apr 10:00 CEST = 08:00Z.
    [
      'PSD2 15 business days over Easter',
      'eu_psd2',
      'final_response',
      '2026-03-25T09:00:00Z',
      frankfurt,
      '2026-04-17T08:00:00.000Z',
    ],
    // CFPB: Thu 2 Jul 14:00 EDT + 15 days → Fri 17 Jul; + 60 days → Mon 31 Aug.
    [
      'CFPB response P15D',
      'us_cfpb',
      'initial_response',
      '2026-07-02T18:00:00Z',
      newYork,
      '2026-07-17T18:00:00.000Z',
    ],
    [
      'CFPB final response P60D',
      'us_cfpb',
      'final_response',
      '2026-07-02T18:00:00Z',
      newYork,
      '2026-08-31T18:00:00.000Z',
    ],
    // Reg E: Thu 2 Jul 14:00 EDT + 10 business days, Fri 3 Jul observed → 6–10 Jul (5), 13–17 Jul (10).
    [
      'Reg E 10 business days over 3 July',
      'us_reg_e',
      'investigation',
      '2026-07-02T18:00:00Z',
      newYork,
      '2026-07-17T18:00:00.000Z',
    ],
    // ASIC: acknowledge within 24 hours; 30 (45 super) calendar days: 26 Jan → 25 Feb, 12 Mar.
    [
      'ASIC acknowledgement PT24H',
      'au_asic_rg271',
      'acknowledgement',
      '2026-01-26T23:00:00Z',
      sydney,
      '2026-01-27T23:00:00.000Z',
    ],
    [
      'ASIC final response P30D',
      'au_asic_rg271',
      'final_response',
      '2026-01-26T23:00:00Z',
      sydney,
      '2026-02-25T23:00:00.000Z',
    ],
    [
      'ASIC super final response P45D',
      'au_asic_rg271_super',
      'final_response',
      '2026-01-26T23:00:00Z',
      sydney,
      '2026-03-12T23:00:00.000Z',
    ],
    // ASIC 5-business-day window: Mon 19 Jan 10:00 AEDT → 20, 21, 22, 23, (Australia Day 26), 27 Jan.
    [
      'ASIC 5 business days over Australia Day',
      'au_asic_rg271',
      'written_response_exemption',
      '2026-01-18T23:00:00Z',
      sydney,
      '2026-01-26T23:00:00.000Z',
    ],
    // China: Tue 16 Sep 10:00 + 15 days is Wed 1 Oct, a holiday; the period ends on the first
    // working day after the break, Thu 9 Oct, at the same hour.
    [
      'CN 15 days ending in the National Day break',
      'cn_cbirc_2020',
      'decision',
      '2025-09-16T02:00:00Z',
      shanghai,
      '2025-10-09T02:00:00.000Z',
    ],
    // Sat 13 Sep + 15 days is Sun 28 Sep, a make-up working day: it stays.
    [
      'CN 15 days ending on a make-up Sunday',
      'cn_cbirc_2020',
      'decision',
      '2025-09-13T02:00:00Z',
      shanghai,
      '2025-09-28T02:00:00.000Z',
    ],
    // Sat 20 Sep 20:00 + 15 days is Sun 5 Oct 20:00, in the break → Thu 9 Oct 20:00.
    [
      'CN 15 days, evening receipt, rolled',
      'cn_cbirc_2020',
      'decision',
      '2025-09-20T12:00:00Z',
      shanghai,
      '2025-10-09T12:00:00.000Z',
    ],
    // Without a calendar nothing is closed, so nothing moves.
    [
      'CN 15 days without a calendar',
      'cn_cbirc_2020',
      'decision',
      '2025-09-16T02:00:00Z',
      null,
      '2025-10-01T02:00:00.000Z',
    ],
  ] as const)('%s', (_name, regime, clockId, receivedAt, calendar, expected) => {
    expect(dueOf(regime, clockId, receivedAt, calendar)).toBe(expected);
  });

  it.each([
    // FCA payments / PSD2 holding reply: 35 business days from receipt. London: May Day Monday
    // (4 May) is skipped → Mon 18 May 10:00 BST. Frankfurt: 1 May and Ascension (14 May) → Tue 19 May.
    [
      'FCA payments 35 business days',
      'uk_fca_disp_payments',
      0,
      '2026-03-25T10:00:00Z',
      london,
      '2026-05-18T09:00:00.000Z',
    ],
    ['PSD2 35 business days', 'eu_psd2', 0, '2026-03-25T09:00:00Z', frankfurt, '2026-05-19T08:00:00.000Z'],
    // Reg E: 45 calendar days with provisional credit (2 Jul → 16 Aug); 90 for POS/foreign/new accounts.
    ['Reg E 45 days', 'us_reg_e', 0, '2026-07-02T18:00:00Z', newYork, '2026-08-16T18:00:00.000Z'],
    ['Reg E 90 days', 'us_reg_e', 1, '2026-07-02T18:00:00Z', newYork, '2026-09-30T18:00:00.000Z'],
    // China complex: Thu 11 Sep + 30 days is Sat 11 Oct, a make-up working day: it stays.
    [
      'CN 30 days ending on a make-up Saturday',
      'cn_cbirc_2020',
      0,
      '2025-09-11T02:00:00Z',
      shanghai,
      '2025-10-11T02:00:00.000Z',
    ],
    // Fri 5 Sep + 30 days is Sun 5 Oct, in the break → Thu 9 Oct.
    [
      'CN 30 days ending in the break',
      'cn_cbirc_2020',
      0,
      '2025-09-05T02:00:00Z',
      shanghai,
      '2025-10-09T02:00:00.000Z',
    ],
    // Especially complex: Tue 12 Aug + 60 days is Sat 11 Oct (make-up day); Wed 13 Aug + 60 is
    // Sun 12 Oct, an ordinary Sunday → Mon 13 Oct.
    [
      'CN 60 days ending on a make-up Saturday',
      'cn_cbirc_2020',
      1,
      '2025-08-12T02:00:00Z',
      shanghai,
      '2025-10-11T02:00:00.000Z',
    ],
    [
      'CN 60 days ending on a Sunday',
      'cn_cbirc_2020',
      1,
      '2025-08-13T02:00:00Z',
      shanghai,
      '2025-10-13T02:00:00.000Z',
    ],
  ] as const)('extension: %s', (_name, regime, step, receivedAt, calendar, expected) => {
    expect(extendedDue(regime, step, receivedAt, calendar)).toBe(expected);
  });
});

describe('the catalogue', () => {
  it.each(REGIME_IDS)('%s cites a rule for every clock and extension', (id) => {
    const regime = REGIMES[id];
    expect(regime.id).toBe(id);
    expect(regime.citation.length).toBeGreaterThan(0);
    for (const clock of regime.clocks) expect(clock.citation.length).toBeGreaterThan(0);
    for (const step of regime.extensions) expect(step.citation.length).toBeGreaterThan(0);
    if (regime.holdingResponse) expect(regime.holdingResponse.citation.length).toBeGreaterThan(0);
    // Each clock kind appears once, so a template maps onto one target per deadline kind.
    const kinds = regime.clocks.flatMap((clock) => (clock.kind ? [clock.kind] : []));
    expect(new Set(kinds).size).toBe(kinds.length);
  });

  it.each(REGIME_IDS)('%s: every extension step gives more time than the one before', (id) => {
    const regime = REGIMES[id];
    const base = regime.clocks.find((clock) => clock.kind === regime.extends);
    expect(base).toBeDefined();
    const start = new Date('2026-03-02T09:00:00Z');
    let previous = clockDueAt(base!, start, london).getTime();
    for (const step of regime.extensions) {
      const next = clockDueAt(step, start, london).getTime();
      expect(next).toBeGreaterThan(previous);
      previous = next;
    }
  });

  it('computes business clocks exactly as SLA policies do, so a template policy agrees with it', () => {
    const at = new Date('2026-03-25T10:00:00Z');
    expect(clockDueAt({ duration: 'P15D', clock: 'business' }, at, london)).toEqual(
      addPolicyDuration(at, 'P15D', london),
    );
  });
});

describe('roleMayApprove', () => {
  const ladder = ['handler', 'team_lead', 'department_manager', 'general_manager'];
  it.each([
    ['team_lead', 'team_lead', true],
    ['team_lead', 'general_manager', true],
    ['team_lead', 'handler', false],
    ['general_manager', 'department_manager', false],
    ['general_manager', 'general_manager', true],
    ['team_lead', 'intern', false],
  ] as const)('needs %s, approver %s → %s', (required, role, expected) => {
    expect(roleMayApprove(ladder, required, role)).toBe(expected);
  });

  it('a required role the tenant lacks falls to the top of its ladder', () => {
    expect(roleMayApprove(['agent', 'supervisor', 'director'], 'general_manager', 'supervisor')).toBe(false);
    expect(roleMayApprove(['agent', 'supervisor', 'director'], 'general_manager', 'director')).toBe(true);
  });
});
