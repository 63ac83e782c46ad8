import { and, asc, eq, isNull, lt, type SQL, sql } from 'drizzle-orm';
import { unionAll } from 'drizzle-orm/pg-core';
import type { Queryable } from '../../db/client.js';
import { tableRowFromRaw } from '../../db/raw-rows.js';
import { complaints, eventOutbox, events } from '../../db/schema/index.js';
import { randomBase62 } from '../../lib/ids.js';
import { type ComplaintEventType, type EventType, eventTypesSelected } from './event-types.js';

export type EventRow = typeof events.$inferSelect;
export type { EventType } from './event-types.js';

export interface ComplaintEventInput {
  tenantId: string;
  complaint: { id: string; reference: string };
  type: ComplaintEventType;
  occurredAt: Date;
  /** The subject as the REST API shows it, under its own name (`complaint`, `deadline`, …). */
  payload: Record<string, unknown>;
}

/** Position of an event in the feed: its transaction id (decimal text) and insertion position. */
export interface FeedPosition {
  txid: string;
  position: number;
}

/** A new event id: `evt_` and 24 random base62 characters. */
export const newEventId = (): string => `evt_${randomBase62(24)}`;

/**
 * Events strictly before this horizon can no longer be joined by an earlier one: every
 * transaction that started before the oldest one still running has ended.
 */
const committedHorizon = sql`pg_snapshot_xmin(pg_current_snapshot())`;

