import { stringify } from 'csv-stringify/sync';
import type { Queryable } from '../../db/client.js';
import { sqlState, waitedTooLongForConnection } from '../../db/sql-errors.js';
import type { Clock } from '../../lib/clock.js';
import { ReportTimedOutError, ValidationError } from '../../lib/errors.js';
import { dayBounds, daysBetween, localToday, reportPeriod } from './report-periods.js';
import type { InventoryCounts, ReportsRepository } from './reports.repository.js';
import type { ComplianceQuery, ComplianceView, InventoryView } from './reports.schemas.js';

const MAX_PERIOD_DAYS = 366;

/**
 * SQLSTATEs that end a report without its answer but through no fault of the request: the reports'
 * statement timeout (57014), and a read replica cancelling it to replay changes (40001).
 */
const CUT_OFF_STATES = new Set(['57014', '40001']);

/**
 * Runs a report query, answering 503 report_timed_out when PostgreSQL cut it off, or when it
 * waited as long for one of the reports' connections, all taken by other reports.
 */
async function cutOffAsTimeout<T>(query: Promise<T>): Promise<T> {
  try {
    return await query;
  } catch (error) {
    const state = sqlState(error);
    if ((state && CUT_OFF_STATES.has(state)) || waitedTooLongForConnection(error)) {
      throw new ReportTimedOutError({ cause: error });
    }
    throw error;
  }
}
const onlyCounts = ({ received, open, dueToday, overdue }: InventoryCounts) => ({
  received,
  open,
  dueToday,
  overdue,
});

/** Reports (DOMAIN §1 daily inventory, §6 statistics), computed in PostgreSQL, in the tenant's time zone. */
export function createReportsService(deps: {
  reports: ReportsRepository;
  timeZoneOf: (tenantId: string, tx?: Queryable) => Promise<string>;
  clock: Clock;
}) {
  const { reports, clock } = deps;

  return {
    /** What was received, is open, falls due and is overdue on a day: by handler, by severity, in total. */
    async dailyInventory(tenantId: string, date: string | undefined): Promise<InventoryView> {
      const timeZone = await deps.timeZoneOf(tenantId);
      const now = clock.now();
      const day = date ?? localToday(now, timeZone);
      if (day > localToday(now, timeZone)) {
        throw new ValidationError([{ field: 'querystring.date', message: 'must not be after today' }]);
      }
      const { start, end } = dayBounds(day, timeZone);
      const asOf = end.getTime() < now.getTime() ? end : now;
      const rows = await cutOffAsTimeout(reports.dailyInventory(tenantId, { start, end, asOf, timeZone }));
      const total = rows.find((row) => row.dimension === 'total');
      return {
        date: day,
        timeZone,
        from: start.toISOString(),
        to: end.toISOString(),
        asOf: asOf.toISOString(),
        totals: total ? onlyCounts(total) : { received: 0, open: 0, dueToday: 0, overdue: 0 },
        byHandler: rows
          .filter((row) => row.dimension === 'assignee')
          .map((row) => ({ assignee: row.value, ...onlyCounts(row) })),
        bySeverity: rows
          .filter((row) => row.dimension === 'severity')
          .map((row) => ({ severity: row.value!, ...onlyCounts(row) })),
      };
    },

    /** The inventory as CSV: one row for the total, then one per handler and per severity. */
    inventoryCsv(view: InventoryView): string {
      const line = (dimension: string, value: string | null, counts: InventoryCounts) => ({
        date: view.date,
        dimension,
        value: value ?? '',
        ...onlyCounts(counts),
      });
      return stringify(
        [
          line('total', null, view.totals),
          ...view.byHandler.map((row) => line('handler', row.assignee, row)),
          ...view.bySeverity.map((row) => line('severity', row.severity, row)),
        ],
        { header: true, columns: ['date', 'dimension', 'value', 'received', 'open', 'dueToday', 'overdue'] },
      );
    },

    /** Deadlines due in the period, met on time, late, breached or pending, and follow-up satisfaction. */
    async slaCompliance(tenantId: string, query: ComplianceQuery): Promise<ComplianceView> {
      if (daysBetween(query.from, query.to) > MAX_PERIOD_DAYS) {
        throw new ValidationError([
          { field: 'querystring.to', message: `must be at most ${MAX_PERIOD_DAYS} days after from` },
        ]);
      }
      const timeZone = await deps.timeZoneOf(tenantId);
      const period = reportPeriod(query.from, query.to, timeZone);
      const groupBy = query.groupBy ?? 'none';
      const [deadlines, satisfaction] = await cutOffAsTimeout(
        Promise.all([
          reports.slaCompliance(tenantId, period, groupBy),
          reports.satisfaction(tenantId, period, groupBy),
        ]),
      );
      return {
        from: query.from,
        to: query.to,
        timeZone,
        groupBy: query.groupBy ?? null,
        deadlines: deadlines.map((row) => {
          const decided = row.metOnTime + row.metLate + row.breached;
          return {
            ...row,
            kind: row.kind as ComplianceView['deadlines'][number]['kind'],
            onTimePercent: decided === 0 ? null : Math.round((row.metOnTime / decided) * 1000) / 10,
          };
        }),
        satisfaction,
      };
    },
  };
}

export type ReportsService = ReturnType<typeof createReportsService>;
