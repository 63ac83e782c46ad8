/** The strong ETag of a versioned resource. */
export const etagForVersion = (version: number): string => `"${version}"`;

/**
 * RFC 9110 §13.1.1 If-Match evaluation with strong comparison: `*` matches any current
 * representation; otherwise one of the listed entity tags must equal the current one.
 * Weak tags (W/"…") never match a strong comparison.
 */
export function ifMatchSatisfied(header: string, currentEtag: string): boolean {
  const trimmed = header.trim();
  if (trimmed === '*') return true;
  return trimmed
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === currentEtag);
}
