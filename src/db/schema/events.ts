import { sql } from 'drizzle-orm';
import { bigint, customType, index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
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
    position: bigint('position', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    id: text('id').notNull().unique(),
    tenantId: tenantIdColumn(),
    type: text('type').notNull(),
    complaintId: uuid('complaint_id'),
    /** Per-complaint sequence number, so consumers can order and de-duplicate per complaint. */
    sequence: bigint('sequence', { mode: 'number' }),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    occurredAt: instant('occurred_at').notNull().defaultNow(),
    /**
     * The writing transaction. Once every transaction older than the oldest one still running
     * has ended, no event can appear before (txid, position) any more: the pull feed reads in
     * that order behind that horizon, so a cursor never skips an event that commits late.
     */
    txid: xid8('txid').notNull().default(sql`pg_current_xact_id()`),
    /** When the relay fanned the event out to webhook deliveries and live subscribers. */
    relayedAt: instant('relayed_at'),
    /** Set for an event meant for one webhook subscription only (a ping); kept out of the feed. */
    subscriptionId: uuid('subscription_id'),
  },
  (table) => [
    index('events_tenant_feed_idx').on(table.tenantId, table.txid, table.position),
    index('events_occurred_idx').on(table.occurredAt),
    // The relay's work list: small, because rows leave it as soon as they are fanned out.
    index('events_unrelayed_idx').on(table.position).where(sql`${table.relayedAt} is null`),
  ],
);
