import { sql } from 'drizzle-orm';
import {
  bigint,
  foreignKey,
  index,
  jsonb,
  pgTable,
  primaryKey,
  text,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { instant } from './columns.js';
import { tenantIdColumn } from './tenancy.js';

/**
 * The transactional outbox: every state change writes its event here in the same transaction.
 * Delivery (webhooks, the pull feed, subscriptions) reads from this table and nothing else.
 */
export const events = pgTable(
  'events',
  {
    /** Insertion order. Not commit order: a later position can commit first. */
    position: bigint('position', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    id: text('id').notNull(),
    tenantId: tenantIdColumn(),
    type: text('type').notNull(),
    complaintId: uuid('complaint_id'),
    /** Per-complaint sequence number, so consumers can order and de-duplicate per complaint. */
    sequence: bigint('sequence', { mode: 'number' }),
    /** The complaint's reference, for complaint events. */
    reference: text('reference'),
    /**
     * What the event says beyond the columns: the subject as the REST API shows it (`complaint`,
     * `deadline`, …) and the actor. toEventEnvelope (src/modules/events/event-envelope.ts) puts
     * the tenant, complaint, reference and sequence in front of it, the one place the envelope is
     * made, so no writer, in TypeScript or SQL, builds it again.
     */
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    occurredAt: instant('occurred_at').notNull().defaultNow(),
    /** Set for an event meant for one webhook subscription only (a ping); kept out of the feed. */
    subscriptionId: uuid('subscription_id'),
    /**
     * The W3C trace context of the transaction that wrote the event (TraceCarrier in
     * src/lib/trace-context.ts), so the relay and each webhook delivery continue the trace of the
     * request or job that caused it. Never part of the envelope integrators see: deliveries carry
     * it as a `traceparent` header. Writers that do not name it (SQL functions) get what the
     * transaction set in `redress.trace_context`; null with tracing off.
     */
    traceContext: jsonb('trace_context')
      .$type<Record<string, string>>()
      .default(sql`(nullif(current_setting('redress.trace_context', true), ''))::jsonb`),
  },
  (table) => [
    primaryKey({ name: 'events_pkey', columns: [table.tenantId, table.position] }),
    unique('events_tenant_id_key').on(table.tenantId, table.id),
    index('events_occurred_idx').on(table.occurredAt),
  ],
);

/**
 * The relay's work list: the position of every event not yet fanned out, written by a trigger on
 * `events` (migration 0016) and deleted by the relay that claims it. Keeping it apart leaves
 * `events` insert-only: relaying never rewrites the record, and costs a small row, not a wide one.
 */
export const eventOutbox = pgTable(
  'event_outbox',
  {
    // No foreign key: checking one would lock the event row, the very write this table avoids.
    // Retention never deletes an event still listed here.
    tenantId: uuid('tenant_id').notNull(),
    position: bigint('position', { mode: 'number' }).notNull(),
    /**
     * When the transaction that wrote the event began: the relay's lag on /metrics is the age of
     * the oldest row (outboxBacklog). Not the event's occurred_at, which a caller may backdate.
     */
    queuedAt: instant('queued_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'event_outbox_pkey', columns: [table.tenantId, table.position] }),
    // The relay claims the oldest events of all tenants first.
    index('event_outbox_position_idx').on(table.position),
  ],
);

/**
 * The pull feed's order: each relayed event's place in its tenant's feed, numbered by the outbox
 * relay as it claims the event (claimUnrelayed). The relay numbers a tenant's events while it
 * holds the tenant's row of `event_feed_heads` until it commits, so a tenant's feed positions
 * become visible in their order: a reader that has seen position n never sees an n-1 appear later,
 * whichever node or coordinator wrote the events, with no transaction id or snapshot read across
 * nodes. Insert-only and narrow; retention purges it with its event (the cascade). Pings
 * addressed to one subscription never enter it.
 */
export const eventFeed = pgTable(
  'event_feed',
  {
    tenantId: uuid('tenant_id').notNull(),
    /** The event's place in its tenant's feed: increasing, visible in order, gaps allowed. */
    feedPosition: bigint('feed_position', { mode: 'number' }).notNull(),
    /** The event: `events.position` of the same tenant. */
    eventPosition: bigint('event_position', { mode: 'number' }).notNull(),
    /** The event's type, copied so a page narrowed to some types reads this table's index alone. */
    type: text('type').notNull(),
  },
  (table) => [
    primaryKey({ name: 'event_feed_pkey', columns: [table.tenantId, table.feedPosition] }),
    // An event has one place; the relay skips an event the migration to this table already placed
    // (on conflict), and retention's cascade finds an event's place by it.
    unique('event_feed_tenant_event_key').on(table.tenantId, table.eventPosition),
    // The feed narrowed to some types: each type's events in feed order, so a page reads one range
    // per type selected rather than the whole feed filtered on type (events.repository.ts feedPage).
    index('event_feed_tenant_type_idx').on(table.tenantId, table.type, table.feedPosition),
    foreignKey({
      name: 'event_feed_event_fk',
      columns: [table.tenantId, table.eventPosition],
      foreignColumns: [events.tenantId, events.position],
    }).onDelete('cascade'),
  ],
);

/**
 * The last feed position each tenant has handed out. The relay takes a tenant's row FOR UPDATE
 * (SKIP LOCKED: a tenant another relay is numbering waits for its next pass) before it claims the
 * tenant's events, and holds it until it commits: so one tenant's events are numbered by one
 * transaction at a time, each after the last one committed.
 */
export const eventFeedHeads = pgTable('event_feed_heads', {
  tenantId: tenantIdColumn().primaryKey(),
  lastPosition: bigint('last_position', { mode: 'number' }).notNull().default(0),
});
