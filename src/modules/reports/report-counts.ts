import { sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';

/**
 * Upkeep of the SLA compliance counts kept per day (report_deadline_days in
 * src/db/schema/reports.ts). Both write, so they take the primary, never the reports' pool, which
 * may be a read replica.
 */
export function createReportCounts(db: Queryable) {
  return {
    /**
     * Moves the changes written since the last fold into the day rows (fold_report_counts,
     * src/modules/reports/sql/), so a report reads minutes of changes, not weeks. Returns how many.
     */
    async fold(): Promise<number> {
      const result = await db.execute<{ folded: string }>(sql`select fold_report_counts() as folded`);
      return Number(result.rows[0]?.folded ?? 0);
    },

    /**
     * Recounts the day rows from the deadlines and follow-ups, for one tenant or all
     * (recount_report_counts): exact whatever is written meanwhile. Returns the groups corrected.
     */
    async recount(tenantId: string | null): Promise<number> {
      const result = await db.execute<{ corrected: string }>(
        sql`select recount_report_counts(${tenantId}::uuid) as corrected`,
      );
      return Number(result.rows[0]?.corrected ?? 0);
    },
  };
}

export type ReportCounts = ReturnType<typeof createReportCounts>;
