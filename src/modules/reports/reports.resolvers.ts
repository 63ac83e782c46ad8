import { parseArgs, requireScope, withoutNulls } from '../../graphql/context.js';
import { enumSdl, type GraphqlModule } from '../../graphql/module.js';
import { GROUP_BY } from './reports.repository.js';
import { complianceQuery, inventoryQuery } from './reports.schemas.js';
import type { ReportsService } from './reports.service.js';

/** The counts every line of the daily inventory carries, in REST's field order. */
const INVENTORY_COUNTS = /* GraphQL */ `
    received: Int!
    "Open (received to awaiting_customer) at the end of the day, or now for today."
    open: Int!
    "With a deadline falling due that day."
    dueToday: Int!
    "With a deadline past due and unmet at the end of the day, or now."
    overdue: Int!
`;

const typeDefs = /* GraphQL */ `
  ${enumSdl('ReportGroupBy', GROUP_BY, "What a report splits by: the complaint's channel, category, severity or assignee.")}

  "A day's counts, in total."
  type InventoryCounts {
    ${INVENTORY_COUNTS}
  }

  "A day's counts for one handler."
  type HandlerInventory {
    "Null for complaints nobody is assigned."
    assignee: String
    ${INVENTORY_COUNTS}
  }

  "A day's counts for one severity."
  type SeverityInventory {
    severity: Severity!
    ${INVENTORY_COUNTS}
  }

  "The daily inventory (日盘点), as GET /v1/reports/daily-inventory shows it."
  type DailyInventory {
    "The day, YYYY-MM-DD in the tenant time zone."
    date: String!
    timeZone: String!
    "Start of the day."
    from: DateTime!
    "End of the day (the next day's start)."
    to: DateTime!
    "The instant open and overdue are counted at."
    asOf: DateTime!
    totals: InventoryCounts!
    byHandler: [HandlerInventory!]!
    bySeverity: [SeverityInventory!]!
  }

  "Deadlines of one kind (and group) falling due in the period."
  type DeadlineCompliance {
    "The group's value; null without groupBy or where the complaint has none."
    group: String
    kind: DeadlineKind!
    metOnTime: Int!
    metLate: Int!
    "Past due and still unmet."
    breached: Int!
    pending: Int!
    "Met on time ÷ (met on time + met late + breached) × 100; null when none is decided."
    onTimePercent: Float
  }

  "Follow-up outcomes recorded in the period, for one group."
  type FollowUpSatisfaction {
    group: String
    satisfied: Int!
    unsatisfied: Int!
    unreachable: Int!
    declined: Int!
    scored: Int!
    "Mean follow-up score (1–5), null when none was given."
    averageScore: Float
  }

  "SLA compliance and satisfaction over a period, as GET /v1/reports/sla-compliance shows it."
  type SlaComplianceReport {
    "First day, YYYY-MM-DD in the tenant time zone."
    from: String!
    "Last day (inclusive)."
    to: String!
    timeZone: String!
    groupBy: ReportGroupBy
    deadlines: [DeadlineCompliance!]!
    satisfaction: [FollowUpSatisfaction!]!
  }

  extend type Query {
    """
    What was received, is open, falls due and is overdue on a day (YYYY-MM-DD in the tenant time
    zone, today by default): by handler, by severity and in total (scope reports:read). CSV is REST's.
    """
    dailyInventory(date: String): DailyInventory! @complexity(value: 10)
    """
    Deadlines falling due from \`from\` to \`to\` (local days, inclusive, at most 366) per kind, and
    follow-up outcomes recorded then, split by \`groupBy\` when given (scope reports:read).
    """
    slaCompliance(from: String!, to: String!, groupBy: ReportGroupBy): SlaComplianceReport! @complexity(value: 10)
  }
`;

/** Reports over GraphQL (scope reports:read): the same ReportsService calls as REST, as JSON. */
export function reportsGraphql(deps: { reports: ReportsService }): GraphqlModule {
  const { reports } = deps;
  return {
    typeDefs,
    resolvers: {
      Query: {
        async dailyInventory(_root, args, context) {
          const { tenantId } = requireScope(context, 'reports:read');
          const { date } = parseArgs(inventoryQuery, withoutNulls(args), 'args');
          return reports.dailyInventory(tenantId, date);
        },
        async slaCompliance(_root, args, context) {
          const { tenantId } = requireScope(context, 'reports:read');
          const query = parseArgs(complianceQuery, withoutNulls(args), 'args');
          return reports.slaCompliance(tenantId, query);
        },
      },
    },
  };
}
