import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireAuth } from '../../http/plugins/auth.js';
import { idempotencyOf } from '../../http/plugins/idempotency.js';
import { problemResponses } from '../../http/problem.js';
import {
  actingContext,
  actingHeaders,
  bearerSecurity,
  idempotentWriteHeaders,
  resourceUrl,
} from '../../http/route-helpers.js';
import { complaintKeyParams } from '../complaints/complaints.schemas.js';
import type { ComplaintsService } from '../complaints/complaints.service.js';
import { toPreRefundView, toResolutionView } from './resolution-views.js';
import {
  approveBody,
  choiceBody,
  createResolutionBody,
  executeBody,
  preRefundBody,
  preRefundListSchema,
  preRefundParams,
  preRefundSchema,
  rejectBody,
  resolutionListSchema,
  resolutionParams,
  resolutionSchema,
  verificationBody,
} from './resolutions.schemas.js';
import type { ResolutionsService } from './resolutions.service.js';

const tags = ['resolutions'];

/** Resolutions of a complaint and pre-refunds: thin handlers over ResolutionsService. */
export const resolutionsRoutes: FastifyPluginAsyncZod<{
  resolutions: ResolutionsService;
  complaints: ComplaintsService;
  publicBaseUrl?: string;
}> = async (app, { resolutions, complaints, publicBaseUrl }) => {
  app.post(
    '/v1/complaints/:id/resolutions',
    {
      config: { scope: 'complaints:write', idempotent: true },
      schema: {
        operationId: 'proposeResolution',
        summary: 'Propose resolution options',
        description:
          'One or more options (refund, exchange, repair, compensation, apology, explanation, other), with an ' +
          'amount and ISO 4217 currency where money is involved. An option above the proposer’s limit in the ' +
          'approval matrix (settings.approvalLimits) is `pending` until approved; one above every limit is 422 ' +
          '`approval_limit_unreachable`. One proposal at a time: 409 `resolution_already_open`.',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        headers: idempotentWriteHeaders,
        body: createResolutionBody,
        response: { 201: resolutionSchema, ...problemResponses(404, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const row = await resolutions.propose(
        actingContext(request),
        request.params.id,
        request.body,
        idempotencyOf(request),
      );
      return reply
        .code(201)
        .header(
          'location',
          resourceUrl(publicBaseUrl, `/v1/complaints/${row.complaintId}/resolutions/${row.id}`),
        )
        .send(toResolutionView(row));
    },
  );

  app.get(
    '/v1/complaints/:id/resolutions',
    {
      config: { scope: 'complaints:read' },
      schema: {
        operationId: 'listResolutions',
        summary: 'The resolutions of a complaint, oldest first',
        description:
          'Every resolution proposed for the complaint, oldest first, with its options and their approvals.',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        response: { 200: resolutionListSchema, ...problemResponses(404) },
      },
    },
    async (request) => {
      const { tenantId } = requireAuth(request);
      const complaint = await complaints.getRow(tenantId, request.params.id);
      return { data: (await resolutions.list(tenantId, complaint.id)).map(toResolutionView) };
    },
  );

  app.get(
    '/v1/complaints/:id/resolutions/:resolutionId',
    {
      config: { scope: 'complaints:read' },
      schema: {
        operationId: 'getResolution',
        summary: 'A resolution of a complaint',
        description:
          "One resolution of the complaint, with its options, approvals and the customer's choice.",
        tags,
        security: bearerSecurity,
        params: resolutionParams,
        response: { 200: resolutionSchema, ...problemResponses(404) },
      },
    },
    async (request) => {
      const { tenantId } = requireAuth(request);
      const complaint = await complaints.getRow(tenantId, request.params.id);
      return toResolutionView(await resolutions.get(tenantId, complaint.id, request.params.resolutionId));
    },
  );

  const decisionDescription =
    'By an approver whose role’s limit covers every option decided (422 `approver_not_authorised` otherwise), ' +
    'not the proposer (422 `approver_is_proposer`). Decides the options in `optionIds`, or all awaiting approval.';

  app.post(
    '/v1/complaints/:id/resolutions/:resolutionId/approve',
    {
      config: { scope: 'complaints:write' },
      schema: {
        operationId: 'approveResolution',
        summary: 'Approve options awaiting approval',
        description: decisionDescription,
        tags,
        security: bearerSecurity,
        params: resolutionParams,
        headers: actingHeaders,
        body: approveBody,
        response: { 200: resolutionSchema, ...problemResponses(404, 409, 413, 415, 422) },
      },
    },
    async (request) =>
      toResolutionView(
        await resolutions.approve(
          actingContext(request),
          request.params.id,
          request.params.resolutionId,
          request.body,
        ),
      ),
  );

  app.post(
    '/v1/complaints/:id/resolutions/:resolutionId/reject',
    {
      config: { scope: 'complaints:write' },
      schema: {
        operationId: 'rejectResolution',
        summary: 'Reject options awaiting approval',
        description: `${decisionDescription} A proposal whose every option is rejected ends \`rejected\`.`,
        tags,
        security: bearerSecurity,
        params: resolutionParams,
        headers: actingHeaders,
        body: rejectBody,
        response: { 200: resolutionSchema, ...problemResponses(404, 409, 413, 415, 422) },
      },
    },
    async (request) =>
      toResolutionView(
        await resolutions.reject(
          actingContext(request),
          request.params.id,
          request.params.resolutionId,
          request.body,
        ),
      ),
  );

  app.post(
    '/v1/complaints/:id/resolutions/:resolutionId/choice',
    {
      config: { scope: 'complaints:write' },
      schema: {
        operationId: 'recordResolutionChoice',
        summary: 'Record the customer’s choice',
        description:
          'The option the customer chose (one awaiting approval is 409 `option_awaiting_approval`, a rejected one ' +
          '409 `option_rejected`), or `declined: true` when they accept none, which ends the proposal.',
        tags,
        security: bearerSecurity,
        params: resolutionParams,
        headers: actingHeaders,
        body: choiceBody,
        response: { 200: resolutionSchema, ...problemResponses(404, 409, 413, 415) },
      },
    },
    async (request) =>
      toResolutionView(
        await resolutions.recordChoice(
          actingContext(request),
          request.params.id,
          request.params.resolutionId,
          request.body,
        ),
      ),
  );

  app.post(
    '/v1/complaints/:id/resolutions/:resolutionId/execute',
    {
      config: { scope: 'complaints:write' },
      schema: {
        operationId: 'executeResolution',
        summary: 'Carry out the chosen option and resolve the complaint',
        description:
          'Records the resolution notice sent to the customer (measures, reasons, follow-up plan) as an outbound ' +
          'communication, written or rendered from a reply template, and moves the complaint to `resolved` ' +
          '(409 `invalid_transition` from a status that cannot). The follow-up visit is scheduled unless exempt. ' +
          'Nothing unapproved or unchosen is executed: 409 `resolution_awaiting_approval` / `resolution_choice_missing`.',
        tags,
        security: bearerSecurity,
        params: resolutionParams,
        headers: actingHeaders,
        body: executeBody,
        response: { 200: resolutionSchema, ...problemResponses(404, 409, 413, 415, 422) },
      },
    },
    async (request) =>
      toResolutionView(
        await resolutions.execute(
          actingContext(request),
          request.params.id,
          request.params.resolutionId,
          request.body,
        ),
      ),
  );

  app.post(
    '/v1/complaints/:id/pre-refunds',
    {
      config: { scope: 'complaints:write', idempotent: true, sends: ['location'] },
      schema: {
        operationId: 'issuePreRefund',
        summary: 'Refund the principal at once (预退费)',
        description:
          'Records the refund and starts a `pre_refund_verification` deadline (policy target ' +
          '`preRefundVerification`, 3 days by default), met by the verification. No approver waits, so the amount ' +
          'must be within the refunder’s own limit (422 `pre_refund_over_limit`).',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        headers: idempotentWriteHeaders,
        body: preRefundBody,
        response: { 201: preRefundSchema, ...problemResponses(404, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const row = await resolutions.issuePreRefund(
        actingContext(request),
        request.params.id,
        request.body,
        idempotencyOf(request),
      );
      return reply
        .code(201)
        .header('location', resourceUrl(publicBaseUrl, `/v1/complaints/${row.complaintId}/pre-refunds`))
        .send(toPreRefundView(row));
    },
  );

  app.get(
    '/v1/complaints/:id/pre-refunds',
    {
      config: { scope: 'complaints:read' },
      schema: {
        operationId: 'listPreRefunds',
        summary: 'The pre-refunds of a complaint',
        description:
          'The pre-refunds issued on the complaint before its resolution, and whether each was verified.',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        response: { 200: preRefundListSchema, ...problemResponses(404) },
      },
    },
    async (request) => {
      const { tenantId } = requireAuth(request);
      const complaint = await complaints.getRow(tenantId, request.params.id);
      return { data: (await resolutions.listPreRefunds(tenantId, complaint.id)).map(toPreRefundView) };
    },
  );

  app.post(
    '/v1/complaints/:id/pre-refunds/:preRefundId/verification',
    {
      config: { scope: 'complaints:write' },
      schema: {
        operationId: 'verifyPreRefund',
        summary: 'Record the verification of a pre-refund',
        description:
          'Meets the verification deadline; a second verification is 409 `pre_refund_already_verified`.',
        tags,
        security: bearerSecurity,
        params: preRefundParams,
        headers: actingHeaders,
        body: verificationBody,
        response: { 200: preRefundSchema, ...problemResponses(404, 409, 413, 415, 422) },
      },
    },
    async (request) =>
      toPreRefundView(
        await resolutions.verifyPreRefund(
          actingContext(request),
          request.params.id,
          request.params.preRefundId,
          request.body,
        ),
      ),
  );
};
