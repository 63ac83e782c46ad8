import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
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
import { deadlineSchema, toDeadlineView } from '../deadlines/deadline-views.js';
import {
  complaintEtag,
  toCommunicationView,
  toComplaintView,
  toTimelineEntryView,
} from './complaint-views.js';
import {
  acceptanceOverrideBody,
  communicationSchema,
  complaintKeyParams,
  complaintPageSchema,
  complaintSchema,
  createCommunicationBody,
  createComplaintBody,
  deskFeedbackBody,
  listComplaintsQuery,
  listTimelineQuery,
  timelinePageSchema,
  transitionBody,
  updateComplaintBody,
} from './complaints.schemas.js';
import type { ComplaintsService } from './complaints.service.js';

const tags = ['complaints'];

/** REST routes for complaints: thin handlers over ComplaintsService. */
export const complaintsRoutes: FastifyPluginAsyncZod<{
  complaints: ComplaintsService;
  publicBaseUrl?: string;
}> = async (app, { complaints, publicBaseUrl }) => {
  app.post(
    '/v1/complaints',
    {
      config: { scope: 'complaints:write', idempotent: true, sends: ['location', 'etag'] },
      schema: {
        operationId: 'createComplaint',
        summary: 'Take in a complaint',
        description:
          'Creates a complaint and answers 201 with it. Send `Idempotency-Key` to make retries safe: the same ' +
          'key and body replay the first answer, a different body is 422, and a retry while the first is ' +
          'running is 409. A repeated `externalRef` is 409 naming the existing complaint.\n\n' +
          'Acceptance checks: a complaint about an event older than its category’s acceptance window, or from a ' +
          "complainant related as 'other' without `complainantAuthorised`, is still taken in (201) and at once " +
          '`rejected`, with `rejection` {code, detail} saying why. Major-complaint rules make it major, with ' +
          '`majorReasons`: `severity: major` (manual), a safety category, a repeat of the same customer and ' +
          'category, enough complaints linked by `incidentKey` (collective), `mediaExposure`, ' +
          '`regulatorInvolved`, `premisesBlocked`, `highValueReturn`, `negativeMediaCoverage`. An `assignee` (or first receiver) listed in `subjectStaff` is 409 ' +
          '`conflict_of_interest`.',
        tags,
        security: bearerSecurity,
        headers: actingHeaders.extend({
          'idempotency-key': z
            .string()
            .min(1)
            .max(255)
            .optional()
            .describe('Makes the request safe to retry; kept ≥ 24 h.'),
        }),
        body: createComplaintBody,
        response: { 201: complaintSchema, ...problemResponses(409, 413, 415, 422, 503) },
      },
    },
    async (request, reply) => {
      const { row, nextDeadline } = await complaints.create(
        actingContext(request),
        request.body,
        idempotencyOf(request),
      );
      return reply
        .code(201)
        .header('location', resourceUrl(publicBaseUrl, `/v1/complaints/${row.id}`))
        .header('etag', complaintEtag(row))
        .send(toComplaintView(row, nextDeadline));
    },
  );

  app.get(
    '/v1/complaints',
    {
      config: { scope: 'complaints:read' },
      schema: {
        operationId: 'listComplaints',
        summary: 'List and search complaints',
        description:
          'Newest received first. Pages with `limit` (≤ 100) and the opaque `nextCursor`; a page never repeats or ' +
          'skips a complaint that existed when paging started, whatever is added meanwhile.',
        tags,
        security: bearerSecurity,
        querystring: listComplaintsQuery,
        response: { 200: complaintPageSchema, ...problemResponses() },
      },
    },
    async (request) => {
      const { states, nextCursor } = await complaints.list(requireAuth(request).tenantId, request.query);
      return { data: states.map((state) => toComplaintView(state.row, state.nextDeadline)), nextCursor };
    },
  );

  app.get(
    '/v1/complaints/:id',
    {
      config: { scope: 'complaints:read', sends: ['etag'] },
      schema: {
        operationId: 'getComplaint',
        summary: 'Get a complaint by id or reference',
        description:
          'Answers the complaint with its `ETag`, for `If-Match` on later changes. Send that ETag in `If-None-Match` to get 304 while the complaint is unchanged.',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        response: { 200: complaintSchema, ...problemResponses(404) },
      },
    },
    async (request, reply) => {
      // The ETag covers the editable complaint (its version) for If-Match; nextDeadline is derived.
      const { row, nextDeadline } = await complaints.get(requireAuth(request).tenantId, request.params.id);
      return reply.header('etag', complaintEtag(row)).send(toComplaintView(row, nextDeadline));
    },
  );

  app.patch(
    '/v1/complaints/:id',
    {
      config: { scope: 'complaints:write', sends: ['etag'] },
      schema: {
        operationId: 'updateComplaint',
        summary: 'Edit a complaint',
        description:
          'Changes the fields sent (JSON merge semantics; `null` clears a field). Requires `If-Match` with the ' +
          'ETag last read: 428 without it, 412 when the complaint changed since. Changing the category to a ' +
          'safety category, setting `mediaExposure`, `regulatorInvolved`, `premisesBlocked`, `highValueReturn` or ' +
          '`negativeMediaCoverage`, or linking to an incident with ' +
          'enough complaints makes the complaint major (`complaint.made_major`, escalated, report-up deadline); ' +
          '`severity: general` makes it general again. An `assignee` who is in `subjectStaff` or declared a ' +
          'conflict is 409 `conflict_of_interest`.',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        headers: actingHeaders.extend({ 'if-match': z.string().max(1000).optional() }),
        body: updateComplaintBody,
        response: { 200: complaintSchema, ...problemResponses(404, 409, 412, 413, 415, 428) },
      },
    },
    async (request, reply) => {
      const { row, nextDeadline } = await complaints.update(
        actingContext(request),
        request.params.id,
        request.headers['if-match'],
        request.body,
      );
      return reply.header('etag', complaintEtag(row)).send(toComplaintView(row, nextDeadline));
    },
  );

  app.post(
    '/v1/complaints/:id/transitions',
    {
      config: { scope: 'complaints:write', idempotent: true, sends: ['etag'] },
      schema: {
        operationId: 'transitionComplaint',
        summary: 'Change the status of a complaint',
        description:
          'received → acknowledged → investigating ⇄ awaiting_customer → resolved → closed; resolved/closed → ' +
          'investigating reopens; rejected and withdrawn end it. An illegal move is 409 naming the current ' +
          'status and the allowed ones. `If-Match` is optional here.',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        headers: idempotentWriteHeaders.extend({ 'if-match': z.string().max(1000).optional() }),
        body: transitionBody,
        response: { 200: complaintSchema, ...problemResponses(404, 409, 412, 413, 415) },
      },
    },
    async (request, reply) => {
      const { row, nextDeadline } = await complaints.transition(
        actingContext(request),
        request.params.id,
        request.body,
        request.headers['if-match'],
        idempotencyOf(request),
      );
      return reply.header('etag', complaintEtag(row)).send(toComplaintView(row, nextDeadline));
    },
  );

  app.post(
    '/v1/complaints/:id/acceptance-override',
    {
      config: { scope: 'complaints:write', idempotent: true, sends: ['etag'] },
      schema: {
        operationId: 'overrideAcceptance',
        summary: 'Take in a complaint the acceptance checks declined',
        description:
          'A supervisor overrides a rejection at intake (`outside_acceptance_window`, `not_a_stakeholder`, `representative_not_authorised`) with a ' +
          'reason: the complaint is `received` again, with its intake deadlines running from now, and reported up ' +
          'if it is major. The override stays on the complaint (`acceptanceOverride`) and its timeline. 409 ' +
          '`not_rejected_at_intake` for any other complaint.',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        headers: idempotentWriteHeaders,
        body: acceptanceOverrideBody,
        response: { 200: complaintSchema, ...problemResponses(404, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const { row, nextDeadline } = await complaints.overrideAcceptance(
        actingContext(request),
        request.params.id,
        request.body,
        idempotencyOf(request),
      );
      return reply.header('etag', complaintEtag(row)).send(toComplaintView(row, nextDeadline));
    },
  );

  app.post(
    '/v1/complaints/:id/communications',
    {
      config: { scope: 'complaints:write', idempotent: true },
      schema: {
        operationId: 'recordCommunication',
        summary: 'Record a contact with the customer',
        description:
          "Records a contact with the customer (its channel, direction and content) on the complaint's timeline. Send `Idempotency-Key` to make retries safe.",
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        headers: idempotentWriteHeaders,
        body: createCommunicationBody,
        response: { 201: communicationSchema, ...problemResponses(404, 413, 415) },
      },
    },
    async (request, reply) => {
      const row = await complaints.recordCommunication(
        actingContext(request),
        request.params.id,
        request.body,
        idempotencyOf(request),
      );
      return reply.code(201).send(toCommunicationView(row));
    },
  );

  app.post(
    '/v1/complaints/:id/desk-feedback',
    {
      config: { scope: 'complaints:write', idempotent: true },
      schema: {
        operationId: 'recordDeskFeedback',
        summary: 'Record the feedback of a resolution to the central service desk',
        description:
          'A resolution is fed back to the central service desk within the policy’s `deskFeedback` target (24 hours by ' +
          'default, seed 000): resolving opens a `desk_feedback` deadline, and this meets it, on the timeline and as ' +
          '`complaint.desk_feedback_recorded`. Answers with the deadline met. 409 `desk_feedback_not_owed` when none is ' +
          'open (the complaint is not resolved, or the feedback was given). Send `Idempotency-Key` to make retries safe.',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        headers: idempotentWriteHeaders,
        body: deskFeedbackBody,
        response: { 200: deadlineSchema, ...problemResponses(404, 409, 413, 415) },
      },
    },
    async (request) =>
      toDeadlineView(
        await complaints.recordDeskFeedback(
          actingContext(request),
          request.params.id,
          request.body,
          idempotencyOf(request),
        ),
      ),
  );

  app.get(
    '/v1/complaints/:id/timeline',
    {
      config: { scope: 'complaints:read' },
      schema: {
        operationId: 'getComplaintTimeline',
        summary: 'The append-only history of a complaint',
        description: 'Oldest first. Entries are never changed or removed.',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        querystring: listTimelineQuery,
        response: { 200: timelinePageSchema, ...problemResponses(404) },
      },
    },
    async (request) => {
      const { rows, nextCursor } = await complaints.timeline(
        requireAuth(request).tenantId,
        request.params.id,
        request.query,
      );
      return { data: rows.map(toTimelineEntryView), nextCursor };
    },
  );
};
