import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { COMPLAINT_KEY_PATTERN, complaintReferenceSql, REFERENCE_PATTERN } from './complaint-reference.js';

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

/** The reference PostgreSQL makes of each number, in order. */
async function referencesOf(numbers: bigint[]): Promise<string[]> {
  const query = dialect.sqlToQuery(
    sql`select ${complaintReferenceSql(sql`n`)} as reference
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
