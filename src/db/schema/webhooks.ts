import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  pgEnum,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { instant } from './columns.js';
import { events } from './events.js';
import { tenantForeignKey, tenantIdColumn } from './tenancy.js';

/** Whether a subscription's deliveries carry personal data in clear or masked (src/modules/personal-data/). */
export const webhookPersonalData = pgEnum('webhook_personal_data', ['clear', 'masked']);

/** A tenant's webhook endpoint and the event types (or wildcards) it wants. */
export const webhookSubscriptions = pgTable(
  'webhook_subscriptions',
  {
    id: uuid('id').notNull(),
    tenantId: tenantIdColumn(),
    url: text('url').notNull(),
    /** Exact types (`deadline.breached`), prefix wildcards (`deadline.*`) or `*`. */
    eventTypes: text('event_types').array().notNull(),
    description: text('description'),
    /** `masked` unless created or changed to `clear` by a caller holding personal_data:read. */
    personalData: webhookPersonalData('personal_data').notNull().default('masked'),
    active: boolean('active').notNull().default(true),
    /** Why delivery stopped: `gone` (the endpoint answered 410), `failing` (5 days of failures), or `manual`. */
    disabledReason: text('disabled_reason'),
    disabledAt: instant('disabled_at'),
    /** Start of the current run of failed attempts; null after any success. */
    failingSince: instant('failing_since'),
    /**
     * The most deliveries a second the dispatchers send it, all workers together; null for no
     * limit. Paced by webhook_send_pace.
     */
    maxDeliveriesPerSecond: integer('max_deliveries_per_second'),
    version: integer('version').notNull().default(1),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'webhook_subscriptions_pkey', columns: [table.tenantId, table.id] }),
    index('webhook_subscriptions_tenant_idx').on(table.tenantId, table.createdAt),
  ],
);

/**
 * Signing secrets of a subscription. A rotation adds a secret and gives the old one an expiry, so
 * both sign during the overlap and receivers can switch without losing a delivery.
 */
export const webhookSecrets = pgTable(
  'webhook_secrets',
  {
    id: uuid('id').notNull(),
    tenantId: tenantIdColumn(),
    subscriptionId: uuid('subscription_id').notNull(),
    /** `whsec_` + base64 key, as Standard Webhooks libraries take it; needed in clear to sign. */
    secret: text('secret').notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
    /** Null while current; set to the end of the overlap when a newer secret replaces it. */
    expiresAt: instant('expires_at'),
  },
  (table) => [
    primaryKey({ name: 'webhook_secrets_pkey', columns: [table.tenantId, table.id] }),
    tenantForeignKey(
      'webhook_secrets_subscription_fk',
      { tenantId: table.tenantId, column: table.subscriptionId },
      webhookSubscriptions,
    ).onDelete('cascade'),
    index('webhook_secrets_subscription_idx').on(table.tenantId, table.subscriptionId, table.createdAt),
  ],
);

export const webhookDeliveryStatus = pgEnum('webhook_delivery_status', ['pending', 'succeeded', 'failed']);

/**
 * One event owed to one subscription. The row is the truth: the dispatcher leases due rows
 * (`leased_until`), so a worker killed mid-request leaves a lease that runs out and another
 * worker sends the same event again, under the same `webhook-id`.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').notNull(),
    tenantId: tenantIdColumn(),
    subscriptionId: uuid('subscription_id').notNull(),
    eventId: text('event_id').notNull(),
    status: webhookDeliveryStatus('status').notNull().default('pending'),
    attemptCount: smallint('attempt_count').notNull().default(0),
    nextAttemptAt: instant('next_attempt_at').notNull(),
    leasedUntil: instant('leased_until'),
    lastAttemptAt: instant('last_attempt_at'),
    lastResponseStatus: smallint('last_response_status'),
    lastError: text('last_error'),
    completedAt: instant('completed_at'),
    /** The delivery this one sends again, when made by a redelivery request. */
    redeliveryOf: uuid('redelivery_of'),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'webhook_deliveries_pkey', columns: [table.tenantId, table.id] }),
    tenantForeignKey(
      'webhook_deliveries_subscription_fk',
      { tenantId: table.tenantId, column: table.subscriptionId },
      webhookSubscriptions,
    ).onDelete('cascade'),
    tenantForeignKey(
      'webhook_deliveries_event_fk',
      { tenantId: table.tenantId, column: table.eventId },
      events,
    ).onDelete('cascade'),
    index('webhook_deliveries_subscription_idx').on(table.tenantId, table.subscriptionId, table.createdAt),
    // The dispatcher's per-subscription work list.
    index('webhook_deliveries_due_idx')
      .on(table.tenantId, table.subscriptionId, table.nextAttemptAt)
      .where(sql`${table.status} = 'pending'`),
    index('webhook_deliveries_event_idx').on(table.tenantId, table.eventId),
  ],
);

