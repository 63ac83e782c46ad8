/**
 * Recusal (DOMAIN §4, 回避原则), pure: a complaint is never handled by the staff it is about, nor
 * by anyone who declared a conflict of interest in it. Staff are named by free text (a name or an
 * id from the calling system) and compared trimmed and without regard to case.
 */

/** Why a person may not handle a complaint. */
export interface Recusal {
  staff: string;
  basis: 'subject_of_complaint' | 'declared_conflict';
  /** The reason given when the conflict was declared. */
  reason: string | null;
}

/** True when two staff references name the same person. */
export const sameStaff = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();

/** Why `staff` may not handle the complaint, or null when they may. */
export function recusalOf(
  staff: string,
  subjectStaff: readonly string[],
  conflicts: ReadonlyArray<{ staff: string; reason: string }>,
): Recusal | null {
  if (subjectStaff.some((subject) => sameStaff(subject, staff))) {
    return { staff, basis: 'subject_of_complaint', reason: null };
  }
  const declared = conflicts.find((conflict) => sameStaff(conflict.staff, staff));
  return declared ? { staff, basis: 'declared_conflict', reason: declared.reason } : null;
}

/** The message naming the person and why they must not handle the complaint. */
export function describeRecusal(recusal: Recusal, reference: string): string {
  return recusal.basis === 'subject_of_complaint'
    ? `Complaint '${reference}' is about '${recusal.staff}', who therefore may not handle it.`
    : `'${recusal.staff}' declared a conflict of interest in complaint '${reference}' (${recusal.reason}) and may not handle it.`;
}
