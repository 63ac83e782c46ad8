import { majorReason } from '../../db/schema/index.js';

export const MAJOR_REASONS = majorReason.enumValues;
export type MajorReason = (typeof MAJOR_REASONS)[number];

/**
 * The flags a handler sets on a complaint, each of which makes it major (DOMAIN §2, seed 000), and
 * the reason each gives: the one home of that rule for intake and edits alike.
 */
export const MAJOR_FLAGS = {
  /** The customer threatens media exposure. */
  mediaExposure: 'media_exposure',
  /** Raised with a regulator or the manufacturer. */
  regulatorInvolved: 'regulator_involved',
  /** The customer blocks the premises (堵门). */
  premisesBlocked: 'premises_blocked',
  /** The customer returns or exchanges high-value goods. */
  highValueReturn: 'high_value_return',
  /** The matter has had negative media coverage already. */
  negativeMediaCoverage: 'negative_media_coverage',
} as const satisfies Record<string, MajorReason>;

export type MajorFlag = keyof typeof MAJOR_FLAGS;
export type MajorFlags = Record<MajorFlag, boolean>;
export const MAJOR_FLAG_NAMES = Object.keys(MAJOR_FLAGS) as MajorFlag[];

/**
 * The reasons a complaint is major that its own fields decide (DOMAIN §2): set by hand, a safety
 * category, or one of its MAJOR_FLAGS. Repeat and collective complaints depend on other
 * complaints and are looked up (see MajorComplaintsService).
 */
export function ownMajorReasons(
  input: {
    severity: 'general' | 'major';
    category: string | null;
    safetyCategories: readonly string[];
  } & MajorFlags,
): MajorReason[] {
  const reasons: MajorReason[] = [];
  if (input.severity === 'major') reasons.push('manual');
  if (input.category !== null && input.safetyCategories.includes(input.category)) {
    reasons.push('safety_category');
  }
  for (const flag of MAJOR_FLAG_NAMES) if (input[flag]) reasons.push(MAJOR_FLAGS[flag]);
  return reasons;
}

/** A complaint's or an intake's MAJOR_FLAGS, and nothing else of it. */
export function majorFlagsOf(source: MajorFlags): MajorFlags {
  return Object.fromEntries(MAJOR_FLAG_NAMES.map((flag) => [flag, source[flag]])) as MajorFlags;
}

/** The reasons an edit gives by setting flags the complaint did not have. */
export function reasonsOfNewFlags(
  current: MajorFlags,
  edit: Partial<Record<MajorFlag, boolean | undefined>>,
): MajorReason[] {
  return MAJOR_FLAG_NAMES.filter((flag) => edit[flag] === true && !current[flag]).map(
    (flag) => MAJOR_FLAGS[flag],
  );
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
  premises_blocked: 'premises blocked',
  high_value_return: 'return of high-value goods',
  negative_media_coverage: 'negative media coverage',
};
