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
