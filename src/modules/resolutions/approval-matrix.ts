/**
 * The approval matrix (按权限核决表审批, DOMAIN §4): what each role may grant on its own, per
 * currency. Pure: the tenant's settings come in as arguments.
 */

export interface ApprovalLimit {
  role: string;
  currency: string;
  /** null: no limit. */
  maxAmount: number | null;
}

export interface Money {
  amount: number | null;
  currency: string | null;
}

/**
 * The most `role` may grant in `currency`: a number, null for no limit, or 0 when the matrix has
 * no entry for the pair (a role with no limit set grants nothing in that currency alone).
 */
export function limitOf(limits: readonly ApprovalLimit[], role: string, currency: string): number | null {
  const entry = limits.find((limit) => limit.role === role && limit.currency === currency);
  return entry ? entry.maxAmount : 0;
}

/** Whether `role` may grant this on its own; anything without money needs nobody's approval. */
export function roleCovers(limits: readonly ApprovalLimit[], role: string, money: Money): boolean {
  if (money.amount === null || money.currency === null) return true;
  const limit = limitOf(limits, role, money.currency);
  return limit === null || money.amount <= limit;
}

/**
 * The most any of `roles` may grant in `currency` (the matrix's ceiling there): null when one has
 * no limit, 0 when none may grant anything.
 */
export function ceilingOf(
  limits: readonly ApprovalLimit[],
  roles: readonly string[],
  currency: string,
): number | null {
  let ceiling = 0;
  for (const role of roles) {
    const limit = limitOf(limits, role, currency);
    if (limit === null) return null;
    ceiling = Math.max(ceiling, limit);
  }
  return ceiling;
}

/** Whether any role can approve this: an amount beyond every limit is refused outright (no buying off). */
export function someRoleCovers(
  limits: readonly ApprovalLimit[],
  roles: readonly string[],
  money: Money,
): boolean {
  return roles.some((role) => roleCovers(limits, role, money));
}

/** Where a proposal stands once each option's approval is known. */
export function statusAfterApprovals(
  approvals: ReadonlyArray<'not_required' | 'pending' | 'approved' | 'rejected'>,
): 'awaiting_approval' | 'proposed' | 'rejected' {
  if (approvals.includes('pending')) return 'awaiting_approval';
  return approvals.some((approval) => approval === 'not_required' || approval === 'approved')
    ? 'proposed'
    : 'rejected';
}

const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

/** Digits after the decimal point the currency uses (CNY 2, JPY 0, KWD 3), or null if unknown. */
export function minorDigits(currency: string): number | null {
  if (!CURRENCIES.has(currency)) return null;
  return (
    new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
  );
}
