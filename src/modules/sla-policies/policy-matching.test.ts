import { describe, expect, it } from 'vitest';
import { type MatchablePolicy, policyMatches, selectPolicy } from './policy-matching.js';

const policy = (
  id: string,
  priority: number,
  match: Partial<MatchablePolicy['match']>,
  extra: Partial<MatchablePolicy> = {},
) => ({
  id,
  priority,
  match: { channels: [], categories: [], severities: [], ...match },
  active: true,
  isDefault: false,
  createdAt: new Date('2026-01-01T00:00:00Z'),
  ...extra,
});

const webBilling = { channel: 'web', category: 'billing', severity: 'general' };

describe('policy matching', () => {
  it('matches on every non-empty list', () => {
    expect(policyMatches(policy('a', 1, {}).match, webBilling)).toBe(true);
    expect(policyMatches(policy('a', 1, { channels: ['web', 'app'] }).match, webBilling)).toBe(true);
    expect(policyMatches(policy('a', 1, { channels: ['phone'] }).match, webBilling)).toBe(false);
    expect(
      policyMatches(policy('a', 1, { categories: ['billing'], severities: ['major'] }).match, webBilling),
    ).toBe(false);
    expect(
      policyMatches(policy('a', 1, { categories: ['billing'] }).match, { ...webBilling, category: null }),
    ).toBe(false);
  });

  it('picks the lowest priority, then the oldest, and the default only when nothing else matches', () => {
    const fallback = policy('default', 0, {}, { isDefault: true });
    const broad = policy('broad', 50, {});
    const narrow = policy('narrow', 10, { categories: ['billing'] });
    const newerTie = policy(
      'newer',
      10,
      { channels: ['web'] },
      { createdAt: new Date('2026-06-01T00:00:00Z') },
    );
    const inactive = policy('off', 1, {}, { active: false });
    expect(selectPolicy([fallback, broad, narrow, newerTie, inactive], webBilling)?.id).toBe('narrow');
    expect(selectPolicy([fallback, broad], { ...webBilling, category: 'other' })?.id).toBe('broad');
    expect(selectPolicy([fallback, inactive], webBilling)?.id).toBe('default');
    expect(selectPolicy([], webBilling)).toBeUndefined();
  });
});
