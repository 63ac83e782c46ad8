import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireAuth } from '../../http/plugins/auth.js';
import { problemResponses } from '../../http/problem.js';
import { bearerSecurity } from '../../http/route-helpers.js';
import { complianceQuery, complianceSchema, inventoryQuery, inventorySchema } from './reports.schemas.js';
import type { ReportsService } from './reports.service.js';

const tags = ['reports'];

/** Whether the caller asked for CSV rather than JSON. */
const wantsCsv = (accept: string | undefined) => accept !== undefined && /\btext\/csv\b/i.test(accept);

/** Reports (scope `reports:read`). */
export const reportsRoutes: FastifyPluginAsyncZod<{ reports: ReportsService }> = async (app, { reports }) => {
  app.get(
    '/v1/reports/daily-inventory',
    {
      config: { scope: 'reports:read', sends: ['content-disposition'] },
      schema: {
        operationId: 'getDailyInventory',
        summary: 'The daily inventory (日盘点)',
        description:
          'For a day in the tenant time zone (settings.timeZone): complaints received that day, still open, with a ' +
          'deadline falling due that day, and with one overdue — by handler, by severity and in total. Open and ' +
          'overdue are counted at the end of the day (now, for today). Send `Accept: text/csv` for CSV.',
        tags,
        security: bearerSecurity,
        querystring: inventoryQuery,
        produces: ['application/json', 'text/csv'],
        response: { 200: inventorySchema, ...problemResponses(503) },
      },
    },
    async (request, reply) => {
      const view = await reports.dailyInventory(requireAuth(request).tenantId, request.query.date);
      if (!wantsCsv(request.headers.accept)) return view;
      return (
        reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="daily-inventory-${view.date}.csv"`)
          // A string body goes out as it is, past the JSON serializer the typed reply expects.
          .send(reports.inventoryCsv(view) as unknown as typeof view)
      );
    },
  );

  app.get(
    '/v1/reports/sla-compliance',
    {
      config: { scope: 'reports:read' },
      schema: {
        operationId: 'getSlaCompliance',
        summary: 'SLA compliance and satisfaction over a period',
        description:
          'Deadlines falling due from `from` to `to` (local days, inclusive), per kind: met on time, met late, ' +
          'breached (still unmet) and pending, with the percentage on time; and follow-up outcomes recorded in the ' +
          'period with the average score. Both split by `groupBy` when given.',
        tags,
        security: bearerSecurity,
        querystring: complianceQuery,
        response: { 200: complianceSchema, ...problemResponses(503) },
      },
    },
    async (request) => reports.slaCompliance(requireAuth(request).tenantId, request.query),
  );
};
