import { describe, expect, it } from 'vitest';
import { claimAt, displayName, scopesFromClaims } from './claim-scopes.js';

const map = {
  'redress.agent': ['complaints:read', 'complaints:write'],
  'redress.admin': ['admin'],
  legacy: ['root', 'complaints:read'],
};

describe('scopesFromClaims', () => {
  it.each([
    [
      'a space-separated scope string',
      { scope: 'openid redress.agent' },
      'scope',
      ['complaints:read', 'complaints:write'],
    ],
    ['an array of roles', { roles: ['redress.admin', 'other'] }, 'roles', ['admin']],
    [
      'a nested claim',
      { realm_access: { roles: ['redress.agent'] } },
      'realm_access.roles',
      ['complaints:read', 'complaints:write'],
    ],
    ['values the map does not name', { scope: 'openid profile' }, 'scope', []],
    ['a missing claim', {}, 'groups', []],
    ['a claim of another type', { scope: 42 }, 'scope', []],
    ['a mapped scope Redress does not know', { roles: ['legacy'] }, 'roles', ['complaints:read']],
    ['names of Object.prototype', { roles: ['constructor', 'toString'] }, 'roles', []],
  ])('maps %s', (_name, claims, claim, expected) => {
    expect(scopesFromClaims(claims, claim, map).sort()).toEqual([...expected].sort());
  });
});

describe('claimAt and displayName', () => {
  it('walks objects only', () => {
    expect(claimAt({ a: { b: 'x' } }, 'a.b')).toBe('x');
    expect(claimAt({ a: ['x'] }, 'a.0')).toBeUndefined();
  });
  it('falls back to the subject and cuts long names', () => {
    expect(displayName({ name: ' Ana Agent ' }, 'name', 'sub-1')).toBe('Ana Agent');
    expect(displayName({ name: '' }, 'name', 'sub-1')).toBe('sub-1');
    expect(displayName({ name: 'x'.repeat(500) }, 'name', 'sub-1')).toHaveLength(200);
  });
});
