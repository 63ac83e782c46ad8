import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireAuth } from '../../http/plugins/auth.js';
import { idempotencyOf } from '../../http/plugins/idempotency.js';
import { problemResponses } from '../../http/problem.js';
import { bearerSecurity, resourceUrl } from '../../http/route-helpers.js';
import { etagForVersion } from '../../lib/etag.js';
import type { WebhookReplays } from './webhook-replays.js';
import {
  createWebhookBody,
  deliveryIdParams,
  deliveryPageSchema,
  deliverySchema,
  listDeliveriesQuery,
  listWebhooksQuery,
  pingAcceptedSchema,
  REPLAY_MAX_RANGE_DAYS,
  replayIdParams,
  replaySchema,
  replayWebhookBody,
  rotatedSecretSchema,
  toReplayView,
  toWebhookView,
  updateWebhookBody,
  webhookIdParams,
  webhookPageSchema,
  webhookSchema,
  webhookWithSecretSchema,
} from './webhooks.schemas.js';
import { callerOf, type WebhooksService } from './webhooks.service.js';

const tags = ['webhooks'];
const config = { scope: 'webhooks:manage' } as const;

/** Webhook subscriptions, their secrets and delivery log (scope `webhooks:manage`). */
export const webhooksRoutes: FastifyPluginAsyncZod<{
  webhooks: WebhooksService;
  replays: WebhookReplays;
  publicBaseUrl?: string;
}> = async (app, { webhooks, replays, publicBaseUrl }) => {
  app.post(
    '/v1/webhooks',
    {
      config: { ...config, sends: ['location', 'etag', 'cache-control'] },
      schema: {
        operationId: 'createWebhook',
        summary: 'Subscribe an endpoint to events',
        description:
          'Answers with the signing secret (`whsec_…`) this once; no later answer shows it. Each delivery is a ' +
          'POST of the event envelope with `webhook-id`, `webhook-timestamp` and `webhook-signature` (Standard ' +
          'Webhooks). A URL whose host is or resolves to a non-public address is 422 `webhook_url_refused`. ' +
          'Events other than `webhook.*` carry their complaint, customer included: subscribing to one also ' +
          'needs `complaints:read` (403 `insufficient_scope` otherwise). Deliveries carry personal data masked ' +
          'unless `personalData` is `clear`, which needs `personal_data:read` (403 ' +
          '`clear_personal_data_not_allowed` otherwise); the signature covers the body as sent.',
        tags,
        security: bearerSecurity,
        body: createWebhookBody,
        response: { 201: webhookWithSecretSchema, ...problemResponses(413, 415, 422) },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const { row, secret } = await webhooks.create(auth.tenantId, request.body, callerOf(auth));
      return reply
        .code(201)
        .header('location', resourceUrl(publicBaseUrl, `/v1/webhooks/${row.id}`))
        .header('etag', etagForVersion(row.version))
        .header('cache-control', 'no-store')
        .send({ ...toWebhookView(row), secret });
    },
  );

  app.get(
    '/v1/webhooks',
    {
      config,
      schema: {
        operationId: 'listWebhooks',
        summary: 'List webhook subscriptions',
        description: 'Newest first; pages with `limit` and the opaque `nextCursor`.',
        tags,
        security: bearerSecurity,
        querystring: listWebhooksQuery,
        response: { 200: webhookPageSchema, ...problemResponses() },
      },
    },
    async (request) => {
      const { rows, nextCursor } = await webhooks.list(requireAuth(request).tenantId, request.query);
      return { data: rows.map(toWebhookView), nextCursor };
    },
  );

  app.get(
    '/v1/webhooks/:id',
    {
      config: { ...config, sends: ['etag'] },
      schema: {
        operationId: 'getWebhook',
        summary: 'Get a webhook subscription',
        description:
          'One webhook subscription with its `ETag`, for `If-Match` on changes. The signing secret is not shown.',
        tags,
        security: bearerSecurity,
        params: webhookIdParams,
        response: { 200: webhookSchema, ...problemResponses(404) },
      },
    },
    async (request, reply) => {
      const row = await webhooks.get(requireAuth(request).tenantId, request.params.id);
      return reply.header('etag', etagForVersion(row.version)).send(toWebhookView(row));
    },
  );

  app.patch(
    '/v1/webhooks/:id',
    {
      config: { ...config, sends: ['etag'] },
      schema: {
        operationId: 'updateWebhook',
        summary: 'Change a webhook subscription',
        description:
          'Requires If-Match with the ETag last read: 428 without it, 412 when it changed since. ' +
          '`active: true` re-activates a disabled subscription and its pending deliveries resume; ' +
          '`active: false` pauses it (`disabledReason: manual`). Changing a subscription that hears ' +
          'complaint events (any but `webhook.*`) needs `complaints:read` too, and `personalData: clear` needs ' +
          '`personal_data:read` (403 `clear_personal_data_not_allowed`).',
        tags,
        security: bearerSecurity,
        params: webhookIdParams,
        headers: z.object({ 'if-match': z.string().max(1000).optional() }),
        body: updateWebhookBody,
        response: { 200: webhookSchema, ...problemResponses(404, 412, 413, 415, 422, 428) },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const row = await webhooks.update(
        auth.tenantId,
        request.params.id,
        request.headers['if-match'],
        request.body,
        callerOf(auth),
      );
      return reply.header('etag', etagForVersion(row.version)).send(toWebhookView(row));
    },
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      config,
      schema: {
        operationId: 'deleteWebhook',
        summary: 'Delete a webhook subscription',
        description: 'Deletes it with its secrets and delivery log; deliveries still pending are dropped.',
        tags,
        security: bearerSecurity,
        params: webhookIdParams,
        response: { 204: z.undefined().describe('Deleted'), ...problemResponses(404) },
      },
    },
    async (request, reply) => {
      await webhooks.remove(requireAuth(request).tenantId, request.params.id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/v1/webhooks/:id/rotate-secret',
    {
      config: { ...config, sends: ['cache-control'] },
      schema: {
        operationId: 'rotateWebhookSecret',
        summary: 'Start a new signing secret',
        description:
          'Answers with the new secret this once. For the next 24 hours each delivery carries a signature by the ' +
          'old secret as well as the new one, so receivers can switch over without losing a delivery.',
        tags,
        security: bearerSecurity,
        params: webhookIdParams,
        response: { 200: rotatedSecretSchema, ...problemResponses(404) },
      },
    },
    async (request, reply) => {
      const rotated = await webhooks.rotateSecret(requireAuth(request).tenantId, request.params.id);
      return reply.header('cache-control', 'no-store').send({
        secret: rotated.secret,
        previousSecretExpiresAt: rotated.previousSecretExpiresAt.toISOString(),
      });
    },
  );

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      config,
      schema: {
        operationId: 'listWebhookDeliveries',
        summary: 'The delivery log of a webhook subscription',
        description:
          'Newest first, each delivery with every attempt: time, status code, latency, error and the start of ' +
          'the answer. Filter by `status`; pages with `limit` and `nextCursor`.',
        tags,
        security: bearerSecurity,
        params: webhookIdParams,
        querystring: listDeliveriesQuery,
        response: { 200: deliveryPageSchema, ...problemResponses(404) },
      },
    },
    async (request) => webhooks.deliveries(requireAuth(request).tenantId, request.params.id, request.query),
  );

  app.post(
    '/v1/webhooks/:id/deliveries/:deliveryId/redeliver',
    {
      config,
      schema: {
        operationId: 'redeliverWebhookDelivery',
        summary: 'Send a delivery again',
        description:
          'Makes a new delivery of the same event, due at once, under the same `webhook-id` so receivers can ' +
          'de-duplicate. 409 `webhook_inactive` while the subscription is disabled.',
        tags,
        security: bearerSecurity,
        params: deliveryIdParams,
        response: { 202: deliverySchema, ...problemResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const delivery = await webhooks.redeliver(
        requireAuth(request).tenantId,
        request.params.id,
        request.params.deliveryId,
      );
      return reply.code(202).send(delivery);
    },
  );

  app.post(
    '/v1/webhooks/:id/ping',
    {
      config,
      schema: {
        operationId: 'pingWebhook',
        summary: 'Send a test event',
        description:
          'Writes a `webhook.ping` event addressed to this subscription alone (it stays out of the feed and ' +
          'other subscriptions) and delivers it like any other. 409 `webhook_inactive` while disabled.',
        tags,
        security: bearerSecurity,
        params: webhookIdParams,
        response: { 202: pingAcceptedSchema, ...problemResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const accepted = await webhooks.ping(requireAuth(request).tenantId, request.params.id);
      return reply.code(202).send(accepted);
    },
  );

  app.post(
    '/v1/webhooks/:id/replays',
    {
      config: { ...config, idempotent: true, sends: ['location'] },
      schema: {
        operationId: 'replayWebhookDeliveries',
        summary: "Send a webhook's failed deliveries again",
        description:
          'Starts a background replay of the failed deliveries created in [`since`, `until`) and answers 202 with ' +
          'it; poll `Location` for its progress. Each failed delivery whose event the subscription has not had ' +
          'delivered or pending since becomes a new delivery of that event, under the same `webhook-id` so ' +
          'receivers can de-duplicate, with its own attempts on the retry schedule. `until` later than now ' +
          `counts as now; an empty range, or one over ${REPLAY_MAX_RANGE_DAYS} days, is 400 ` +
          '`webhook_replay_range_invalid`. 409 `webhook_inactive` while the subscription is disabled (re-activate ' +
          'it first), 409 `webhook_replay_in_progress` while another replay of it is queued or running. Honours ' +
          '`Idempotency-Key`.',
        tags,
        security: bearerSecurity,
        params: webhookIdParams,
        headers: z.object({
          'idempotency-key': z
            .string()
            .min(1)
            .max(255)
            .optional()
            .describe(
              'Makes the request safe to retry: the same key and body replay the first answer; kept ≥ 24 h.',
            ),
        }),
        body: replayWebhookBody,
        response: { 202: replaySchema, ...problemResponses(404, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const row = await replays.start(
        requireAuth(request).tenantId,
        request.params.id,
        { since: new Date(request.body.since), until: new Date(request.body.until) },
        idempotencyOf(request),
      );
      return reply
        .code(202)
        .header(
          'location',
          resourceUrl(publicBaseUrl, `/v1/webhooks/${row.subscriptionId}/replays/${row.id}`),
        )
        .send(toReplayView(row));
    },
  );

  app.get(
    '/v1/webhooks/:id/replays/:replayId',
    {
      config,
      schema: {
        operationId: 'getWebhookReplay',
        summary: 'Get a replay of failed deliveries',
        description: 'Its status and counts so far: `matched` failed deliveries, `requeued` new deliveries.',
        tags,
        security: bearerSecurity,
        params: replayIdParams,
        response: { 200: replaySchema, ...problemResponses(404) },
      },
    },
    async (request) =>
      toReplayView(
        await replays.get(requireAuth(request).tenantId, request.params.id, request.params.replayId),
      ),
  );
};
