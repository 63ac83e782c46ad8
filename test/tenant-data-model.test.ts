import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantDataModelViolations } from '../src/db/distribution.js';
import { startTestApp, type TestApp } from './harness.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('the tenant-led data model', () => {
  it('holds for every table the migrations leave', async () => {
    expect(await tenantDataModelViolations(t.database.db)).toEqual([]);
  });

  it("keeps the feed's order with the tenant: its tables keyed by tenant first and, on Citus, beside its events", async () => {
    const { rows: keys } = await t.database.pool.query<{ table: string; key: string }>(
      `select c.conrelid::regclass::text as table, pg_get_constraintdef(c.oid) as key from pg_constraint c
       where c.conrelid in ('event_feed'::regclass, 'event_feed_heads'::regclass) and c.contype in ('p', 'u', 'f')
       order by 1, 2`,
    );
    expect(keys).toEqual([
      {
        table: 'event_feed',
        key: expect.stringMatching(
          /^FOREIGN KEY \(tenant_id, event_position\) REFERENCES events\(tenant_id, "?position"?\) ON DELETE CASCADE$/,
        ),
      },
      { table: 'event_feed', key: 'PRIMARY KEY (tenant_id, feed_position)' },
      { table: 'event_feed', key: 'UNIQUE (tenant_id, event_position)' },
      {
        table: 'event_feed_heads',
        key: expect.stringMatching(/^FOREIGN KEY \(tenant_id\) REFERENCES tenants\(id\)/),
      },
      { table: 'event_feed_heads', key: 'PRIMARY KEY (tenant_id)' },
    ]);
    const { rows: citus } = await t.database.pool.query(`select 1 from pg_extension where extname = 'citus'`);
    if (citus.length === 0) return;
    // Distributed by tenant_id with the tenant's events: a claim numbers them on one node.
    const { rows: placed } = await t.database.pool.query<{ table: string; column: string; group: string }>(
      `select table_name::text as table, distribution_column as column, colocation_id::text as group
       from citus_tables where table_name in ('events'::regclass, 'event_feed'::regclass, 'event_feed_heads'::regclass)
       order by 1`,
    );
    expect(placed.map((row) => [row.table, row.column])).toEqual([
      ['event_feed', 'tenant_id'],
      ['event_feed_heads', 'tenant_id'],
      ['events', 'tenant_id'],
    ]);
    expect(new Set(placed.map((row) => row.group)).size).toBe(1);
  });

  it('finds each rule broken in a schema keyed by id alone', async () => {
    const schema = `tenant_model_${randomBytes(4).toString('hex')}`;
    const db = t.database.db;
    await db.execute(sql.raw(`create schema ${schema}`));
    try {
      await db.execute(
        sql.raw(`
        create table ${schema}.tenants (id uuid primary key);
        create table ${schema}.things (id uuid primary key, tenant_id uuid not null references ${schema}.tenants (id));
        create table ${schema}.parts (
          tenant_id uuid not null references ${schema}.tenants (id),
          id uuid not null,
          thing_id uuid references ${schema}.things (id),
          code text,
          primary key (tenant_id, id),
          unique (code));
        create table ${schema}.notes (id uuid, tenant_id uuid);
        create table ${schema}.good (
          tenant_id uuid not null,
          id uuid not null,
          part_id uuid not null,
          primary key (tenant_id, id),
          foreign key (tenant_id, part_id) references ${schema}.parts (tenant_id, id));`),
      );
      expect(await tenantDataModelViolations(db, schema)).toEqual([
        { table: 'notes', rule: 'has no primary key' },
        { table: 'notes', rule: 'has no tenant_id NOT NULL column' },
        { table: 'parts', rule: 'foreign key parts_thing_id_fkey does not carry tenant_id' },
        { table: 'parts', rule: 'unique index parts_code_key does not lead with tenant_id' },
        { table: 'things', rule: 'unique index things_pkey does not lead with tenant_id' },
      ]);
    } finally {
      await db.execute(sql.raw(`drop schema ${schema} cascade`));
    }
  });
});
