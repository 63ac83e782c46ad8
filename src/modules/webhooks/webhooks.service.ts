import { z } from 'zod';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import {
  ClearPersonalDataNotAllowedError,
  ConflictError,
  ForbiddenScopeError,
  NotFoundError,
  PreconditionFailedError,
  PreconditionRequiredError,
} from '../../lib/errors.js';
import { etagForVersion, ifMatchSatisfied } from '../../lib/etag.js';
import { newId } from '../../lib/ids.js';
import { COMPLAINT_EVENT_TYPES, matchesAnyEventPattern } from '../events/event-types.js';
import type { EventsRepository } from '../events/events.repository.js';
import { seesPersonalData } from '../personal-data/personal-fields.js';
import { hasScope } from '../tenancy/scopes.js';
import type { AuthContext } from '../tenancy/tenancy.service.js';
import type { NextStep } from './retry-schedule.js';
import { failingRuns } from './subscription-health.js';
import type { SendResult } from './webhook-sender.js';
import { newWebhookSecret } from './webhook-signing.js';
import type { WebhookUrlGuard } from './webhook-url-policy.js';
import type {
  LeasedDelivery,
  SubscriptionChanges,
  SubscriptionRow,
  WebhooksRepository,
} from './webhooks.repository.js';
import {
  type CreateWebhookInput,
  type DeliveryView,
  type ListDeliveriesQuery,
  toDeliveryView,
  toWebhookView,
  type UpdateWebhookInput,
} from './webhooks.schemas.js';

/** How long a rotated-out secret keeps signing, so receivers can switch without losing a delivery. */
export const SECRET_OVERLAP_MS = 24 * 3_600_000;

const pageCursorShape = z.tuple([z.iso.datetime(), z.uuid()]);

function pageOf<T extends { createdAt: Date; id: string }>(rows: T[], limit: number) {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    page,
    nextCursor: rows.length > limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
  };
}

function afterCursor(cursor: string | undefined) {
  if (!cursor) return null;
  const [createdAt, id] = decodeCursor(cursor, pageCursorShape);
  return { createdAt: new Date(createdAt), id };
}

/** The refusal of an action that needs the subscription active: 409 `webhook_inactive`. */
export function inactive(row: SubscriptionRow, action: string): ConflictError {
  return new ConflictError('webhook_inactive', 'The webhook is not active', {
    detail: `Webhook '${row.id}' is not active (${row.disabledReason ?? 'manual'}); re-activate it with PATCH {"active": true} before you ${action}.`,
    extensions: { disabledReason: row.disabledReason },
  });
}

/**
 * Webhook subscriptions as tenants manage them (scope `webhooks:manage`). URLs are checked for
 * SSRF before any transaction opens: resolving a name is a network call.
 */
/** What the caller's API key may read, for what its subscriptions may hear. */
export interface WebhookCaller {
  readsComplaints: boolean;
  /** Holds personal_data:read, so may have deliveries carry personal data in clear. */
  readsPersonalData: boolean;
}

/** The WebhookCaller of an authenticated key. */
export const callerOf = (auth: Pick<AuthContext, 'scopes'>): WebhookCaller => ({
  readsComplaints: hasScope(auth.scopes, 'complaints:read'),
  readsPersonalData: seesPersonalData(auth.scopes),
});

/**
 * A subscription that takes personal data in clear has the worker post it what only
 * personal_data:read reads: only such a caller may ask for `clear`, and, as with assertMayHear,
 * only such a caller may change a subscription that is clear and hears complaint events (pointing
 * it elsewhere is hearing them). Clear subscriptions to `webhook.*` alone carry no personal data.
 */
function assertMayHearInClear(
  asked: 'clear' | 'masked' | undefined,
  resulting: { personalData: 'clear' | 'masked'; patterns: readonly string[] },
  caller: WebhookCaller,
): void {
  if (caller.readsPersonalData) return;
  const hearsComplaints = COMPLAINT_EVENT_TYPES.some((type) =>
    matchesAnyEventPattern(resulting.patterns, type),
  );
  if (asked === 'clear' || (resulting.personalData === 'clear' && hearsComplaints)) {
    throw new ClearPersonalDataNotAllowedError();
  }
}

