import { z } from 'zod';
import { instantSchema } from '../../http/instant.js';
import { commaSeparatedEnum } from '../../http/query-params.js';
import { eventPatternSchema } from '../events/event-pattern.js';
import { EVENT_TYPES } from '../events/event-types.js';
import { WEBHOOK_URL_MAX_LENGTH, webhookUrlProblem } from './webhook-url-policy.js';
import type { AttemptRow, DeliveryRow, ReplayRow, SubscriptionRow } from './webhooks.repository.js';

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;

const webhookUrl = z
  .string()
  .max(WEBHOOK_URL_MAX_LENGTH)
  .superRefine((raw, ctx) => {
    const problem = webhookUrlProblem(raw);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe(
    'Where deliveries are POSTed: http or https, no user name or password. Hosts resolving to loopback, ' +
      'private, link-local or other non-public addresses are refused (422 `webhook_url_refused`).',
  );

const eventSelection = z
  .array(eventPatternSchema)
  .min(1)
  .max(50)
  .transform((patterns) => [...new Set(patterns)])
  .describe('Event types or wildcards to receive (`deadline.*`, `*`); repeats are dropped.');

const description = z.string().trim().max(500);

export const personalDataSchema = z
  .enum(['clear', 'masked'])
  .meta({ id: 'WebhookPersonalData' })
  .describe(
    'Whether deliveries carry the customer’s personal data in clear or masked, as callers without ' +
      '`personal_data:read` see it. `clear` needs that scope (403 `clear_personal_data_not_allowed`).',
  );

/** The most deliveries a second a subscription may be limited to; more is as good as no limit. */
export const MAX_DELIVERIES_PER_SECOND = 1_000;

const maxDeliveriesPerSecond = z
  .number()
  .int()
  .min(1)
  .max(MAX_DELIVERIES_PER_SECOND)
  .nullable()
  .describe(
    `The most delivery attempts a second sent to this endpoint, all workers together (1 to ${MAX_DELIVERIES_PER_SECOND}); ` +
      '`null` for no limit. Deliveries beyond it wait their turn: they are not dropped, not failed and use no attempt.',
  );

export const createWebhookBody = z
  .strictObject({
    url: webhookUrl,
    events: eventSelection,
    description: description.optional(),
    personalData: personalDataSchema.default('masked'),
    active: z.boolean().default(true),
    maxDeliveriesPerSecond: maxDeliveriesPerSecond.optional(),
  })
  .meta({ id: 'WebhookCreate' });

export const updateWebhookBody = z
  .strictObject({
    url: webhookUrl.optional(),
    events: eventSelection.optional(),
    description: description.nullable().optional().describe('`null` clears it.'),
    personalData: personalDataSchema.optional(),
    active: z
      .boolean()
      .optional()
      .describe('`true` re-activates a disabled subscription: its pending deliveries resume.'),
    maxDeliveriesPerSecond: maxDeliveriesPerSecond.optional().describe('`null` lifts the limit.'),
  })
  .refine((body) => Object.keys(body).length > 0, 'must change at least one field')
  .meta({ id: 'WebhookUpdate' });

export const webhookIdParams = z.object({ id: z.uuid() });
export const deliveryIdParams = z.object({ id: z.uuid(), deliveryId: z.uuid() });

export const listWebhooksQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().min(1).max(500).optional().describe('`nextCursor` from the previous page.'),
});

export const listDeliveriesQuery = z.strictObject({
  status: commaSeparatedEnum(DELIVERY_STATUSES, 'status').optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().min(1).max(500).optional().describe('`nextCursor` from the previous page.'),
});

export const webhookSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    personalData: personalDataSchema,
    active: z.boolean(),
    disabledReason: z
      .enum(['gone', 'failing', 'manual'])
      .nullable()
      .describe('`gone`: the endpoint answered 410; `failing`: every attempt failed for days; `manual`.'),
    disabledAt: z.string().nullable(),
    failingSince: z
      .string()
      .nullable()
      .describe('Start of the current run of failed attempts; null after any success.'),
    maxDeliveriesPerSecond: z
      .number()
      .int()
      .nullable()
      .describe('The most delivery attempts a second sent to this endpoint; null for no limit.'),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Webhook' });

export const webhookWithSecretSchema = webhookSchema
  .extend({
    secret: z
      .string()
      .describe('`whsec_…`: the signing secret, shown this once. Keep it to verify `webhook-signature`.'),
  })
  .meta({ id: 'WebhookCreated' });

