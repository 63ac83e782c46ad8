import { type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Queryable } from '../../db/client.js';
import {
  complaintOpenSpans,
  complaints,
  deadlines,
  overdueDuring,
  recordedOverdue,
  reportInventoryCounts,
  reportInventoryMarks,
  reportInventoryTouches,
  tenants,
} from '../../db/schema/index.js';
import { DEFAULT_TIME_ZONE } from '../settings/settings.schemas.js';

/**
 * The daily inventory's marks and counts (report_inventory_marks and report_inventory_counts in
 * src/db/schema/reports.ts): what a complaint's rows say it adds, read here once for the fold, the
 * recount and the report.
 */

const d = alias(deadlines, 'd');
/** Where a paused deadline stops counting as overdue: from its pause on, as the inventory asks. */
const untilPaused = sql`case when ${d.status} = 'paused' then tstzrange(null, ${d.pausedAt}, '()') else tstzrange(null, null) end`;

/**
 * Each complaint of `scope` (rows of tenant_id, complaint_id, each once, all of `tenant`) as its rows say now, in
 * the columns of report_inventory_marks, with `overdue_now`: its overdue stretches counting also
 * its deadlines pending past their due time, overdue from then on with no end the row records (the
 * worker breaches them within moments). Only those make a complaint's marks turn later than its
 * last write, so they are left out of the marks kept, and the report reads them live. A paused
 * deadline was overdue from its due time until its pause. A complaint of `scope` that no longer
 * exists has no row. Every table is read naming `tenant` as a value, so that on Citus the
 * statement runs on the node that holds the tenant.
 */
export function inventoryMarksOf(scope: SQL, tenant: SQL): SQL {
  return sql`
    select s.tenant_id, s.complaint_id, c.assignee, c.severity, c.received_at,
      coalesce(dl.due_at, '{}') as due_at, o.open, v.overdue,
      o.open * (coalesce(dl.recorded, '{}') + coalesce(dl.backlog, '{}')) as overdue_now,
      (select max(coalesce(upper(r), lower(r)))
       from (select unnest(o.open) union all select unnest(v.overdue)) as turns (r)) as turns_until
    from ${scope} s
      join ${complaints} c on c.tenant_id = ${tenant} and c.id = s.complaint_id
      cross join lateral (
        select coalesce(range_agg(sp.open_during), '{}') as open from ${complaintOpenSpans} sp
        where sp.tenant_id = ${tenant} and sp.complaint_id = s.complaint_id
      ) as o
      cross join lateral (
        select array_agg(distinct ${d.dueAt}) filter (where ${d.status} <> 'cancelled') as due_at,
          range_agg(case when ${recordedOverdue(d)} then ${overdueDuring(d)} * ${untilPaused}
            when ${d.status} = 'paused' then tstzrange(${d.dueAt}, null, '()') * ${untilPaused} end) as recorded,
          range_agg(tstzrange(${d.dueAt}, null, '()')) filter (where ${d.status} = 'pending') as backlog
        from ${deadlines} d where ${d.tenantId} = ${tenant} and ${d.complaintId} = s.complaint_id
      ) as dl
      cross join lateral (select o.open * coalesce(dl.recorded, '{}') as overdue) as v`;
}

/** A complaint's marks as report_inventory_contributions takes them, and the zone of its days. */
const contributionsOf = (marks: string, zone: SQL) =>
  sql`report_inventory_contributions(${sql.raw(marks)}.assignee, ${sql.raw(marks)}.severity,
    ${sql.raw(marks)}.received_at, ${sql.raw(marks)}.due_at, ${sql.raw(marks)}.open, ${sql.raw(marks)}.overdue, ${zone})`;

/** Puts each change (a row of `contributions`) on its day row and on its month row, as `period`. */
const onDayAndMonth = (contributions: string) =>
  sql`(values ('day', ${sql.raw(contributions)}.day), ('month', date_trunc('month', ${sql.raw(contributions)}.day)::date))`;

/**
 * What the marks in `marks` add to each group's day row and month row, on the days of `timeZone`,
 * their tenant's; `sign` (a column of `marks`, or 1) takes them away.
 */
const countsFrom = (marks: string, timeZone: string, sign = '1') => sql`
  select m.tenant_id, p.period, p.day, c.dimension, c.value, ${sql.raw(sign)} * c.received as received,
    ${sql.raw(sign)} * c.due as due, ${sql.raw(sign)} * c.open_change as open_change,
    ${sql.raw(sign)} * c.overdue_change as overdue_change
  from ${sql.raw(marks)} m
    cross join lateral ${contributionsOf('m', sql`${timeZone}::text`)} as c
    cross join lateral ${onDayAndMonth('c')} as p (period, day)`;