/** Every attempt of every delivery: the delivery log integrators read when a receiver misbehaves. */
export const webhookDeliveryAttempts = pgTable(
  'webhook_delivery_attempts',
  {
    id: bigint('id', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    tenantId: tenantIdColumn(),
    deliveryId: uuid('delivery_id').notNull(),
    attemptNumber: smallint('attempt_number').notNull(),
    attemptedAt: instant('attempted_at').notNull(),
    /** HTTP status, or null when no answer came (refused, timed out, blocked address). */
    responseStatus: smallint('response_status'),
    latencyMs: integer('latency_ms').notNull(),
    error: text('error'),
    /** The first bytes of the receiver's answer, to debug a refusal without access to its logs. */
    responseExcerpt: text('response_excerpt'),
  },
  (table) => [
    primaryKey({ name: 'webhook_delivery_attempts_pkey', columns: [table.tenantId, table.id] }),
    tenantForeignKey(
      'webhook_delivery_attempts_delivery_fk',
      { tenantId: table.tenantId, column: table.deliveryId },
      webhookDeliveries,
    ).onDelete('cascade'),
    index('webhook_delivery_attempts_delivery_idx').on(table.tenantId, table.deliveryId, table.id),
  ],
);

/**
 * The pace of a rate-limited subscription: the earliest time its next attempt may start. Kept in
 * PostgreSQL beside the leases it governs (lease_due_webhook_deliveries advances it under a row
 * lock as it leases), so every worker shares it and a Redis flush cannot lift the limit. A table of
 * its own, not a column of the subscription: the attempt recorder and the API lock subscription
 * rows, and leasing must not queue behind them.
 */
export const webhookSendPace = pgTable(
  'webhook_send_pace',
  {
    tenantId: tenantIdColumn(),
    subscriptionId: uuid('subscription_id').notNull(),
    // Microseconds, unlike the other instants: slots are computed and compared in SQL only, and a
    // millisecond rounding would move a slot earlier or later than its pace.
    nextSlotAt: timestamp('next_slot_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (table) => [
    primaryKey({ name: 'webhook_send_pace_pkey', columns: [table.tenantId, table.subscriptionId] }),
    tenantForeignKey(
      'webhook_send_pace_subscription_fk',
      { tenantId: table.tenantId, column: table.subscriptionId },
      webhookSubscriptions,
    ).onDelete('cascade'),
  ],
);

export const webhookReplayStatus = pgEnum('webhook_replay_status', [
  'queued',
  'running',
  'completed',
  'failed',
]);

/**
 * A request to send again a subscription's failed deliveries created in [since, until), worked
 * through by a background job in batches. The cursor is the last delivery handled, written in the
 * transaction that requeues its batch, so a job run again or taken over after a crash goes on
 * where the last commit left off and requeues nothing twice.
 */
export const webhookReplays = pgTable(
  'webhook_replays',
  {
    id: uuid('id').notNull(),
    tenantId: tenantIdColumn(),
    subscriptionId: uuid('subscription_id').notNull(),
    since: instant('since').notNull(),
    until: instant('until').notNull(),
    status: webhookReplayStatus('status').notNull().default('queued'),
    /** Failed deliveries found in the range so far. */
    matched: integer('matched').notNull().default(0),
    /** New deliveries made so far: one per event not already delivered or pending again. */
    requeued: integer('requeued').notNull().default(0),
    cursorCreatedAt: instant('cursor_created_at'),
    cursorId: uuid('cursor_id'),
    error: text('error'),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
    startedAt: instant('started_at'),
    completedAt: instant('completed_at'),
  },
  (table) => [
    primaryKey({ name: 'webhook_replays_pkey', columns: [table.tenantId, table.id] }),
    tenantForeignKey(
      'webhook_replays_subscription_fk',
      { tenantId: table.tenantId, column: table.subscriptionId },
      webhookSubscriptions,
    ).onDelete('cascade'),
    // One replay under way per subscription: a second would race the first over the same rows.
    uniqueIndex('webhook_replays_open_idx')
      .on(table.tenantId, table.subscriptionId)
      .where(sql`${table.status} in ('queued', 'running')`),
    // The sweeper's look-up, across tenants, of replays whose job may have been lost.
    index('webhook_replays_open_age_idx')
      .on(table.updatedAt)
      .where(sql`${table.status} in ('queued', 'running')`),
  ],
);
