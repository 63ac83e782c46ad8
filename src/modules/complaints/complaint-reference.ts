import { type SQL, sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { Queryable } from '../../db/client.js';
import { preparedStatement } from '../../db/prepared.js';
import { complaintReferenceCounters } from '../../db/schema/index.js';

/*
 * Complaint references (C-000123, or BJ-2026-0001234 in a tenant's own format): the one place
 * their form is written. Intake builds them in SQL from the numbers the tenant's reference counter
 * hands out (takeReferenceNumbers) and the lead this file makes from the tenant's format;
 * the API checks the ones callers send with the patterns below.
 *
 * The number never restarts, whatever the format says or however often it changes: every
 * reference a tenant was ever given has its own number, so none can collide with another.
 *
 * References compare as text, so 'C-1000000' sorts before 'C-999999': order complaints by when
 * they came in (received_at, created_at), never by their reference.
 */

/** A prefix: a capital letter, then up to 9 capitals or digits (C, BJ, ACME2). */
const PREFIX = '[A-Z][A-Z0-9]{0,9}';
const MIN_DIGITS = 4;
const MAX_DIGITS = 12;
/** The most a bigint counter can count to, 9223372036854775807, has 19 digits. */
const LONGEST_NUMBER = 19;

/** How a tenant's references look: `{prefix}-{year}-{number}`, the year only when asked for. */
export const referenceFormatSchema = z
  .strictObject({
    prefix: z
      .string()
      .regex(new RegExp(`^${PREFIX}$`), 'must be a capital letter and up to 9 capitals or digits, such as BJ')
      .default('C')
      .describe('Starts every reference, followed by a hyphen.'),
    year: z
      .boolean()
      .default(false)
      .describe('Puts the year the complaint was recorded, in the tenant’s time zone, after the prefix.'),
    digits: z
      .number()
      .int()
      .min(MIN_DIGITS)
      .max(MAX_DIGITS)
      .default(6)
      .describe('The number is zero-padded to at least this many digits, and grows past them.'),
  })
  .meta({ id: 'ReferenceFormat' });

export type ReferenceFormat = z.output<typeof referenceFormatSchema>;

/** C-000123: the format of a tenant that never chose one. */
export const DEFAULT_REFERENCE_FORMAT: ReferenceFormat = referenceFormatSchema.parse({});

/** What stands before the number in a reference recorded at `at` (`C-`, `BJ-2026-`). */
export function referenceLead(format: ReferenceFormat, at: Date, timeZone: string): string {
  const year = format.year ? `${DateTime.fromJSDate(at, { zone: timeZone }).year}-` : '';
  return `${format.prefix}-${year}`;
}

/**
 * Common table expressions that take reference numbers from the tenants' counters
 * (complaint_reference_counters), `size` numbers for each (tenant_id, size) row of `sizes` (a
 * SELECT or VALUES): CTE `name` then has a row (tenant_id, counted) per tenant, where `counted` is
 * where its count stood, so the numbers taken are `counted + 1` to `counted + size`. Each tenant's
 * row stays locked until the transaction ends, so no two transactions, through whichever process
 * or Citus coordinator, take the same number; the rows are taken in tenant order, so two batches
 * of several tenants never wait on each other in a circle.
 */
export function takeReferenceNumbersSql(name: string, sizes: SQL): SQL {
  const cte = (suffix: string) => sql.identifier(`${name}${suffix}`);
  return sql`${cte('_sizes')}(tenant_id, size) as (${sizes}), ${cte('_counted')} as (
    insert into ${complaintReferenceCounters} as rc (tenant_id, last_number)
    select s.tenant_id, s.size from ${cte('_sizes')} s order by s.tenant_id
    on conflict (tenant_id) do update set last_number = rc.last_number + excluded.last_number
    returning rc.tenant_id, rc.last_number
  ), ${cte('')} as (
    select c.tenant_id, c.last_number - s.size as counted
    from ${cte('_counted')} c join ${cte('_sizes')} s on s.tenant_id = c.tenant_id
  )`;
}

/** The numbers takeReferenceNumbersSql takes for the tenants and sizes given, as a statement. */
const referenceNumbersTaken = (name: string, commit: 'synchronous' | 'asynchronous') =>
  preparedStatement<{ tenants: string[]; sizes: number[] }, { tenant_id: string; counted: string }>(
    name,
    sql`with ${takeReferenceNumbersSql(
      'n',
      sql`select * from unnest(${sql.placeholder('tenants')}::uuid[], ${sql.placeholder('sizes')}::bigint[])`,
    )}
    select n.tenant_id, n.counted::text as counted from n
    ${commit === 'asynchronous' ? sql`cross join (select set_config('synchronous_commit', 'off', true)) as async_commit` : sql``}`,
  );
const referenceNumbersTakenWithin = referenceNumbersTaken('take_reference_numbers', 'synchronous');
const referenceNumbersTakenAlone = referenceNumbersTaken('take_reference_numbers_alone', 'asynchronous');

/** Each tenant's `counted` from the statement's rows, as bigint. */
async function numbersTaken(
  statement: typeof referenceNumbersTakenWithin,
  queryable: Queryable,
  sizes: ReadonlyMap<string, number>,
): Promise<Map<string, bigint>> {
  const tenants = [...sizes.keys()].sort();
  const { rows } = await statement.execute(queryable, {
    tenants,
    sizes: tenants.map((id) => sizes.get(id)!),
  });
  return new Map(rows.map((row) => [row.tenant_id, BigInt(row.counted)]));
}

/**
 * Takes `size` reference numbers for each tenant in `sizes`, in the transaction `tx`: for each
 * tenant, where its count stood, so that the numbers taken are `counted + 1` to `counted + size`
 * (as bigint, which a JS number cannot hold whole past 2^53). The tenants' counters stay locked
 * until `tx` ends.
 */
export function takeReferenceNumbersIn(
  tx: Queryable,
  sizes: ReadonlyMap<string, number>,
): Promise<Map<string, bigint>> {
  return numbersTaken(referenceNumbersTakenWithin, tx, sizes);
}

/**
 * takeReferenceNumbersIn, as one statement on the pool `db` that commits by itself, before intake
 * writes anything: a tenant's counter is locked only while the server runs that statement, not
 * across round trips, so two batches of one tenant write their complaints at the same time. Its
 * commit does not wait for the disk (synchronous_commit off, set for its own transaction): every
 * complaint numbered from it commits after it, on the server that holds the counter (on Citus,
 * the node holding the tenant's rows), and that commit writes this one to disk with it; a crash
 * before then loses only numbers no complaint has.
 */
export function takeReferenceNumbers(
  db: Queryable,
  sizes: ReadonlyMap<string, number>,
): Promise<Map<string, bigint>> {
  return numbersTaken(referenceNumbersTakenAlone, db, sizes);
}

/**
 * The reference of number `number` (a bigint SQL expression), after `lead` and zero-padded to
 * `digits`. The width is a minimum, never a cut: `lpad` cut complaint 1,000,000 to C-100000, a
 * reference already taken, and every intake after it failed.
 */
export function complaintReferenceSql(
  number: SQL,
  format: { lead: SQL; digits: SQL } = {
    // Literals, not parameters: the benchmarks splice this expression into SQL text of their own.
    // Both are constants of this file that the format schema accepts.
    lead: sql.raw(`'${referenceLead(DEFAULT_REFERENCE_FORMAT, new Date(0), 'UTC')}'`),
    digits: sql.raw(String(DEFAULT_REFERENCE_FORMAT.digits)),
  },
): SQL {
  // format's width is a minimum; the spaces it pads with become zeros.
  return sql`(${format.lead}) || translate(format('%*s', ${format.digits}, ${number}), ' ', '0')`;
}

const REFERENCE = `${PREFIX}-(?:\\d{4}-)?\\d{${MIN_DIGITS},${LONGEST_NUMBER}}`;
const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

/** A complaint reference as callers may send it: in any format a tenant may choose. */
export const REFERENCE_PATTERN = new RegExp(`^${REFERENCE}$`);
/** A complaint id (UUID) or reference: what path parameters and lookups take. */
export const COMPLAINT_KEY_PATTERN = new RegExp(`^(?:${UUID}|${REFERENCE})$`);
