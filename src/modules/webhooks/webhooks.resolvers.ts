import { z } from 'zod';
import { etagOfVersion, parseArgs, requireScope } from '../../graphql/context.js';
import { idempotentMutation } from '../../graphql/idempotency.js';
import { enumSdl, type GraphqlModule, pageInfo } from '../../graphql/module.js';
import type { IdempotencyService } from '../idempotency/idempotency.service.js';
import type { WebhookReplays } from './webhook-replays.js';
import {
  createWebhookBody,
  DELIVERY_STATUSES,
  deliveryIdParams,
  personalDataSchema,
  REPLAY_MAX_RANGE_DAYS,
  REPLAY_STATUSES,
  replayIdParams,
  replayWebhookBody,
  toReplayView,
  toWebhookView,
  updateWebhookBody,
  type WebhookView,
  webhookIdParams,
  webhookSchema,
} from './webhooks.schemas.js';
import { callerOf, type WebhooksService } from './webhooks.service.js';

const typeDefs = /* GraphQL */ `
  ${enumSdl('WebhookDisabledReason', webhookSchema.shape.disabledReason.unwrap().options)}
  ${enumSdl('WebhookDeliveryStatus', DELIVERY_STATUSES)}
  ${enumSdl('WebhookPersonalData', personalDataSchema.options, 'Whether deliveries carry personal data in clear (needs personal_data:read to set) or masked.')}
  ${enumSdl('WebhookReplayStatus', REPLAY_STATUSES)}

  "A webhook subscription, as GET /v1/webhooks/{id} shows it: never its secrets."
  type Webhook {
    id: ID!
    url: String!
    "Event types or wildcards it receives (deadline.*, *)."
    events: [String!]!
    description: String
    "clear or masked: how deliveries carry the customer's personal data."
    personalData: WebhookPersonalData!
    active: Boolean!
    "gone: the endpoint answered 410; failing: every attempt failed for days; manual."
    disabledReason: WebhookDisabledReason
    disabledAt: DateTime
    "Start of the current run of failed attempts; null after any success."
    failingSince: DateTime
    "The most delivery attempts a second sent to it, all workers together; null for no limit."
    maxDeliveriesPerSecond: Int
    "Send it back as \`version\` to updateWebhook (REST: the ETag)."
    version: Int!
    createdAt: DateTime!
    updatedAt: DateTime!
    "The delivery log, newest first, each delivery with its attempts."
    deliveries(status: [WebhookDeliveryStatus!], first: Int = 25, after: String): WebhookDeliveryConnection!
      @complexity(value: 10, multipliers: ["first"])
  }

  type WebhookConnection {
    nodes: [Webhook!]!
    pageInfo: PageInfo!
  }

  type WebhookAttempt {
    attemptNumber: Int!
    attemptedAt: DateTime!
    "Null when no answer came."
    responseStatus: Int
    latencyMs: Int!
    error: String
    "The first 256 characters of the receiver's answer."
    responseExcerpt: String
  }

  type WebhookDelivery {
    id: ID!
    webhookId: ID!
    "Also the webhook-id header of every attempt."
    eventId: ID!
    eventType: String!
    status: WebhookDeliveryStatus!
    attemptCount: Int!
    nextAttemptAt: DateTime
    lastAttemptAt: DateTime
    lastResponseStatus: Int
    lastError: String
    completedAt: DateTime
    "The delivery this one sends again."
    redeliveryOf: ID
    createdAt: DateTime!
    attempts: [WebhookAttempt!]!
  }

  type WebhookDeliveryConnection {
    nodes: [WebhookDelivery!]!
    pageInfo: PageInfo!
  }

  "A new subscription with its signing secret (whsec_…), shown this once."
  type CreatedWebhook {
    webhook: Webhook!
    secret: String!
  }

  type RotatedWebhookSecret {
    "The new whsec_… secret, shown this once."
    secret: String!
    "Until then deliveries carry a signature by the old secret too."
    previousSecretExpiresAt: DateTime!
  }

  type WebhookPing {
    "The webhook.ping event; its delivery shows in the log with this eventId."
    eventId: ID!
  }

  input WebhookInput {
    url: String!
    events: [String!]!
    description: String
    "masked by default; clear needs personal_data:read (clear_personal_data_not_allowed otherwise)."
    personalData: WebhookPersonalData
    active: Boolean
    "1 to 1000 delivery attempts a second; null or left out for no limit."
    maxDeliveriesPerSecond: Int
  }

  "Fields left out stay; description null clears it; active true re-activates a disabled one."
  input WebhookUpdateInput {
    url: String
    events: [String!]
    description: String
    "clear needs personal_data:read."
    personalData: WebhookPersonalData
    active: Boolean
    "1 to 1000 delivery attempts a second; null lifts the limit."
    maxDeliveriesPerSecond: Int
  }

  "A background replay of a webhook's failed deliveries, as GET /v1/webhooks/{id}/replays/{replayId} shows it."
  type WebhookReplay {
    id: ID!
    webhookId: ID!
    since: DateTime!
    "As asked for, or the time of the request when that was later."
    until: DateTime!
    "queued, then running, then completed; failed when it gave up (error)."
    status: WebhookReplayStatus!
    "Failed deliveries found in the range so far."
    matched: Int!
    "New deliveries made so far, one per event not delivered or pending again already."
    requeued: Int!
    error: String
    createdAt: DateTime!
    startedAt: DateTime
    completedAt: DateTime
  }

  "Failed deliveries created at or after since and before until (later than now counts as now)."
  input WebhookReplayInput {
    since: DateTime!
    until: DateTime!
  }

  extend type Query {
    "Webhook subscriptions, newest first (scope webhooks:manage)."
    webhooks(first: Int = 25, after: String): WebhookConnection! @complexity(value: 2, multipliers: ["first"])
    "A webhook subscription; null with a not_found error when this tenant has none."
    webhook(id: ID!): Webhook
    "A replay of a webhook's failed deliveries; null with a not_found error when there is none."
    webhookReplay(webhookId: ID!, id: ID!): WebhookReplay
  }

  extend type Mutation {
    "Subscribes an endpoint; the answer holds the signing secret this once."
    createWebhook(input: WebhookInput!): CreatedWebhook!
    "Changes a subscription still at \`version\`."
    updateWebhook(id: ID!, version: Int!, input: WebhookUpdateInput!): Webhook!
    "Deletes a subscription with its secrets and delivery log; answers its id."
    deleteWebhook(id: ID!): ID!
    "Starts a new signing secret; the old one keeps signing for 24 hours."
    rotateWebhookSecret(id: ID!): RotatedWebhookSecret!
    "Sends a delivery's event again under the same webhook-id."
    redeliverWebhookDelivery(webhookId: ID!, deliveryId: ID!): WebhookDelivery!
    "Sends a webhook.ping to this subscription alone."
    pingWebhook(id: ID!): WebhookPing!
    """
    Starts a background replay of the failed deliveries in a range, each sent again under the same
    webhook-id (REST: POST /v1/webhooks/{id}/replays). webhook_replay_range_invalid for an empty
    range or one over ${REPLAY_MAX_RANGE_DAYS} days; webhook_inactive while disabled;
    webhook_replay_in_progress while another runs. With idempotencyKey a retry gives the first answer.
    """
    replayWebhookDeliveries(webhookId: ID!, input: WebhookReplayInput!, idempotencyKey: String): WebhookReplay!
  }
`;

