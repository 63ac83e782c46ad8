import { sql } from 'drizzle-orm';
import type { Queryable } from './client.js';

/**
 * How Redress's tables spread over a distributed PostgreSQL (Citus): every table belongs to a
 * tenant, keyed by `tenant_id` first, except the ones named here.
 *
 * - Reference tables are shared by all tenants and copied to every node, so any tenant's rows can
 *   join them where they lie: `tenants`, and `api_keys`, which a request looks up by the hash of
 *   its key before it knows its tenant.
 * - Local tables describe the deployment, not a tenant, and stay on the coordinator:
 *   `outbox_relay_state`, the relay's word that it is awake.
 */
export const REFERENCE_TABLES = ['tenants', 'api_keys'] as const;
export const LOCAL_TABLES = ['outbox_relay_state'] as const;

const SHARED_TABLES: readonly string[] = [...REFERENCE_TABLES, ...LOCAL_TABLES];

/** A rule of the tenant-led data model that a table breaks. */
export interface TenantDataModelViolation {
  table: string;
  rule: string;
}

/**
 * What breaks the tenant-led data model in the current schema, table by table: a tenant table
 * must have `tenant_id NOT NULL`, a primary key and every unique index that lead with it, and
 * foreign keys to other tenant tables that carry it (tenant_id to tenant_id), so that one tenant's
 * rows, and every check between them, can live together on one node. Reads `schema`, or the
 * current one.
 */
export async function tenantDataModelViolations(
  db: Queryable,
  schema: string | null = null,
): Promise<TenantDataModelViolation[]> {
  const result = await db.execute<{ table: string; rule: string }>(sql`
    with tenant_tables as (
      select c.oid, c.relname
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = coalesce(${schema}::text, current_schema()) and c.relkind in ('r', 'p') and not c.relispartition
        and c.relname <> all(${sql.param(SHARED_TABLES)}::text[])
    ), columns as (
      select a.attrelid, a.attnum, a.attname, a.attnotnull from pg_attribute a
      where a.attnum > 0 and not a.attisdropped
    )
    select t.relname as table, 'has no tenant_id NOT NULL column' as rule
    from tenant_tables t
    where not exists (select 1 from columns a where a.attrelid = t.oid and a.attname = 'tenant_id' and a.attnotnull)
    union all
    select t.relname, 'has no primary key'
    from tenant_tables t
    where not exists (select 1 from pg_constraint k where k.conrelid = t.oid and k.contype = 'p')
    union all
    select t.relname, format('unique index %s does not lead with tenant_id', i.relname)
    from tenant_tables t
      join pg_index x on x.indrelid = t.oid and x.indisunique
      join pg_class i on i.oid = x.indexrelid
    where x.indkey[0] = 0
      or (select a.attname from columns a where a.attrelid = t.oid and a.attnum = x.indkey[0]) <> 'tenant_id'
    union all
    select t.relname, format('foreign key %s does not carry tenant_id', k.conname)
    from tenant_tables t
      join pg_constraint k on k.conrelid = t.oid and k.contype = 'f'
      join pg_class r on r.oid = k.confrelid
    where r.relname <> all(${sql.param(SHARED_TABLES)}::text[])
      and not exists (
        select 1 from unnest(k.conkey, k.confkey) as pair(own, referenced)
        where (select a.attname from columns a where a.attrelid = t.oid and a.attnum = pair.own) = 'tenant_id'
          and (select a.attname from columns a where a.attrelid = r.oid and a.attnum = pair.referenced) = 'tenant_id')
    order by 1, 2`);
  return result.rows.map((row) => ({ table: row.table, rule: row.rule }));
}

/** What `npm run cli -- db distribute` did to a migrated database on Citus. */
export interface Distribution {
  /** Copied to every node. */
  reference: string[];
  /** Spread over the nodes by `tenant_id`, every one co-located with the first. */
  distributed: string[];
  /** Left on the coordinator. */
  local: string[];
  /** Distributed or copied by an earlier run; left as they were. */
  unchanged: string[];
}

/** The database has no Citus: there is nothing to distribute over. */
export class CitusMissingError extends Error {
  readonly code = 'citus_missing';
  constructor() {
    super('This database has no Citus extension: run CREATE EXTENSION citus on the coordinator first');
  }
}

/**
 * Spreads a migrated database over its Citus cluster: the reference tables copied to every node,
 * every other table but the local ones distributed by `tenant_id` and co-located, so a tenant's
 * rows and every key between them sit on one node. A table is distributed after the tables its
 * foreign keys name, as Citus requires. Tables an earlier run distributed are left alone, so it
 * may run again after a migration adds one.
 */
export async function distributeTables(db: Queryable): Promise<Distribution> {
  const citus = await db.execute(sql`select 1 from pg_extension where extname = 'citus'`);
  if (citus.rows.length === 0) throw new CitusMissingError();

  const tables = await db.execute<{ table: string; references: string[]; done: boolean }>(sql`
    select c.relname as table,
      coalesce(array_agg(distinct r.relname) filter (where r.relname is not null and r.oid <> c.oid), '{}') as references,
      exists (select 1 from pg_dist_partition p where p.logicalrelid = c.oid) as done
    from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      left join pg_constraint k on k.conrelid = c.oid and k.contype = 'f'
      left join pg_class r on r.oid = k.confrelid
    where n.nspname = current_schema() and c.relkind in ('r', 'p') and not c.relispartition
    group by c.oid, c.relname
    order by c.relname`);

  const distribution: Distribution = { reference: [], distributed: [], local: [], unchanged: [] };
  const pending = new Map(tables.rows.map((row) => [row.table, row]));
  const placed = new Set<string>();
  const place = async (table: string, how: 'reference' | 'distributed' | 'local', anchor?: string) => {
    const row = pending.get(table)!;
    pending.delete(table);
    placed.add(table);
    if (how === 'local') {
      distribution.local.push(table);
    } else if (row.done) {
      distribution.unchanged.push(table);
    } else if (how === 'reference') {
      await db.execute(sql`select create_reference_table(${table})`);
      distribution.reference.push(table);
    } else {
      await db.execute(
        sql`select create_distributed_table(${table}, 'tenant_id', colocate_with => ${anchor ?? 'none'})`,
      );
      distribution.distributed.push(table);
    }
  };

  for (const table of LOCAL_TABLES) if (pending.has(table)) await place(table, 'local');
  for (const table of REFERENCE_TABLES) if (pending.has(table)) await place(table, 'reference');
  let anchor: string | undefined;
  while (pending.size > 0) {
    const ready = [...pending.values()].find((row) => row.references.every((name) => placed.has(name)));
    if (!ready) throw new Error(`foreign keys go round in a circle among ${[...pending.keys()].join(', ')}`);
    await place(ready.table, 'distributed', anchor);
    anchor ??= ready.table;
  }
  return distribution;
}
