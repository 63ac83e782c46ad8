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

/**
 * RFC 9110 §13.1.2 If-None-Match evaluation with weak comparison: true when the header names the
 * current representation (`*`, or a listed tag equal to the current one, `W/` aside), so a GET
 * answers 304 Not Modified.
 */
export function ifNoneMatchMatches(header: string, currentEtag: string): boolean {
  const trimmed = header.trim();
  if (trimmed === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const current = opaque(currentEtag);
  return trimmed.split(',').some((tag) => opaque(tag) === current);
}