export function createEventsRepository(db: Queryable) {
  async function nextSequence(tenantId: string, complaintId: string, tx: Queryable): Promise<number> {
    const [numbered] = await tx
      .update(complaints)
      .set({ eventSequence: sql`${complaints.eventSequence} + 1` })
      .where(and(eq(complaints.tenantId, tenantId), eq(complaints.id, complaintId)))
      .returning({ sequence: complaints.eventSequence });
    return numbered!.sequence;
  }

  return {
    /**
     * Appends an event about a complaint inside the caller's transaction, numbering it in the
     * complaint's own sequence. Must run in the transaction that made the change it reports.
     */
    async appendForComplaint(input: ComplaintEventInput, tx: Queryable = db): Promise<EventRow> {
      const sequence = await nextSequence(input.tenantId, input.complaint.id, tx);
      const [row] = await tx
        .insert(events)
        .values({
          id: newEventId(),
          tenantId: input.tenantId,
          type: input.type,
          complaintId: input.complaint.id,
          sequence,
          reference: input.complaint.reference,
          occurredAt: input.occurredAt,
          data: input.payload,
        })
        .returning();
      return row!;
    },

    /**
     * Appends an event that is about the tenant's set-up rather than a complaint (a webhook
     * subscription). `subscriptionId` addresses it to one subscription only, out of the feed.
     */
    async appendForTenant(
      input: {
        tenantId: string;
        type: Extract<EventType, `webhook.${string}`>;
        occurredAt: Date;
        payload: Record<string, unknown>;
        subscriptionId?: string;
      },
      tx: Queryable = db,
    ): Promise<EventRow> {
      const [row] = await tx
        .insert(events)
        .values({
          id: newEventId(),
          tenantId: input.tenantId,
          type: input.type,
          occurredAt: input.occurredAt,
          subscriptionId: input.subscriptionId ?? null,
          data: input.payload,
        })
        .returning();
      return row!;
    },

    /**
     * A page of the tenant's feed after `after`, in (txid, position) order and only behind the
     * committed horizon, so a reader never passes an event that is still to commit.
     *
     * A page narrowed to some types reads each selected type from its own range of
     * events_tenant_type_feed_idx, in feed order, and merges those ranges: it reads about `limit`
     * events whatever the feed holds. Filtering the whole feed's index on type instead read the
     * tenant's entire retained feed for a type that had no events (413 ms at 1M complaints).
     * Patterns are expanded to the catalogue's types (`deadline.*` to its three), so an event of a
     * type no longer in the catalogue is not selected by its group's wildcard.
     */
    async feedPage(
      tenantId: string,
      options: { after: FeedPosition | null; types: string[] | null; limit: number },
      tx: Queryable = db,
    ): Promise<EventRow[]> {
      return (await this.feedPageQuery(tenantId, options, tx)) ?? [];
    },

    /** The query of feedPage(), unrun (tests EXPLAIN it); null when the patterns select no type. */
    feedPageQuery(
      tenantId: string,
      options: { after: FeedPosition | null; types: string[] | null; limit: number },
      tx: Queryable = db,
    ) {
      const page = (type: EventType | null) => {
        const conditions: (SQL | undefined)[] = [
          eq(events.tenantId, tenantId),
          type === null ? undefined : eq(events.type, type),
          isNull(events.subscriptionId),
          sql`${events.txid} < ${committedHorizon}`,
        ];
        if (options.after) {
          conditions.push(
            sql`(${events.txid}, ${events.position}) > (${options.after.txid}::xid8, ${options.after.position})`,
          );
        }
        return tx
          .select()
          .from(events)
          .where(and(...conditions))
          .orderBy(asc(events.txid), asc(events.position))
          .limit(options.limit);
      };
      if (!options.types || options.types.includes('*')) return page(null);
      const [first, second, ...more] = eventTypesSelected(options.types).map(page);
      if (!first) return null;
      if (!second) return first;
      // One ordered, limited read per type; PostgreSQL merges them (Merge Append) and stops at the limit.
      return unionAll(first, second, ...more)
        .orderBy(asc(events.txid), asc(events.position))
        .limit(options.limit);
    },

    /**
     * Claims up to `limit` events not yet fanned out, a tenant at a time, the tenants whose oldest
     * event has waited longest first: takes them off the relay's work list inside the caller's
     * transaction, so they leave it exactly when that commits. Each claim names its tenant, so on
     * Citus it runs where that tenant's work list is (a lock across nodes is refused there).
     * SKIP LOCKED lets several relays share the work without waiting on each other. The rows
     * picked are deleted by their ctid (they are locked, so it cannot move) and their events read
     * one by one by key: joined on (tenant_id, position), the planner hashed the whole work list
     * and the whole retained feed for each claim.
     */
    async claimUnrelayed(limit: number, tx: Queryable): Promise<EventRow[]> {
      const waiting = await tx.execute<{ tenant_id: string }>(sql`
        select ${eventOutbox.tenantId} from ${eventOutbox}
        group by ${eventOutbox.tenantId} order by min(${eventOutbox.position}) limit ${limit}`);
      const claimed: EventRow[] = [];
      for (const { tenant_id: tenantId } of waiting.rows) {
        if (claimed.length >= limit) break;
        const result = await tx.execute<Record<string, unknown>>(sql`
          with picked as (
            select ctid from ${eventOutbox} where ${eventOutbox.tenantId} = ${tenantId}
            order by ${eventOutbox.position} limit ${limit - claimed.length} for update skip locked
          ), claimed as (
            delete from ${eventOutbox}
            where ${eventOutbox.tenantId} = ${tenantId} and ctid = any(array(select ctid from picked))
            returning ${eventOutbox.position})
          select claimed_event.* from claimed
            cross join lateral (
              select * from ${events} where ${events.tenantId} = ${tenantId} and ${events.position} = claimed.position
            ) as claimed_event
          order by claimed_event.position`);
        for (const raw of result.rows) claimed.push(tableRowFromRaw(events, raw));
      }
      return claimed;
    },

    /** Tells writers a relay is at work for the next `ms`, so they need not NOTIFY (migration 0008). */
    async markRelayAwake(ms: number, tx: Queryable): Promise<void> {
      await tx.execute(sql`
        insert into outbox_relay_state (id, awake_until) values (true, clock_timestamp() + ${ms} * interval '1 millisecond')
        on conflict (id) do update set awake_until = greatest(outbox_relay_state.awake_until, excluded.awake_until)`);
    },

    /**
     * Withdraws a stopping relay's word that it is awake, so writers notify at once rather than
     * leave their events to another relay's poll. With several relays, the others' word goes
     * too; that only costs a few NOTIFYs until one of them relays again. Awake for good (see
     * relayAwakeForGood) stays so. now(), not clock_timestamp(): Citus refuses a volatile function
     * in an UPDATE of a table it has placed, and alone in its transaction the two agree.
     */
    async markRelayAsleep(tx: Queryable = db): Promise<void> {
      await tx.execute(sql`
        update outbox_relay_state set awake_until = now()
        where awake_until > now() and awake_until <> 'infinity'`);
    },

    /**
     * Whether writers never wake the relay, because it is awake for good: so `db distribute`
     * leaves a database on Citus (see distributeTables), and the relay polls instead.
     */
    async relayAwakeForGood(tx: Queryable = db): Promise<boolean> {
      const result = await tx.execute<{ awake: boolean }>(sql`
        select exists (select 1 from outbox_relay_state where awake_until = 'infinity') as awake`);
      return result.rows[0]!.awake;
    },

    /** Deletes events (and, by cascade, their deliveries) older than `before`, a batch at a time. */
    async purgeOlderThan(before: Date, batchSize: number, tx: Queryable = db): Promise<number> {
      const result = await tx.execute(sql`
        delete from ${events} where (${events.tenantId}, ${events.position}) in (
          select ${events.tenantId}, ${events.position} from ${events}
          where ${lt(events.occurredAt, before)}
            and not exists (select 1 from ${eventOutbox}
              where ${eventOutbox.tenantId} = ${events.tenantId} and ${eventOutbox.position} = ${events.position})
          order by ${events.position} limit ${batchSize})`);
      return result.rowCount ?? 0;
    },
  };
}

export type EventsRepository = ReturnType<typeof createEventsRepository>;