export const webhookPageSchema = z
  .object({ data: z.array(webhookSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'WebhookPage' });

export const rotatedSecretSchema = z
  .object({
    secret: z.string().describe('The new `whsec_…` secret, shown this once.'),
    previousSecretExpiresAt: z
      .string()
      .describe(
        'Until then deliveries carry a signature by the old secret too, so receivers can switch over.',
      ),
  })
  .meta({ id: 'WebhookSecretRotated' });

export const attemptSchema = z
  .object({
    attemptNumber: z.number().int(),
    attemptedAt: z.string(),
    responseStatus: z.number().int().nullable().describe('Null when no answer came.'),
    latencyMs: z.number().int(),
    error: z.string().nullable().describe('Why no answer came: refused, timed out, blocked address…'),
    responseExcerpt: z.string().nullable().describe("The first 256 characters of the receiver's answer."),
  })
  .meta({ id: 'WebhookAttempt' });

export const deliverySchema = z
  .object({
    id: z.uuid(),
    webhookId: z.uuid(),
    eventId: z.string().describe('Also the `webhook-id` header of every attempt.'),
    eventType: z.enum(EVENT_TYPES),
    status: z.enum(DELIVERY_STATUSES),
    attemptCount: z.number().int(),
    nextAttemptAt: z.string().nullable().describe('When the next attempt is due, while pending.'),
    lastAttemptAt: z.string().nullable(),
    lastResponseStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    completedAt: z.string().nullable(),
    redeliveryOf: z.uuid().nullable().describe('The delivery this one sends again.'),
    createdAt: z.string(),
    attempts: z.array(attemptSchema),
  })
  .meta({ id: 'WebhookDelivery' });

export const deliveryPageSchema = z
  .object({ data: z.array(deliverySchema), nextCursor: z.string().nullable() })
  .meta({ id: 'WebhookDeliveryPage' });

export const pingAcceptedSchema = z
  .object({
    eventId: z
      .string()
      .describe('The `webhook.ping` event; its delivery appears in the delivery log with this `eventId`.'),
  })
  .meta({ id: 'WebhookPingAccepted' });

/** The longest range one replay may cover; events older than EVENT_RETENTION_DAYS are gone anyway. */
export const REPLAY_MAX_RANGE_DAYS = 31;

export const REPLAY_STATUSES = ['queued', 'running', 'completed', 'failed'] as const;

export const replayIdParams = z.object({ id: z.uuid(), replayId: z.uuid() });

export const replayWebhookBody = z
  .strictObject({
    since: instantSchema.describe('Replay failed deliveries created at or after this time.'),
    until: instantSchema.describe(
      `…and before this time; a time later than now counts as now. At most ${REPLAY_MAX_RANGE_DAYS} days after \`since\`.`,
    ),
  })
  .meta({ id: 'WebhookReplayRequest' });

export const replaySchema = z
  .object({
    id: z.uuid(),
    webhookId: z.uuid(),
    since: z.string(),
    until: z.string().describe('As asked for, or the time of the request when that was later.'),
    status: z
      .enum(REPLAY_STATUSES)
      .describe(
        '`queued`, then `running` while the worker goes through the range, then `completed`; `failed` when it gave up (`error`).',
      ),
    matched: z.number().int().describe('Failed deliveries found in the range so far.'),
    requeued: z
      .number()
      .int()
      .describe(
        'New deliveries made so far, one per event; `matched` less those whose event was delivered or pending again already.',
      ),
    error: z.string().nullable(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
  })
  .meta({ id: 'WebhookReplay' });

export type CreateWebhookInput = z.output<typeof createWebhookBody>;
export type UpdateWebhookInput = z.output<typeof updateWebhookBody>;
export type ListDeliveriesQuery = z.output<typeof listDeliveriesQuery>;
export type WebhookView = z.output<typeof webhookSchema>;
export type DeliveryView = z.output<typeof deliverySchema>;
export type ReplayView = z.output<typeof replaySchema>;

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;

/** A subscription as the API shows it: never its secrets. */
export function toWebhookView(row: SubscriptionRow): WebhookView {
  return {
    id: row.id,
    url: row.url,
    events: row.eventTypes,
    description: row.description,
    personalData: row.personalData,
    active: row.active,
    disabledReason: row.disabledReason as WebhookView['disabledReason'],
    disabledAt: iso(row.disabledAt),
    failingSince: iso(row.failingSince),
    maxDeliveriesPerSecond: row.maxDeliveriesPerSecond,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** A delivery as the log shows it, with its attempts oldest first. */
export function toDeliveryView(
  delivery: DeliveryRow,
  eventType: string,
  attempts: AttemptRow[],
): DeliveryView {
  return {
    id: delivery.id,
    webhookId: delivery.subscriptionId,
    eventId: delivery.eventId,
    eventType: eventType as DeliveryView['eventType'],
    status: delivery.status,
    attemptCount: delivery.attemptCount,
    nextAttemptAt: delivery.status === 'pending' ? delivery.nextAttemptAt.toISOString() : null,
    lastAttemptAt: iso(delivery.lastAttemptAt),
    lastResponseStatus: delivery.lastResponseStatus,
    lastError: delivery.lastError,
    completedAt: iso(delivery.completedAt),
    redeliveryOf: delivery.redeliveryOf,
    createdAt: delivery.createdAt.toISOString(),
    attempts: attempts.map((attempt) => ({
      attemptNumber: attempt.attemptNumber,
      attemptedAt: attempt.attemptedAt.toISOString(),
      responseStatus: attempt.responseStatus,
      latencyMs: attempt.latencyMs,
      error: attempt.error,
      responseExcerpt: attempt.responseExcerpt,
    })),
  };
}

/** A replay as the API shows it. */
export function toReplayView(row: ReplayRow): ReplayView {
  return {
    id: row.id,
    webhookId: row.subscriptionId,
    since: row.since.toISOString(),
    until: row.until.toISOString(),
    status: row.status,
    matched: row.matched,
    requeued: row.requeued,
    error: row.error,
    createdAt: row.createdAt.toISOString(),
    startedAt: iso(row.startedAt),
    completedAt: iso(row.completedAt),
  };
}
