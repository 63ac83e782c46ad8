import { DateTime, Duration } from 'luxon';
import type { acceptanceRejectionCode, complainantRelation } from '../../db/schema/index.js';

export type AcceptanceRejectionCode = (typeof acceptanceRejectionCode.enumValues)[number];
export type ComplainantRelation = (typeof complainantRelation.enumValues)[number];

/** Why a complaint is declined at intake, in words the customer can be told. */
export interface AcceptanceRejection {
  code: AcceptanceRejectionCode;
  detail: string;
}

/**
 * Complainants who speak for someone else and must show that person's authority
 * (`complainantAuthorised`): a representative (代投诉, a proxy complaint) and anyone else who is not
 * a stakeholder (DOMAIN §1, seed 000).
 */
export const RELATIONS_NEEDING_AUTHORITY: readonly ComplainantRelation[] = ['representative', 'other'];

/**
 * The acceptance checks of intake (DOMAIN §1, 受理时限 and 核实身份), pure: a complainant who
 * speaks for someone else without their authority is declined, and so is an event older than its
 * category's acceptance window at receipt. Null when the complaint is accepted.
 *
 * Windows run on calendar dates in the tenant's time zone, as its customers count them: an event
 * on 15 January with a P5M window may be raised until 15 June inclusive, whatever the hour. A
 * complaint without `occurredAt`, or in a category with no window, is never outside one.
 */
export function acceptanceDecision(input: {
  category: string | null;
  occurredAt: Date | null;
  receivedAt: Date;
  complainantRelation: ComplainantRelation;
  complainantAuthorised: boolean;
  acceptanceWindows: Record<string, string>;
  /** The tenant's time zone (workflow settings), which decides on what date things happened. */
  timeZone: string;
}): AcceptanceRejection | null {
  if (RELATIONS_NEEDING_AUTHORITY.includes(input.complainantRelation) && !input.complainantAuthorised) {
    return input.complainantRelation === 'representative'
      ? {
          code: 'representative_not_authorised',
          detail:
            'The complaint is made for the affected party by a representative (a proxy complaint), ' +
            'who has shown no authority to complain for them.',
        }
      : {
          code: 'not_a_stakeholder',
          detail:
            'The complainant is neither the affected party nor an immediate family member, ' +
            'and holds no authority to complain for them.',
        };
  }
  const { category, occurredAt } = input;
  // hasOwn: a category named 'constructor' must not find Object.prototype's.
  if (!category || !occurredAt || !Object.hasOwn(input.acceptanceWindows, category)) return null;
  const window = input.acceptanceWindows[category]!;
  const occurredOn = DateTime.fromJSDate(occurredAt, { zone: input.timeZone }).startOf('day');
  const lastDay = occurredOn.plus(Duration.fromISO(window));
  const receivedOn = DateTime.fromJSDate(input.receivedAt, { zone: input.timeZone }).startOf('day');
  // A window reaching past the dates Luxon can represent (saved before windows were capped) has
  // no end that matters.
  if (!lastDay.isValid || receivedOn <= lastDay) return null;
  return {
    code: 'outside_acceptance_window',
    detail:
      `The event on ${occurredOn.toISODate()} is outside the ${window} acceptance window for '${category}' ` +
      `complaints: it could be raised until ${lastDay.toISODate()}, and was received on ${receivedOn.toISODate()}.`,
  };
}
