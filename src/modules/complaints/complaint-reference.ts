import { type SQL, sql } from 'drizzle-orm';

/*
 * Complaint references (C-000123): the one place their format is written. Intake builds them in
 * SQL from the number the tenant's reference sequence hands out (complaintReferenceSequence); the
 * API checks the ones callers send with the patterns below. A tenant's own format (prefix, year)
 * would change these and nothing else.
 *
 * References compare as text, so 'C-1000000' sorts before 'C-999999': order complaints by when
 * they came in (received_at, created_at), never by their reference.
 */

/** Every tenant's prefix, until tenants choose their own. */
const PREFIX = 'C-';
/**
 * The number is zero-padded to six digits, so references keep the look they always had (C-000123),
 * and grows past them: C-999999 is followed by C-1000000. A width that cut the number (as lpad's
 * does) made complaint 1,000,000 C-100000, a reference already taken, and every intake after it
 * failed on the tenant's unique reference.
 */
const MIN_DIGITS = 6;
/** The most a bigint sequence can count to, 9223372036854775807, has 19 digits. */
const MAX_DIGITS = 19;

/**
 * The reference of sequence number `number` (a bigint SQL expression, usually `nextval(…)`).
 * `number` appears once in the expression, so a sequence passed in advances once per reference.
 */
export function complaintReferenceSql(number: SQL): SQL {
  // format's width is a minimum, never a cut; the spaces it pads with become zeros.
  return sql`${sql.raw(`'${PREFIX}'`)} || translate(format(${sql.raw(`'%${MIN_DIGITS}s'`)}, ${number}), ' ', '0')`;
}

const REFERENCE = `${PREFIX}\\d{${MIN_DIGITS},${MAX_DIGITS}}`;
const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

/** A complaint reference as callers may send it: every number the sequence can hand out. */
export const REFERENCE_PATTERN = new RegExp(`^${REFERENCE}$`);
/** A complaint id (UUID) or reference: what path parameters and lookups take. */
export const COMPLAINT_KEY_PATTERN = new RegExp(`^(?:${UUID}|${REFERENCE})$`);
