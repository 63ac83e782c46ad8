import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  customerIdentityKey,
  MAJOR_FLAG_NAMES,
  MAJOR_FLAGS,
  MAJOR_REASONS,
  mergeReasons,
  ownMajorReasons,
  reasonsOfNewFlags,
} from './major-rules.js';

describe('own major reasons', () => {
  const none = {
    severity: 'general' as const,
    category: 'billing',
    mediaExposure: false,
    regulatorInvolved: false,
    premisesBlocked: false,
    highValueReturn: false,
    negativeMediaCoverage: false,
    safetyCategories: ['fire', 'flooding'],
  };

  it('finds none for an ordinary complaint', () => {
    expect(ownMajorReasons(none)).toEqual([]);
    expect(ownMajorReasons({ ...none, category: null })).toEqual([]);
    // Categories are codes, compared exactly.
    expect(ownMajorReasons({ ...none, category: 'Fire' })).toEqual([]);
  });

  it('names every rule that fires', () => {
    expect(
      ownMajorReasons({
        ...none,
        severity: 'major',
        category: 'fire',
        mediaExposure: true,
        regulatorInvolved: true,
        premisesBlocked: true,
        highValueReturn: true,
        negativeMediaCoverage: true,
      }),
    ).toEqual([
      'manual',
      'safety_category',
      'media_exposure',
      'regulator_involved',
      'premises_blocked',
      'high_value_return',
      'negative_media_coverage',
    ]);
    expect(ownMajorReasons({ ...none, category: 'flooding' })).toEqual(['safety_category']);
  });

  it.each(MAJOR_FLAG_NAMES)('makes a complaint major for %s alone, at intake and by an edit', (flag) => {
    expect(ownMajorReasons({ ...none, [flag]: true })).toEqual([MAJOR_FLAGS[flag]]);
    expect(reasonsOfNewFlags(none, { [flag]: true })).toEqual([MAJOR_FLAGS[flag]]);
    // A flag it had already, or one cleared, gives no new reason.
    expect(reasonsOfNewFlags({ ...none, [flag]: true }, { [flag]: true })).toEqual([]);
    expect(reasonsOfNewFlags({ ...none, [flag]: true }, { [flag]: false })).toEqual([]);
  });
});

describe('mergeReasons', () => {
  it('keeps each reason once, in catalogue order, whatever the input order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...MAJOR_REASONS)),
        fc.array(fc.constantFrom(...MAJOR_REASONS)),
        (a, b) => {
          const merged = mergeReasons(a, b);
          expect(new Set(merged).size).toBe(merged.length);
          expect(new Set(merged)).toEqual(new Set([...a, ...b]));
          expect(merged).toEqual(MAJOR_REASONS.filter((reason) => merged.includes(reason)));
          expect(mergeReasons(b, a)).toEqual(merged);
        },
      ),
    );
  });
});

describe('customerIdentityKey', () => {
  it('prefers the external id, then the phone digits, then the email', () => {
    expect(customerIdentityKey({ externalId: 'crm-1', phone: '123', email: 'a@b.c' })).toBe('ext:crm-1');
    expect(customerIdentityKey({ phone: '+86 138-0013 (8000)', email: 'a@b.c' })).toBe('tel:+8613800138000');
    expect(customerIdentityKey({ phone: '138 0013 8000' })).toBe('tel:13800138000');
    expect(customerIdentityKey({ email: 'Wang.Fang@Example.com' })).toBe('email:wang.fang@example.com');
    expect(customerIdentityKey({ phone: '(+)', email: 'a@b.c' })).toBe('email:a@b.c');
    expect(customerIdentityKey({})).toBeNull();
    expect(customerIdentityKey({ externalId: null, phone: null, email: null })).toBeNull();
  });

  it('ignores how a phone number is written', () => {
    expect(customerIdentityKey({ phone: '+86 138 0013 8000' })).toBe(
      customerIdentityKey({ phone: '+86-138-0013-8000' }),
    );
  });
});
