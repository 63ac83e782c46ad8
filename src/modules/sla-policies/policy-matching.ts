import type { StoredMatch } from '../../db/schema/index.js';

export interface MatchablePolicy {
  id: string;
  priority: number;
  match: StoredMatch;
  active: boolean;
  isDefault: boolean;
  createdAt: Date;
}

export interface ComplaintFacts {
  channel: string;
  category: string | null;
  severity: string;
}

/** True when every non-empty list in the match contains the complaint's value. */
export function policyMatches(match: StoredMatch, complaint: ComplaintFacts): boolean {
  if (match.channels.length > 0 && !match.channels.includes(complaint.channel)) return false;
  if (match.severities.length > 0 && !match.severities.includes(complaint.severity)) return false;
  if (
    match.categories.length > 0 &&
    (complaint.category === null || !match.categories.includes(complaint.category))
  ) {
    return false;
  }
  return true;
}

/**
 * The policy that governs a complaint: among active policies that match, the lowest priority
 * number wins; ties go to the older policy so adding a policy never silently reshuffles others.
 * The default policy matches everything and is the fallback when nothing else does.
 */
export function selectPolicy<P extends MatchablePolicy>(
  policies: readonly P[],
  complaint: ComplaintFacts,
): P | undefined {
  const candidates = policies
    .filter((policy) => policy.active && policyMatches(policy.match, complaint))
    .sort(
      (a, b) =>
        Number(a.isDefault) - Number(b.isDefault) ||
        a.priority - b.priority ||
        a.createdAt.getTime() - b.createdAt.getTime() ||
        a.id.localeCompare(b.id),
    );
  return candidates[0];
}
