import { sql } from 'drizzle-orm';
import type { Queryable } from './client.js';

/**
 * How Redress's tables spread over a distributed PostgreSQL (Citus): every table belongs to a
 * tenant, keyed by `tenant_id` first, except the ones named here.
 *
 * Reference tables are shared by all tenants and copied to every node, so any tenant's rows can
 * join them, and any node's triggers read them, where they lie: `tenants`; `api_keys`, which a
 * request looks up by the hash of its key before it knows its tenant; `identity_providers`, which
 * an access token is matched to by its issuer and audience before its tenant is known; and
 * `outbox_relay_state`,
 * the relay's word that it is awake, which a transaction that wrote events reads as it commits
 * (notify_relay_at_commit), on the node that holds those events.
 */
export const REFERENCE_TABLES = ['tenants', 'api_keys', 'identity_providers', 'outbox_relay_state'] as const;

const SHARED_TABLES: readonly string[] = REFERENCE_TABLES;

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
  /** Distributed or copied by an earlier run; left as they were. */
  unchanged: string[];
}

/** The database has no Citus: there is nothing to distribute over. */
/**
 * The batcher's `batchKey` for a batched statement that locks or writes a tenant's rows, by the
 * tenant: on Citus, such a statement runs on one node only when it names one tenant, so a batch
 * holds one tenant's items (the key is the tenant); on one server a batch takes whoever waits
 * (every item has the same key), so load spread over many tenants still goes in full batches.
 * Whether the database runs Citus is asked on the first call, without waiting for the answer:
 * until it comes, and again after a failed question, batches hold one tenant, which is right on
 * either.
 */
export function tenantBatchKey(db: Queryable): (tenantId: string) => string {
  let onCitus: boolean | undefined;
  let asking = false;
  return (tenantId) => {
    if (onCitus === undefined && !asking) {
      asking = true;
      db.execute(sql`select 1 from pg_extension where extname = 'citus'`).then(
        (citus) => {
          onCitus = citus.rows.length > 0;
          asking = false;
        },
        () => {
          asking = false;
        },
      );
    }
    return (onCitus ?? true) ? tenantId : '';
  };
}

export class CitusMissingError extends Error {
  readonly code = 'citus_missing';
  constructor() {
    super('This database has no Citus extension: run CREATE EXTENSION citus on the coordinator first');
  }
}

/**
 * Spreads a migrated database over its Citus cluster: the reference tables copied to every node,
 * every other table distributed by `tenant_id` and co-located, so a tenant's
 * rows and every key between them sit on one node. Citus refuses a foreign key between a table it
 * has placed and one it has not, and a table with a key to a reference table becomes one it has
 * placed (locally) the moment that table is copied; so the foreign keys are taken away first and
 * put back, as they were, once every table is placed. All of it is one transaction: it either
 * distributes the whole database or leaves it as it was. Tables an earlier run placed are left
 * alone, so it may run again after a migration adds one.
 */
export async function distributeTables(db: Queryable): Promise<Distribution> {
  const citus = await db.execute(sql`select 1 from pg_extension where extname = 'citus'`);
  if (citus.rows.length === 0) throw new CitusMissingError();

  return db.transaction(async (tx) => {
    // Redress keeps its counts and its outbox with triggers, which Citus distributes only when
    // told to: each then runs on the node that holds the row, next to the tenant's other rows.
    await tx.execute(sql`set local citus.enable_unsafe_triggers = on`);
    // Keys to the reference tables are put back in the same transaction: Citus then needs one
    // connection per node throughout.
    await tx.execute(sql`set local citus.multi_shard_modify_mode = 'sequential'`);
    // citus_tables says what each table is already: distributed, reference, or local to the
    // coordinator but known to Citus.
    const tables = await tx.execute<{ table: string; citusType: string | null }>(sql`
      select c.relname::text as table,
        (select ct.citus_table_type from citus_tables ct where ct.table_name = c.oid) as "citusType"
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind in ('r', 'p') and not c.relispartition
      order by c.relname`);
    const foreignKeys = await tx.execute<{ table: string; name: string; definition: string }>(sql`
      select c.relname::text as table, k.conname::text as name, pg_get_constraintdef(k.oid) as definition
      from pg_constraint k
        join pg_class c on c.oid = k.conrelid
        join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and k.contype = 'f'
      order by c.relname, k.conname`);
    for (const key of foreignKeys.rows) {
      await tx.execute(
        sql`alter table ${sql.identifier(key.table)} drop constraint ${sql.identifier(key.name)}`,
      );
    }

    const distribution: Distribution = { reference: [], distributed: [], unchanged: [] };
    let anchor: string | undefined;
    for (const { table, citusType } of tables.rows) {
      const how = (REFERENCE_TABLES as readonly string[]).includes(table) ? 'reference' : 'distributed';
      if (citusType === how) {
        distribution.unchanged.push(table);
      } else if (how === 'reference') {
        await tx.execute(sql`select create_reference_table(${table})`);
        distribution.reference.push(table);
      } else {
        await tx.execute(
          sql`select create_distributed_table(${table}, 'tenant_id', colocate_with => ${anchor ?? 'none'})`,
        );
        distribution.distributed.push(table);
      }
      if (how === 'distributed') anchor ??= table;
    }

    for (const key of foreignKeys.rows) {
      await tx.execute(
        sql`alter table ${sql.identifier(key.table)} add constraint ${sql.identifier(key.name)} ${sql.raw(key.definition)}`,
      );
    }
    // A transaction that writes events commits on the node holding them, in two phases when it
    // wrote on more than one, and PostgreSQL refuses to prepare a transaction that sent a NOTIFY:
    // on Citus, writers must never wake the outbox relay (notify_relay_at_commit). It is marked
    // awake for good, which writers read as "skip the NOTIFY", and it polls (startEventRelay).
    await tx.execute(sql`
      insert into outbox_relay_state (id, awake_until) values (true, 'infinity')
      on conflict (id) do update set awake_until = 'infinity'`);
    return distribution;
  });
}
