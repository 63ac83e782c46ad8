import type { FieldProblem } from '../../lib/errors.js';

/**
 * The combinations of the classification (DOMAIN §2) that make sense, pure: an upstream complaint
 * names the upstream party it was forwarded to, and only an upstream complaint names one. The
 * liability finding is checked by its own schema (a reason exactly when not liable).
 */
export function classificationProblems(
  state: { responsibility?: string | null | undefined; upstreamParty?: string | null | undefined },
  prefix = 'body',
): FieldProblem[] {
  if (state.responsibility === 'upstream' && !state.upstreamParty) {
    return [{ field: `${prefix}.upstreamParty`, message: "is required when responsibility is 'upstream'" }];
  }
  if (state.responsibility !== 'upstream' && state.upstreamParty) {
    return [{ field: `${prefix}.upstreamParty`, message: "is only for responsibility 'upstream'" }];
  }
  return [];
}
