/**
 * When a resolved complaint gets no follow-up visit (DOMAIN §5), and who the customer is for
 * remembering that they declined visits. Pure: the caller supplies every fact.
 */

/** Why no follow-up visit is scheduled, as the timeline and the `follow_up.exempted` event say. */
export const FOLLOW_UP_EXEMPTIONS = [
  'settled_on_the_spot',
  'sensitive',
  'anonymous',
  'no_contact_details',
  'customer_declined',
] as const;
export type FollowUpExemption = (typeof FOLLOW_UP_EXEMPTIONS)[number];

/** What the person resolving the complaint says about the follow-up visit. */
export interface FollowUpFlags {
  /** Settled on the spot… */
  onTheSpot?: boolean;
  /** …with the customer confirming it there and then; only both together exempt. */
  customerConfirmed?: boolean;
  sensitive?: boolean;
  /** The customer said now that they want no follow-up calls; remembered for next time. */
  followUpDeclined?: boolean;
  /** The executed resolution the visit follows, when there is one. */
  resolutionId?: string;
}

export interface CustomerFacts {
  customerName: string | null;
  customerPhone: string | null;
  customerEmail: string | null;
  customerAddress: string | null;
  customerExternalId: string | null;
  tags: string[];
}

/** The tag that marks a complaint sensitive from intake on, so nobody visits about it. */
export const SENSITIVE_TAG = 'sensitive';

/**
 * Why a complaint resolved now needs no follow-up visit, or null when one is due. The first
 * reason that applies is given, in the order of FOLLOW_UP_EXEMPTIONS.
 */
export function followUpExemption(
  customer: CustomerFacts,
  flags: FollowUpFlags,
  declinedBefore: boolean,
): FollowUpExemption | null {
  if (flags.onTheSpot && flags.customerConfirmed) return 'settled_on_the_spot';
  if (flags.sensitive || customer.tags.includes(SENSITIVE_TAG)) return 'sensitive';
  if (!customer.customerName && !customer.customerExternalId) return 'anonymous';
  // An address is a way to reach the customer too: a visit in person (上门访谈).
  if (!customer.customerPhone && !customer.customerEmail && !customer.customerAddress)
    return 'no_contact_details';
  if (flags.followUpDeclined || declinedBefore) return 'customer_declined';
  return null;
}