/**
 * Events other than webhook.* carry the complaint, its customer included, which a key reads with
 * complaints:read only: a key that may only manage webhooks cannot subscribe to them, or it
 * could have the worker post to it what GET /v1/complaints refuses it.
 */
function assertMayHear(patterns: readonly string[], caller: WebhookCaller): void {
  if (caller.readsComplaints) return;
  if (COMPLAINT_EVENT_TYPES.some((type) => matchesAnyEventPattern(patterns, type))) {
    throw new ForbiddenScopeError('complaints:read');
  }
}

export function createWebhooksService(deps: {
  db: Db;
  webhooks: WebhooksRepository;
  events: Pick<EventsRepository, 'appendForTenant'>;
  clock: Clock;
  checkUrl: WebhookUrlGuard;
}) {
  const { db, webhooks, clock } = deps;

  async function get(tenantId: string, id: string): Promise<SubscriptionRow> {
    const row = await webhooks.findSubscription(tenantId, id);
    if (!row) throw new NotFoundError('Webhook', id);
    return row;
  }

  return {
    get,

    /** Creates a subscription and its first secret; the secret leaves Redress this once. */
    async create(
      tenantId: string,
      input: CreateWebhookInput,
      caller: WebhookCaller,
    ): Promise<{ row: SubscriptionRow; secret: string }> {
      assertMayHear(input.events, caller);
      assertMayHearInClear(
        input.personalData,
        { personalData: input.personalData, patterns: input.events },
        caller,
      );
      await deps.checkUrl(input.url);
      const secret = newWebhookSecret();
      const now = clock.now();
      const row = await db.transaction(async (tx) => {
        const created = await webhooks.insertSubscription(
          {
            id: newId(),
            tenantId,
            url: input.url,
            eventTypes: input.events,
            description: input.description ?? null,
            personalData: input.personalData,
            maxDeliveriesPerSecond: input.maxDeliveriesPerSecond ?? null,
            active: input.active,
            disabledReason: input.active ? null : 'manual',
            disabledAt: input.active ? null : now,
            createdAt: now,
            updatedAt: now,
          },
          tx,
        );
        await webhooks.insertSecret({ tenantId, subscriptionId: created.id, secret, createdAt: now }, tx);
        return created;
      });
      return { row, secret };
    },

    /** A page of subscriptions, newest first. */
    async list(tenantId: string, query: { limit: number; cursor?: string | undefined }) {
      const rows = await webhooks.listSubscriptions(tenantId, afterCursor(query.cursor), query.limit);
      const { page, nextCursor } = pageOf(rows, query.limit);
      return { rows: page, nextCursor };
    },

    /**
     * Changes a subscription under If-Match. Re-activating clears the disabled state and wakes the
     * dispatchers, so deliveries that waited while it was off go out at once.
     */
    async update(
      tenantId: string,
      id: string,
      ifMatch: string | undefined,
      input: UpdateWebhookInput,
      caller: WebhookCaller,
    ): Promise<SubscriptionRow> {
      if (!ifMatch) throw new PreconditionRequiredError('webhook');
      if (input.personalData === 'clear' && !caller.readsPersonalData) {
        throw new ClearPersonalDataNotAllowedError();
      }
      if (input.url !== undefined) await deps.checkUrl(input.url);
      return db.transaction(async (tx) => {
        const current = await webhooks.findSubscription(tenantId, id, { forUpdate: true }, tx);
        if (!current) throw new NotFoundError('Webhook', id);
        if (!ifMatchSatisfied(ifMatch, etagForVersion(current.version))) {
          throw new PreconditionFailedError('Webhook', id, etagForVersion(current.version));
        }
        // Pointing a subscription that hears complaints somewhere else is hearing them too.
        assertMayHear(input.events ?? current.eventTypes, caller);
        assertMayHearInClear(
          input.personalData,
          {
            personalData: input.personalData ?? current.personalData,
            patterns: input.events ?? current.eventTypes,
          },
          caller,
        );
        const now = clock.now();
        const changes: SubscriptionChanges = {};
        if (input.url !== undefined) changes.url = input.url;
        if (input.events !== undefined) changes.eventTypes = input.events;
        if (input.description !== undefined) changes.description = input.description;
        if (input.personalData !== undefined) changes.personalData = input.personalData;
        if (
          input.maxDeliveriesPerSecond !== undefined &&
          input.maxDeliveriesPerSecond !== current.maxDeliveriesPerSecond
        ) {
          changes.maxDeliveriesPerSecond = input.maxDeliveriesPerSecond;
          // A limit lifted or raised: deliveries waiting their turn may go now.
          await webhooks.notifyDispatchers(tx);
        }
        if (input.active === true && !current.active) {
          Object.assign(changes, {
            active: true,
            disabledReason: null,
            disabledAt: null,
            failingSince: null,
          });
          await webhooks.notifyDispatchers(tx);
        } else if (input.active === false && current.active) {
          Object.assign(changes, { active: false, disabledReason: 'manual', disabledAt: now });
        }
        return webhooks.updateSubscription(tenantId, id, changes, current.version + 1, now, tx);
      });
    },

    async remove(tenantId: string, id: string): Promise<void> {
      if (!(await webhooks.deleteSubscription(tenantId, id))) throw new NotFoundError('Webhook', id);
    },

    /** Starts a new secret; the ones signing until now keep signing for {@link SECRET_OVERLAP_MS}. */
    async rotateSecret(
      tenantId: string,
      id: string,
    ): Promise<{ secret: string; previousSecretExpiresAt: Date }> {
      const secret = newWebhookSecret();
      const now = clock.now();
      const expiresAt = new Date(now.getTime() + SECRET_OVERLAP_MS);
      await db.transaction(async (tx) => {
        // The row lock orders concurrent rotations: each expires exactly the secret before it.
        const current = await webhooks.findSubscription(tenantId, id, { forUpdate: true }, tx);
        if (!current) throw new NotFoundError('Webhook', id);
        await webhooks.expireCurrentSecrets(tenantId, id, expiresAt, tx);
        await webhooks.insertSecret({ tenantId, subscriptionId: id, secret, createdAt: now }, tx);
      });
      return { secret, previousSecretExpiresAt: expiresAt };
    },

    /** The delivery log of a subscription, newest first, each delivery with its attempts. */
    async deliveries(
      tenantId: string,
      id: string,
      query: ListDeliveriesQuery,
    ): Promise<{ data: DeliveryView[]; nextCursor: string | null }> {
      await get(tenantId, id);
      const rows = await webhooks.listDeliveries(tenantId, id, {
        statuses: query.status ?? null,
        after: afterCursor(query.cursor),
        limit: query.limit,
      });
      const { page, nextCursor } = pageOf(
        rows.map((row) => ({ ...row, createdAt: row.delivery.createdAt, id: row.delivery.id })),
        query.limit,
      );
      const attempts = await webhooks.attemptsOf(
        tenantId,
        page.map((row) => row.id),
      );
      return {
        data: page.map((row) =>
          toDeliveryView(
            row.delivery,
            row.eventType,
            attempts.filter((attempt) => attempt.deliveryId === row.id),
          ),
        ),
        nextCursor,
      };
    },

    /** Sends a delivery's event again, as a new delivery under the same `webhook-id`. */
    async redeliver(tenantId: string, id: string, deliveryId: string): Promise<DeliveryView> {
      return db.transaction(async (tx) => {
        const subscription = await webhooks.findSubscription(tenantId, id, {}, tx);
        if (!subscription) throw new NotFoundError('Webhook', id);
        const original = await webhooks.findDelivery(tenantId, id, deliveryId, tx);
        if (!original) throw new NotFoundError('Webhook delivery', deliveryId);
        if (!subscription.active) throw inactive(subscription, 'redeliver');
        const created = await webhooks.insertRedelivery(
          {
            tenantId,
            subscriptionId: id,
            eventId: original.delivery.eventId,
            redeliveryOf: original.delivery.id,
            createdAt: clock.now(),
          },
          tx,
        );
        await webhooks.notifyDispatchers(tx);
        return toDeliveryView(created, original.eventType, []);
      });
    },

    /** Writes a `webhook.ping` addressed to this subscription alone; the relay turns it into a delivery. */
    async ping(tenantId: string, id: string): Promise<{ eventId: string }> {
      return db.transaction(async (tx) => {
        const subscription = await webhooks.findSubscription(tenantId, id, {}, tx);
        if (!subscription) throw new NotFoundError('Webhook', id);
        if (!subscription.active) throw inactive(subscription, 'ping it');
        const event = await deps.events.appendForTenant(
          {
            tenantId,
            type: 'webhook.ping',
            occurredAt: clock.now(),
            payload: { webhook: { id: subscription.id, url: subscription.url } },
            subscriptionId: subscription.id,
          },
          tx,
        );
        return { eventId: event.id };
      });
    },
  };
}

