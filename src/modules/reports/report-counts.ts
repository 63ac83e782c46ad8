import { sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { DEFAULT_TIME_ZONE } from '../settings/settings.schemas.js';
import { createReportInventory } from './report-inventory.js';

/**
 * Upkeep of the counts the reports keep per local day: SLA compliance and satisfaction
 * (report_deadline_days, report_follow_up_days in src/db/schema/reports.ts) and the daily
 * inventory (report_inventory_counts, report-inventory.ts). All of it writes, so it takes the
 * primary, never the reports' pool, which may be a read replica.
 */
export function createReportCounts(db: Queryable) {
  const inventory = createReportInventory(db);

  /**
   * Recounts the kept counts from the deadlines, follow-ups and complaints, for one tenant or all
   * (recount_report_counts and the inventory's recount), on the days of each tenant's time zone:
   * exact whatever is written meanwhile. Returns the groups corrected.
   */
  async function recount(tenantId: string | null, tx: Queryable = db): Promise<number> {
    return (await recountCompliance(tenantId, tx)) + (await inventory.recount(tenantId, tx));
  }

  async function recountCompliance(tenantId: string | null, tx: Queryable): Promise<number> {
    const result = await tx.execute<{ corrected: string }>(
      sql`select recount_report_counts(${tenantId}::uuid, ${DEFAULT_TIME_ZONE}) as corrected`,
    );
    return Number(result.rows[0]?.corrected ?? 0);
  }

  return {
    recount,

    /**
     * Moves the changes written since the last fold into the day rows (fold_report_counts,
     * src/modules/reports/sql/), and counts the complaints the inventory noted again, so a report
     * reads minutes of changes, not weeks. Returns how many.
     */
    async fold(): Promise<number> {
      const result = await db.execute<{ folded: string }>(
        sql`select fold_report_counts(${DEFAULT_TIME_ZONE}) as folded`,
      );
      return Number(result.rows[0]?.folded ?? 0) + (await inventory.fold());
    },

    /**
     * Puts a tenant's counts on the days of the time zone its settings now name, in the
     * transaction that saved it (`tx`). PostgreSQL is asked for the zone first, so one it does not
     * know fails here (SQLSTATE 22023) even for a tenant with nothing to count yet, and never in
     * a later fold.
     */
    async moveToTimeZone(tenantId: string, timeZone: string, tx: Queryable): Promise<void> {
      await tx.execute(sql`select now() at time zone ${timeZone}`);
      await recountCompliance(tenantId, tx);
      await inventory.moveToTimeZone(tenantId, tx);
    },
  };
}

export type ReportCounts = ReturnType<typeof createReportCounts>;
