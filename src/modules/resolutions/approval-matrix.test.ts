import { describe, expect, it } from 'vitest';
import { DEFAULT_WORKFLOW_SETTINGS } from '../settings/settings.schemas.js';
import {
  ceilingOf,
  limitOf,
  minorDigits,
  roleCovers,
  someRoleCovers,
  statusAfterApprovals,
} from './approval-matrix.js';

const { approvalLimits: limits, roles } = DEFAULT_WORKFLOW_SETTINGS;
const cny = (amount: number) => ({ amount, currency: 'CNY' });

describe('approval matrix', () => {
  it('reads each role’s limit per currency; no entry grants nothing, null has no limit', () => {
    expect(limitOf(limits, 'handler', 'CNY')).toBe(500);
    expect(limitOf(limits, 'general_manager', 'CNY')).toBe(200_000);
    expect(limitOf(limits, 'handler', 'USD')).toBe(0);
    const unlimited = [...limits, { role: 'board', currency: 'CNY', maxAmount: null }];
    expect(limitOf(unlimited, 'board', 'CNY')).toBeNull();
  });

  it('has a ceiling by default: the most any role may grant, beyond which nobody may (no buying off)', () => {
    expect(ceilingOf(limits, roles, 'CNY')).toBe(200_000);
    expect(someRoleCovers(limits, roles, cny(200_000))).toBe(true);
    expect(someRoleCovers(limits, roles, cny(200_000.01))).toBe(false);
    expect(ceilingOf(limits, roles, 'USD')).toBe(0);
    // Only a null limit takes the ceiling away, and in its own currency alone.
    const unlimited = [...limits, { role: 'general_manager', currency: 'USD', maxAmount: null }];
    expect(ceilingOf(unlimited, roles, 'USD')).toBeNull();
    expect(ceilingOf(unlimited, roles, 'CNY')).toBe(200_000);
  });

  it.each([
    ['handler', 500, true],
    ['handler', 500.01, false],
    ['team_lead', 5_000, true],
    ['team_lead', 5_001, false],
    ['department_manager', 50_000, true],
    ['general_manager', 200_000, true],
    ['general_manager', 200_001, false],
  ])('%s covers CNY %d: %s', (role, amount, expected) => {
    expect(roleCovers(limits, role, cny(amount))).toBe(expected);
  });

  it('needs nobody for options without money, and refuses amounts no role covers', () => {
    expect(roleCovers(limits, 'handler', { amount: null, currency: null })).toBe(true);
    expect(roleCovers(limits, 'handler', { amount: 0, currency: 'USD' })).toBe(true);
    expect(roleCovers(limits, 'handler', { amount: 1, currency: 'USD' })).toBe(false);
    expect(someRoleCovers(limits, roles, { amount: 1, currency: 'USD' })).toBe(false);
    const capped = limits.map((limit) => ({
      ...limit,
      maxAmount: Math.min(limit.maxAmount ?? 100_000, 100_000),
    }));
    expect(someRoleCovers(capped, roles, cny(100_000))).toBe(true);
    expect(someRoleCovers(capped, roles, cny(100_001))).toBe(false);
  });

  it('derives the proposal status from its options', () => {
    expect(statusAfterApprovals(['not_required', 'pending'])).toBe('awaiting_approval');
    expect(statusAfterApprovals(['approved', 'rejected'])).toBe('proposed');
    expect(statusAfterApprovals(['not_required'])).toBe('proposed');
    expect(statusAfterApprovals(['rejected', 'rejected'])).toBe('rejected');
  });

  it('knows the minor unit of ISO 4217 currencies', () => {
    expect(minorDigits('CNY')).toBe(2);
    expect(minorDigits('JPY')).toBe(0);
    expect(minorDigits('KWD')).toBe(3);
    expect(minorDigits('XYZ')).toBeNull();
  });
});