/** Adds each group's change (rows of `changes`, with their period) to its counts. */
function addToCounts(changes: string): SQL {
  return sql`
    insert into ${reportInventoryCounts} as counts (tenant_id, period, day, dimension, value, received, due,
        open_change, overdue_change)
      select x.tenant_id, x.period, x.day, x.dimension, x.value, sum(x.received), sum(x.due),
        sum(x.open_change), sum(x.overdue_change)
      from ${sql.raw(changes)} x
      group by 1, 2, 3, 4, 5
      having (sum(x.received), sum(x.due), sum(x.open_change), sum(x.overdue_change)) <> (0, 0, 0, 0)
      order by 1, 2, 3, 4, 5
    on conflict on constraint report_inventory_counts_group do update set
      received = counts.received + excluded.received, due = counts.due + excluded.due,
      open_change = counts.open_change + excluded.open_change,
      overdue_change = counts.overdue_change + excluded.overdue_change`;
}

/** Keeps `live` (inventoryMarksOf) as the marks of its complaints. */
const keepMarks = (live: string) => sql`
  insert into ${reportInventoryMarks} as marks (tenant_id, complaint_id, assignee, severity, received_at, due_at,
      open, overdue, turns_until)
    select tenant_id, complaint_id, assignee, severity, received_at, due_at, open, overdue, turns_until
    from ${sql.raw(live)}
  on conflict (tenant_id, complaint_id) do update set assignee = excluded.assignee, severity = excluded.severity,
    received_at = excluded.received_at, due_at = excluded.due_at, open = excluded.open, overdue = excluded.overdue,
    turns_until = excluded.turns_until
  where (marks.assignee, marks.severity, marks.received_at, marks.due_at, marks.open, marks.overdue)
    is distinct from (excluded.assignee, excluded.severity, excluded.received_at, excluded.due_at, excluded.open,
      excluded.overdue)`;

/**
 * The zone a tenant's report days are kept in (report_time_zone), asked on its own: a statement
 * that Citus sends to a shard cannot call a function that reads another table, so the statements
 * that count take it as a value.
 */
export async function reportTimeZoneOf(tenantId: string, tx: Queryable): Promise<string> {
  const result = await tx.execute<{ time_zone: string }>(
    sql`select report_time_zone(${tenantId}::uuid, ${DEFAULT_TIME_ZONE}) as time_zone`,
  );
  return result.rows[0]!.time_zone;
}

/**
 * The fold and the recount of a tenant change its counts and marks together, and one at a time:
 * both take the lock the compliance counts' fold and recount take (lock_report_counts). A fold
 * (`skipLocked`) leaves a tenant someone else holds for the next one; says whether it took it.
 */
async function takeCountsLock(tx: Queryable, tenantId: string, skipLocked: boolean): Promise<boolean> {
  const result = await tx.execute<{ locked: boolean }>(
    sql`select lock_report_counts(${tenantId}::uuid, ${skipLocked}) as locked`,
  );
  return result.rows[0]?.locked === true;
}

/** How many noted complaints a fold counts again in one transaction. */
const FOLD_BATCH = 5_000;

