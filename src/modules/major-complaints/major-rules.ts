import { majorReason } from '../../db/schema/index.js';

export const MAJOR_REASONS = majorReason.enumValues;
export type MajorReason = (typeof MAJOR_REASONS)[number];

/**
 * The reasons a complaint is major that its own fields decide (DOMAIN §2): set by hand, a safety
 * category, a threat of media exposure, a regulator involved. Repeat and collective complaints
 * depend on other complaints and are looked up (see MajorComplaintsService).
 */
export function ownMajorReasons(input: {
  severity: 'general' | 'major';
  category: string | null;
  mediaExposure: boolean;
  regulatorInvolved: boolean;
  safetyCategories: readonly string[];
}): MajorReason[] {
  const reasons: MajorReason[] = [];
  if (input.severity === 'major') reasons.push('manual');
  if (input.category !== null && input.safetyCategories.includes(input.category)) {
    reasons.push('safety_category');
  }
  if (input.mediaExposure) reasons.push('media_exposure');
  if (input.regulatorInvolved) reasons.push('regulator_involved');
  return reasons;
}

/** Both lists of reasons, each once, in the catalogue's order, so equal sets compare equal. */
export function mergeReasons(current: readonly MajorReason[], added: readonly MajorReason[]): MajorReason[] {
  const all = new Set([...current, ...added]);
  return MAJOR_REASONS.filter((reason) => all.has(reason));
}

/**
 * Who the customer is, for finding repeat complaints: their id in the calling system, else their
 * phone number's digits (so spacing and dashes do not matter), else their email in lower case.
 * Null when the complaint names none of them (an anonymous complaint has no repeats).
 */
export function customerIdentityKey(customer: {
  externalId?: string | null | undefined;
  phone?: string | null | undefined;
  email?: string | null | undefined;
}): string | null {
  if (customer.externalId) return `ext:${customer.externalId}`;
  if (customer.phone) {
    const digits = customer.phone.replace(/\D/g, '');
    if (digits) return `tel:${customer.phone.trim().startsWith('+') ? '+' : ''}${digits}`;
  }
  if (customer.email) return `email:${customer.email.toLowerCase()}`;
  return null;
}

/** Human wording of the reasons, for escalation records and messages. */
export function describeReasons(reasons: readonly MajorReason[]): string {
  return reasons.map((reason) => REASON_WORDS[reason]).join(', ');
}

const REASON_WORDS: Record<MajorReason, string> = {
  manual: 'set by hand',
  safety_category: 'safety category',
  collective: 'collective complaint',
  repeat: 'repeat complaint',
  media_exposure: 'media exposure',
  regulator_involved: 'regulator involved',
};
