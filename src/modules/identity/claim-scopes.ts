import { SCOPES, type Scope } from '../tenancy/scopes.js';

/** Longest display name or subject taken from a token; longer ones are cut (names) or refused (subjects). */
export const MAX_CLAIM_TEXT = 200;

/** The value at a dotted claim path (`realm_access.roles`), or undefined when the token has none. */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  let current: unknown = claims;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/**
 * The values of the scope claim: an OAuth `scope` string is space-separated (RFC 8693 §4.2),
 * `roles` and `groups` are arrays. Anything else grants nothing.
 */
export function claimValues(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

/** The Redress scopes a token's claims grant through the provider's map; unknown values grant nothing. */
export function scopesFromClaims(
  claims: Record<string, unknown>,
  scopeClaim: string,
  scopeMap: Readonly<Record<string, readonly string[]>>,
): Scope[] {
  const granted = new Set<Scope>();
  for (const value of claimValues(claimAt(claims, scopeClaim))) {
    if (!Object.hasOwn(scopeMap, value)) continue;
    for (const scope of scopeMap[value] ?? []) {
      if ((SCOPES as readonly string[]).includes(scope)) granted.add(scope as Scope);
    }
  }
  return [...granted];
}

/** The name the timeline shows for a person: the provider's name claim, else their subject. */
export function displayName(claims: Record<string, unknown>, nameClaim: string, subject: string): string {
  const value = claimAt(claims, nameClaim);
  const name = typeof value === 'string' ? value.trim() : '';
  return (name || subject).slice(0, MAX_CLAIM_TEXT);
}
