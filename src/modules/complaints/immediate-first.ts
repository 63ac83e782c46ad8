import type { complaintNeedType } from '../../db/schema/index.js';
import type { Run } from '../../lib/two-run-pages.js';

/** What a customer needs first (DOMAIN §2, 需求分类). */
export type NeedType = (typeof complaintNeedType.enumValues)[number];

/**
 * The need-type narrowing of each run of a list with immediate needs first (seed 004; see
 * two-run-pages.ts): the first run holds complaints needing an immediate fix, the rest every other
 * one, unclassified included. Null when the run can hold nothing: a need-type filter that leaves
 * out immediate needs has nothing to put first.
 */
export function needTypesOfRun(
  run: Run,
  needTypes: readonly NeedType[] | undefined,
): { needTypes: NeedType[] } | { needTypeOtherThan: NeedType } | null {
  if (run === 'rest') return { needTypeOtherThan: 'immediate' };
  return !needTypes?.length || needTypes.includes('immediate') ? { needTypes: ['immediate'] } : null;
}
