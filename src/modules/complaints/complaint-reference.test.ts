import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  COMPLAINT_KEY_PATTERN,
  complaintReferenceSql,
  REFERENCE_PATTERN,
  type ReferenceFormat,
  referenceFormatSchema,
  referenceLead,
} from './complaint-reference.js';

/**
 * The reference format is SQL (intake numbers complaints inside its statement), so it is checked
 * where it runs: in PostgreSQL, with the numbers as the sequence hands them out (bigint).
 */
let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: inject('databaseUrl') });
  await client.connect();
});
afterAll(() => client?.end());

const dialect = new PgDialect();

/** The reference PostgreSQL makes of each number, in order, in the default format or `format`. */
async function referencesOf(numbers: bigint[], format?: ReferenceFormat, at = new Date()): Promise<string[]> {
  const sqlFormat = format && {
    lead: sql`${referenceLead(format, at, 'Asia/Shanghai')}::text`,
    digits: sql`${format.digits}::int`,
  };
  const query = dialect.sqlToQuery(
    sql`select ${complaintReferenceSql(sql`n`, sqlFormat)} as reference
      from unnest(${sql.param(numbers.map(String))}::bigint[]) with ordinality as u(n, i) order by i`,
  );
  const { rows } = await client.query<{ reference: string }>(query.sql, query.params);
  return rows.map((row) => row.reference);
}

const LARGEST_BIGINT = 2n ** 63n - 1n;

describe('complaintReferenceSql', () => {
  it('pads to six digits and keeps every digit past them', async () => {
    const table: Array<[bigint, string]> = [
      [1n, 'C-000001'],
      [123n, 'C-000123'],
      [999_999n, 'C-999999'],
      [1_000_000n, 'C-1000000'],
      [1_000_001n, 'C-1000001'],
      [12_345_678n, 'C-12345678'],
      [LARGEST_BIGINT, 'C-9223372036854775807'],
    ];
    expect(await referencesOf(table.map(([n]) => n))).toEqual(table.map(([, reference]) => reference));
  });

  it('gives every number its own reference, one the API takes back', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.bigInt({ min: 1n, max: LARGEST_BIGINT }), { minLength: 1 }),
        async (numbers) => {
          const references = await referencesOf(numbers);
          references.forEach((reference, i) => {
            const n = numbers[i]!;
            expect(reference).toMatch(REFERENCE_PATTERN);
            expect(reference).toMatch(COMPLAINT_KEY_PATTERN);
            // Nothing is cut: the digits are the number, so two numbers never share a reference.
            expect(BigInt(reference.slice(2))).toBe(n);
            // References made before numbers outgrew six digits look as they always did.
            if (n < 1_000_000n) expect(reference).toBe(`C-${String(n).padStart(6, '0')}`);
          });
        },
      ),
      { numRuns: 50 },
    );
  });

  it('writes a tenant’s prefix, the year in its time zone and its width', async () => {
    const newYearsEve = new Date('2026-12-31T16:30:00Z'); // 00:30 on 1 January 2027 in Shanghai
    expect(
      await referencesOf([1234n, 12_345_678n], { prefix: 'BJ', year: true, digits: 7 }, newYearsEve),
    ).toEqual(['BJ-2027-0001234', 'BJ-2027-12345678']);
    expect(await referencesOf([7n], { prefix: 'ACME2', year: false, digits: 4 })).toEqual(['ACME2-0007']);
  });

  it('makes references the API takes back, in any format a tenant may choose', async () => {
    const formats = fc
      .record({
        prefix: fc.stringMatching(/^[A-Z][A-Z0-9]{0,9}$/),
        year: fc.boolean(),
        digits: fc.integer({ min: 4, max: 12 }),
      })
      .filter((format) => referenceFormatSchema.safeParse(format).success);
    await fc.assert(
      fc.asyncProperty(
        formats,
        fc.array(fc.bigInt({ min: 1n, max: LARGEST_BIGINT }), { minLength: 1, maxLength: 5 }),
        fc.date({ min: new Date('1970-01-02'), max: new Date('9999-12-30'), noInvalidDate: true }),
        async (format, numbers, at) => {
          const references = await referencesOf(numbers, format, at);
          references.forEach((reference, i) => {
            expect(reference).toMatch(REFERENCE_PATTERN);
            expect(reference).toMatch(COMPLAINT_KEY_PATTERN);
            const lead = referenceLead(format, at, 'Asia/Shanghai');
            expect(reference.startsWith(lead)).toBe(true);
            expect(BigInt(reference.slice(lead.length))).toBe(numbers[i]);
            expect(reference.length - lead.length).toBeGreaterThanOrEqual(format.digits);
          });
        },
      ),
      { numRuns: 50 },
    );
  });

  it('calls the sequence once per reference', async () => {
    await client.query('create temporary sequence reference_test_sequence start 999999');
    const query = dialect.sqlToQuery(
      sql`select ${complaintReferenceSql(sql`nextval('reference_test_sequence')`)} as reference
        from generate_series(1, 3)`,
    );
    const { rows } = await client.query<{ reference: string }>(query.sql, query.params);
    expect(rows.map((row) => row.reference)).toEqual(['C-999999', 'C-1000000', 'C-1000001']);
  });
});