export type WebhooksService = ReturnType<typeof createWebhooksService>;

/** One finished attempt, as the dispatcher hands it over to be recorded. */
export interface AttemptResult {
  delivery: Pick<LeasedDelivery, 'id' | 'tenantId' | 'subscriptionId' | 'lease'>;
  attempt: number;
  attemptedAt: Date;
  send: SendResult;
  next: NextStep;
}

/**
 * Records what the dispatcher's attempts came to: every attempt in the log, each delivery's new
 * state, the subscriptions' runs of failures, and disabling (410 at once, or failing for
 * `disableAfterMs`) with its `webhook.disabled` event, all in one transaction.
 */
export function createWebhookOutcomes(deps: {
  db: Db;
  webhooks: Pick<WebhooksRepository, 'recordAttempts'>;
  events: Pick<EventsRepository, 'appendForTenant'>;
  clock: Clock;
  disableAfterMs: number;
}) {
  const { webhooks } = deps;
  return {
    async record(results: readonly AttemptResult[]): Promise<{ disabled: SubscriptionRow[] }> {
      if (results.length === 0) return { disabled: [] };
      const gone = new Set(
        results.filter((result) => result.send.status === 410).map((r) => r.delivery.subscriptionId),
      );
      const now = deps.clock.now();
      return deps.db.transaction(async (tx) => {
        const disabled = await webhooks.recordAttempts(
          results.map((result) => ({
            tenantId: result.delivery.tenantId,
            deliveryId: result.delivery.id,
            lease: result.delivery.lease,
            attemptNumber: result.attempt,
            attemptedAt: result.attemptedAt,
            responseStatus: result.send.status,
            latencyMs: result.send.latencyMs,
            error: result.send.error,
            responseExcerpt: result.send.excerpt,
            status: result.next.kind === 'retry' ? 'pending' : result.next.kind,
            nextAttemptAt: result.next.kind === 'retry' ? result.next.at : null,
          })),
          failingRuns(results).map((run) => ({ ...run, gone: gone.has(run.subscriptionId) })),
          new Date(now.getTime() - deps.disableAfterMs),
          now,
          tx,
        );
        for (const row of disabled) {
          await deps.events.appendForTenant(
            {
              tenantId: row.tenantId,
              type: 'webhook.disabled',
              occurredAt: now,
              payload: { webhook: toWebhookView(row), reason: row.disabledReason },
            },
            tx,
          );
        }
        return { disabled };
      });
    },
  };
}

export type WebhookOutcomes = ReturnType<typeof createWebhookOutcomes>;
