import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireAuth } from '../../http/plugins/auth.js';
import { problemResponses } from '../../http/problem.js';
import { actingContext, actingHeaders, bearerSecurity } from '../../http/route-helpers.js';
import { complaintKeyParams } from '../complaints/complaints.schemas.js';
import { toDeadlineView } from '../deadlines/deadline-views.js';
import {
  extendedDeadlineSchema,
  extensionBody,
  regimeCatalogue,
  regimeListSchema,
  regimeReportQuery,
  regimeReportSchema,
} from './regulatory-regimes.schemas.js';
import type { RegulatoryRegimesService } from './regulatory-regimes.service.js';

/**
 * The regulatory template catalogue (scope `policies:manage`), read-only as it lives in code, and
 * the extension of a deadline under its regime.
 */
export const regulatoryRegimesRoutes: FastifyPluginAsyncZod<{ regimes: RegulatoryRegimesService }> = async (
  app,
  { regimes },
) => {
  app.get(
    '/v1/reports/regulatory-compliance',
    {
      config: { scope: 'reports:read', sends: ['content-disposition'] },
      schema: {
        operationId: 'getRegulatoryCompliance',
        summary: 'Compliance with a regulatory regime over a period',
        description:
          'Complaints received from `from` to `to` (local days, inclusive) under a policy made from `regime`: ' +
          'received, closed, for each clock of the regime the share answered within it (of those it has decided), ' +
          'extensions used and breaches. Send `Accept: text/csv` for CSV, one row per clock.',
        tags: ['reports'],
        security: bearerSecurity,
        querystring: regimeReportQuery,
        produces: ['application/json', 'text/csv'],
        response: { 200: regimeReportSchema, ...problemResponses() },
      },
    },
    async (request, reply) => {
      const view = await regimes.report(requireAuth(request).tenantId, request.query);
      if (!(request.headers.accept && /\btext\/csv\b/i.test(request.headers.accept))) return view;
      return (
        reply
          .type('text/csv; charset=utf-8')
          .header(
            'content-disposition',
            `attachment; filename="regulatory-compliance-${view.regime}-${view.from}-${view.to}.csv"`,
          )
          // A string body goes out as it is, past the JSON serializer the typed reply expects.
          .send(regimes.reportCsv(view) as unknown as typeof view)
      );
    },
  );

  app.post(
    '/v1/complaints/:id/deadlines/:deadlineId/extensions',
    {
      config: { scope: 'complaints:write' },
      schema: {
        operationId: 'extendDeadline',
        summary: 'Extend a deadline as its regulatory regime allows',
        description:
          'Takes the next extension step of the regime the deadline’s SLA policy was made from (PSD2: 15 → 35 ' +
          'business days; China: 15 → 30 → 60 days; Regulation E: 10 business → 45 → 90 days), counted from the ' +
          'deadline’s start. The approver’s role must be at or above the step’s `approverRole` on the tenant’s ' +
          'role ladder (422 `approver_not_authorised`). The reason goes on the timeline, the customer notice is ' +
          'recorded as an outbound communication, and `deadline.extended` is emitted. Only a pending deadline ' +
          'not yet due moves (409 `deadline_not_pending`); a regime without (further) extensions answers 422 ' +
          '`extension_not_allowed` or 409 `extension_limit_reached`.',
        tags: ['deadlines'],
        security: bearerSecurity,
        params: complaintKeyParams.extend({ deadlineId: z.uuid() }),
        headers: actingHeaders,
        body: extensionBody,
        response: { 200: extendedDeadlineSchema, ...problemResponses(404, 409, 413, 415, 422) },
      },
    },
    async (request) => {
      const { deadline, extension } = await regimes.extend(
        actingContext(request),
        request.params.id,
        request.params.deadlineId,
        request.body,
      );
      return { deadline: toDeadlineView(deadline), extension };
    },
  );

  app.get(
    '/v1/regulatory-regimes',
    {
      config: { scope: 'policies:manage' },
      schema: {
        operationId: 'listRegulatoryRegimes',
        summary: 'List the regulatory templates',
        description:
          'Each regime’s clocks, extension steps and holding-response step, every value with the rule it comes ' +
          'from. Apply one with POST /v1/sla-policies/from-regime.',
        tags: ['sla-policies'],
        security: bearerSecurity,
        response: { 200: regimeListSchema, ...problemResponses() },
      },
    },
    async () => ({ data: regimeCatalogue() }),
  );
};
