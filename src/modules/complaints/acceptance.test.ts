import { describe, expect, it } from 'vitest';
import { acceptanceDecision } from './acceptance.js';

const windows = { billing: 'P5M', contract: 'P2Y' };
const base = {
  category: 'billing',
  complainantRelation: 'self' as const,
  complainantAuthorised: false,
  acceptanceWindows: windows,
  timeZone: 'UTC',
};
const at = (iso: string) => new Date(iso);

describe('acceptance windows', () => {
  it.each([
    // The last day of the window is still inside it, whatever the hour.
    ['2025-01-15T00:00:00Z', '2025-06-15T23:59:59Z', null],
    ['2025-01-15T23:59:59Z', '2025-06-16T00:00:00Z', 'outside_acceptance_window'],
    // Month ends clamp: 31 August + 5 months is 31 January, 30 September + 5 months is 28 February.
    ['2024-08-31T12:00:00Z', '2025-01-31T12:00:00Z', null],
    ['2024-09-30T12:00:00Z', '2025-02-28T12:00:00Z', null],
    ['2024-09-30T12:00:00Z', '2025-03-01T00:00:00Z', 'outside_acceptance_window'],
  ])('billing event %s received %s → %s', (occurred, received, expected) => {
    const decision = acceptanceDecision({ ...base, occurredAt: at(occurred), receivedAt: at(received) });
    expect(decision?.code ?? null).toBe(expected);
  });

  it('compares dates in the tenant time zone, as its customers count them', () => {
    // 2025-01-15T01:00+08:00 is 15 January in Shanghai (14 January in UTC): the window ends on 15 June.
    const shanghai = { ...base, timeZone: 'Asia/Shanghai' };
    const onLastDay = acceptanceDecision({
      ...shanghai,
      occurredAt: at('2025-01-15T01:00:00+08:00'),
      receivedAt: at('2025-06-15T23:00:00+08:00'),
    });
    expect(onLastDay).toBeNull();
    const dayAfter = acceptanceDecision({
      ...shanghai,
      occurredAt: at('2025-01-15T01:00:00+08:00'),
      receivedAt: at('2025-06-16T00:30:00+08:00'),
    });
    expect(dayAfter).toEqual({
      code: 'outside_acceptance_window',
      detail:
        "The event on 2025-01-15 is outside the P5M acceptance window for 'billing' complaints: it could be " +
        'raised until 2025-06-15, and was received on 2025-06-16.',
    });
  });

  it('accepts within a window saved too long for any date to end it', () => {
    const decision = acceptanceDecision({
      ...base,
      acceptanceWindows: { billing: 'P999999999Y' },
      occurredAt: at('2026-12-01T00:00:00Z'),
      receivedAt: at('2026-12-02T00:00:00Z'),
    });
    expect(decision).toBeNull();
  });

  it('uses the window of the complaint category only', () => {
    const old = { occurredAt: at('2020-01-01T00:00:00Z'), receivedAt: at('2025-01-01T00:00:00Z') };
    expect(acceptanceDecision({ ...base, ...old, category: 'contract' })?.code).toBe(
      'outside_acceptance_window',
    );
    expect(acceptanceDecision({ ...base, ...old, category: 'facilities' })).toBeNull();
    expect(acceptanceDecision({ ...base, ...old, category: null })).toBeNull();
    // Prototype members are not windows.
    expect(acceptanceDecision({ ...base, ...old, category: 'constructor' })).toBeNull();
    expect(acceptanceDecision({ ...base, occurredAt: null, receivedAt: old.receivedAt })).toBeNull();
  });
});

describe('stakeholders', () => {
  const now = { occurredAt: null, receivedAt: at('2025-01-01T00:00:00Z') };
  it.each([
    ['self', false, null],
    ['immediate_family', false, null],
    ['representative', false, 'representative_not_authorised'],
    ['representative', true, null],
    ['other', true, null],
    ['other', false, 'not_a_stakeholder'],
  ] as const)('%s (authorised %s) → %s', (relation, authorised, expected) => {
    const decision = acceptanceDecision({
      ...base,
      ...now,
      complainantRelation: relation,
      complainantAuthorised: authorised,
    });
    expect(decision?.code ?? null).toBe(expected);
  });

  it('names the stakeholder check first when both fail', () => {
    const decision = acceptanceDecision({
      ...base,
      complainantRelation: 'other',
      occurredAt: at('2000-01-01T00:00:00Z'),
      receivedAt: at('2025-01-01T00:00:00Z'),
    });
    expect(decision?.code).toBe('not_a_stakeholder');
  });
});
