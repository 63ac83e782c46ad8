import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GROUP_BY } from './reports.repository.js';

/**
 * report_groups (./sql/report_counts.sql) names the groupings the report counts are kept under,
 * which the kept rows store, so SQL says them rather than taking them from TypeScript. The
 * reports offer the same ones (GROUP_BY, and 'none' for no grouping).
 */
let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: inject('databaseUrl') });
  await client.connect();
});
afterAll(() => client?.end());

describe('report_groups', () => {
  it('counts a complaint under every grouping the reports offer, and no other', async () => {
    const { rows } = await client.query<{ dimension: string }>(
      'select dimension from report_groups(null::complaint_channel, null, null::complaint_severity, null)',
    );
    expect(rows.map((row) => row.dimension)).toEqual(['none', ...GROUP_BY]);
  });
});