const listArgs = z.strictObject({
  first: z.number().int().min(1).max(100),
  after: z.string().min(1).max(500).nullish(),
});
const deliveriesArgs = listArgs.extend({ status: z.array(z.enum(DELIVERY_STATUSES)).max(3).nullish() });
const idArg = (value: unknown) => parseArgs(webhookIdParams, { id: value }, 'args').id;

/** Webhook subscriptions over GraphQL (scope webhooks:manage): the same WebhooksService calls as REST. */
export function webhooksGraphql(deps: {
  webhooks: WebhooksService;
  replays: WebhookReplays;
  idempotency: IdempotencyService;
}): GraphqlModule {
  const { webhooks, replays } = deps;
  return {
    typeDefs,
    resolvers: {
      Query: {
        async webhooks(_root, args, context) {
          const { tenantId } = requireScope(context, 'webhooks:manage');
          const { first, after } = parseArgs(listArgs, args, 'args');
          const { rows, nextCursor } = await webhooks.list(tenantId, {
            limit: first,
            cursor: after ?? undefined,
          });
          return { nodes: rows.map(toWebhookView), pageInfo: pageInfo(nextCursor) };
        },
        async webhook(_root, args, context) {
          const { tenantId } = requireScope(context, 'webhooks:manage');
          return toWebhookView(await webhooks.get(tenantId, idArg(args.id)));
        },
        async webhookReplay(_root, args, context) {
          const { tenantId } = requireScope(context, 'webhooks:manage');
          const { id, replayId } = parseArgs(
            replayIdParams,
            { id: args.webhookId, replayId: args.id },
            'args',
          );
          return toReplayView(await replays.get(tenantId, id, replayId));
        },
      },
      Webhook: {
        // A subscription's own log, as GET /v1/webhooks/{id}/deliveries pages it.
        async deliveries(webhook: WebhookView, args, context) {
          const { tenantId } = requireScope(context, 'webhooks:manage');
          const { first, after, status } = parseArgs(deliveriesArgs, args, 'args');
          const { data, nextCursor } = await webhooks.deliveries(tenantId, webhook.id, {
            limit: first,
            cursor: after ?? undefined,
            status: status?.length ? status : undefined,
          });
          return { nodes: data, pageInfo: pageInfo(nextCursor) };
        },
      },
      Mutation: {
        async createWebhook(_root, args, context) {
          const auth = requireScope(context, 'webhooks:manage');
          const input = parseArgs(createWebhookBody, args.input, 'input');
          const { row, secret } = await webhooks.create(auth.tenantId, input, callerOf(auth));
          return { webhook: toWebhookView(row), secret };
        },
        async updateWebhook(_root, args, context) {
          const auth = requireScope(context, 'webhooks:manage');
          const input = parseArgs(updateWebhookBody, args.input, 'input');
          return toWebhookView(
            await webhooks.update(
              auth.tenantId,
              idArg(args.id),
              etagOfVersion(args.version),
              input,
              callerOf(auth),
            ),
          );
        },
        async deleteWebhook(_root, args, context) {
          const { tenantId } = requireScope(context, 'webhooks:manage');
          const id = idArg(args.id);
          await webhooks.remove(tenantId, id);
          return id;
        },
        async rotateWebhookSecret(_root, args, context) {
          const { tenantId } = requireScope(context, 'webhooks:manage');
          const rotated = await webhooks.rotateSecret(tenantId, idArg(args.id));
          return {
            secret: rotated.secret,
            previousSecretExpiresAt: rotated.previousSecretExpiresAt.toISOString(),
          };
        },
        async redeliverWebhookDelivery(_root, args, context) {
          const { tenantId } = requireScope(context, 'webhooks:manage');
          const { id, deliveryId } = parseArgs(
            deliveryIdParams,
            { id: args.webhookId, deliveryId: args.deliveryId },
            'args',
          );
          return webhooks.redeliver(tenantId, id, deliveryId);
        },
        async pingWebhook(_root, args, context) {
          const { tenantId } = requireScope(context, 'webhooks:manage');
          return webhooks.ping(tenantId, idArg(args.id));
        },
        async replayWebhookDeliveries(_root, args, context) {
          const { tenantId } = requireScope(context, 'webhooks:manage');
          const id = parseArgs(webhookIdParams, { id: args.webhookId }, 'args').id;
          const input = parseArgs(replayWebhookBody, args.input, 'input');
          return idempotentMutation(
            deps.idempotency,
            {
              tenantId,
              key: args.idempotencyKey,
              operation: 'replayWebhookDeliveries',
              input: { id, input },
            },
            async (binding) =>
              toReplayView(
                await replays.start(
                  tenantId,
                  id,
                  { since: new Date(input.since), until: new Date(input.until) },
                  binding,
                ),
              ),
          );
        },
      },
    },
  };
}
