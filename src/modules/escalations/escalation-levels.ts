/**
 * Escalation levels (DOMAIN §4): 0 handled by the owner, 1 team lead, 2 department manager,
 * 3 the crisis team led by the general manager. The level only ever rises.
 */
export const TOP_LEVEL = 3;

/** The level a major complaint reaches at once: the department manager. */
export const MAJOR_COMPLAINT_LEVEL = 2;