export function createReportInventory(db: Queryable) {
  /**
   * Counts up to FOLD_BATCH of a tenant's noted complaints again, under its lock: each one's marks
   * as its rows say now, less its marks as last counted, into the day and month rows; then keeps
   * its new marks and takes its notes away. Returns the notes taken, or null when another fold or
   * a recount holds the tenant.
   */
  async function foldTenant(tenantId: string): Promise<number | null> {
    return db.transaction(async (tx) => {
      if (!(await takeCountsLock(tx, tenantId, true))) return null;
      const timeZone = await reportTimeZoneOf(tenantId, tx);
      const tenant = sql`${tenantId}::uuid`;
      const result = await tx.execute<{ taken: string }>(sql`
        with claimed as (
          delete from ${reportInventoryTouches} x
          where x.tenant_id = ${tenant}
            and x.id in (select y.id from ${reportInventoryTouches} y where y.tenant_id = ${tenant} limit ${FOLD_BATCH})
          returning x.tenant_id, x.complaint_id
        ), touched as (
          select distinct tenant_id, complaint_id from claimed
        ), live as (${inventoryMarksOf(sql`touched`, tenant)}
        ), stored as (
          select m.* from ${reportInventoryMarks} m
            join touched t on m.tenant_id = ${tenant} and t.complaint_id = m.complaint_id
        ), signed as (
          select 1 as sign, l.tenant_id, l.assignee, l.severity, l.received_at, l.due_at, l.open, l.overdue
          from live l
          union all
          select -1, s.tenant_id, s.assignee, s.severity, s.received_at, s.due_at, s.open, s.overdue
          from stored s
        ), changes as (${countsFrom('signed', timeZone, 'm.sign')}
        ), counted as (${addToCounts('changes')}
        ), gone as (
          delete from ${reportInventoryMarks} m using touched t
          where m.tenant_id = ${tenant} and m.complaint_id = t.complaint_id
            and not exists (select 1 from live l where l.complaint_id = t.complaint_id)
        ), kept as (${keepMarks('live')})
        select count(*) as taken from claimed`);
      return Number(result.rows[0]?.taken ?? 0);
    });
  }

  /** Recount of one tenant's marks and counts, in `tx`, under its lock: see recount. */
  async function recountTenant(tenantId: string, tx: Queryable): Promise<number> {
    await takeCountsLock(tx, tenantId, false);
    const timeZone = await reportTimeZoneOf(tenantId, tx);
    const tenant = sql`${tenantId}::uuid`;
    const result = await tx.execute<{ corrected: string }>(sql`
      with touched as (
        select distinct x.tenant_id, x.complaint_id from ${reportInventoryTouches} x where x.tenant_id = ${tenant}
      ), scope as (
        select c.tenant_id, c.id as complaint_id from ${complaints} c where c.tenant_id = ${tenant}
        union
        select m.tenant_id, m.complaint_id from ${reportInventoryMarks} m where m.tenant_id = ${tenant}
      ), untouched as (
        select s.* from scope s
        where not exists (select 1 from touched t where t.complaint_id = s.complaint_id)
      ), live as (${inventoryMarksOf(sql`untouched`, tenant)}
      ), counted_marks as (
        select l.tenant_id, l.assignee, l.severity, l.received_at, l.due_at, l.open, l.overdue from live l
        union all
        select m.tenant_id, m.assignee, m.severity, m.received_at, m.due_at, m.open, m.overdue
        from ${reportInventoryMarks} m
          join touched t on m.tenant_id = ${tenant} and t.complaint_id = m.complaint_id
      ), differences as (${countsFrom('counted_marks', timeZone)}
        union all
        -- less what the counts say.
        select r.tenant_id, r.period, r.day, r.dimension, r.value, -r.received, -r.due, -r.open_change,
          -r.overdue_change
        from ${reportInventoryCounts} r
        where r.tenant_id = ${tenant}
      ), corrected as (${addToCounts('differences')}
        returning 1
      ), gone as (
        delete from ${reportInventoryMarks} m using untouched u
        where m.tenant_id = ${tenant} and m.complaint_id = u.complaint_id
          and not exists (select 1 from live l where l.complaint_id = u.complaint_id)
      ), kept as (${keepMarks('live')})
      select count(*) as corrected from corrected`);
    // Rows left counting nothing (a day of the zone before a change of zone) go.
    await tx.execute(sql`delete from ${reportInventoryCounts} r
      where r.tenant_id = ${tenant} and (r.received, r.due, r.open_change, r.overdue_change) = (0, 0, 0, 0)`);
    return Number(result.rows[0]?.corrected ?? 0);
  }

  return {
    /**
     * Counts the complaints noted since the last fold again, a tenant at a time, each statement
     * naming its tenant (on Citus, the node that holds it runs it): see foldTenant. A write
     * committed meanwhile notes its complaint again, and the next fold counts it; so does a tenant
     * that another fold or a recount holds. Returns the notes taken.
     */
    async fold(): Promise<number> {
      const noted = await db.execute<{ tenant_id: string }>(
        sql`select distinct x.tenant_id from ${reportInventoryTouches} x order by 1`,
      );
      let folded = 0;
      for (const { tenant_id: tenantId } of noted.rows) {
        for (;;) {
          const taken = await foldTenant(tenantId);
          folded += taken ?? 0;
          if (taken === null || taken < FOLD_BATCH) break;
        }
      }
      return folded;
    },

    /**
     * Brings the marks of one tenant's complaints, or all tenants', to what their rows say, and
     * the counts to the sum of the marks, on the days of each tenant's time zone, a tenant at a
     * time. A complaint noted for the fold keeps its marks as last counted, so the fold still
     * counts its change once; whatever is written meanwhile is exact after the next fold. Returns
     * the groups whose counts were corrected: none, when the triggers and the fold kept them.
     */
    async recount(tenantId: string | null, tx: Queryable = db): Promise<number> {
      return tx.transaction(async (tx) => {
        const tenantIds =
          tenantId === null
            ? (await tx.execute<{ id: string }>(sql`select t.id from ${tenants} t order by t.id`)).rows.map(
                (row) => row.id,
              )
            : [tenantId];
        let corrected = 0;
        for (const id of tenantIds) corrected += await recountTenant(id, tx);
        return corrected;
      });
    },

    /**
     * Puts a tenant's counts on the days of the time zone its settings now name (it reads the
     * zone from them: call it in the transaction that saved it): the counts again from the marks,
     * which hold instants, not days, so no complaint is read.
     */
    async moveToTimeZone(tenantId: string, tx: Queryable): Promise<void> {
      await tx.transaction(async (tx) => {
        await takeCountsLock(tx, tenantId, false);
        const timeZone = await reportTimeZoneOf(tenantId, tx);
        await tx.execute(sql`delete from ${reportInventoryCounts} r where r.tenant_id = ${tenantId}::uuid`);
        await tx.execute(sql`
          with marks as (
            select * from ${reportInventoryMarks} m where m.tenant_id = ${tenantId}::uuid
          ), contributions as (${countsFrom('marks', timeZone)}
          )
          ${addToCounts('contributions')}`);
      });
    },
  };
}

export type ReportInventory = ReturnType<typeof createReportInventory>;
