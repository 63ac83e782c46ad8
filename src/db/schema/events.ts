import { sql } from 'drizzle-orm';
import {
  bigint,
  customType,
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
 * A PostgreSQL 64-bit transaction id (`xid8`), read as a decimal string. Events carry the id of
 * the transaction that wrote them: see `events.txid`.
 */
const xid8 = customType<{ data: string; driverData: string }>({
  dataType: () => 'xid8',
});

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
    /**
     * The writing transaction. Once every transaction older than the oldest one still running
     * has ended, no event can appear before (txid, position) any more: the pull feed reads in
     * that order behind that horizon, so a cursor never skips an event that commits late.
     */
    txid: xid8('txid').notNull().default(sql`pg_current_xact_id()`),
    /** Set for an event meant for one webhook subscription only (a ping); kept out of the feed. */
    subscriptionId: uuid('subscription_id'),
  },
  (table) => [
    primaryKey({ name: 'events_pkey', columns: [table.tenantId, table.position] }),
    unique('events_tenant_id_key').on(table.tenantId, table.id),
    index('events_tenant_feed_idx').on(table.tenantId, table.txid, table.position),
    // The feed narrowed to some types: each type's events in feed order, so a page reads one range
    // per type selected rather than the whole feed filtered on type (events.repository.ts feedPage).
    // Pings addressed to one subscription are never in the feed, so they are left out.
    index('events_tenant_type_feed_idx')
      .on(table.tenantId, table.type, table.txid, table.position)
      .where(sql`${table.subscriptionId} is null`),
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
  },
  (table) => [
    primaryKey({ name: 'event_outbox_pkey', columns: [table.tenantId, table.position] }),
    // The relay claims the oldest events of all tenants first.
    index('event_outbox_position_idx').on(table.position),
  ],
);
