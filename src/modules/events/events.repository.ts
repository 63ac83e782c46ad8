import { and, asc, eq, getTableColumns, gt, lt, sql } from 'drizzle-orm';
import { unionAll } from 'drizzle-orm/pg-core';
import type { Queryable } from '../../db/client.js';
import { tableRowFromRaw } from '../../db/raw-rows.js';
import { complaints, eventFeed, eventFeedHeads, eventOutbox, events } from '../../db/schema/index.js';
import { randomBase62 } from '../../lib/ids.js';
import { currentTraceContext } from '../../lib/trace-context.js';
import {
  type ComplaintEventType,
  type EventType,
  eventTypesSelected,
  type TenantEventType,
} from './event-types.js';

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

/** An event as the feed reads it: with its place in the tenant's feed. */
export type FeedEventRow = EventRow & { feedPosition: number };

/** A new event id: `evt_` and 24 random base62 characters. */
export const newEventId = (): string => `evt_${randomBase62(24)}`;

export function createEventsRepository(db: Queryable) {
  /**
   * One tenant's share of claimUnrelayed: claims up to `limit` of its events and places those
   * that enter the feed after the tenant's head, which it moves past them. Two statements, for
   * Citus: it runs the claim, whose every part names the tenant, on that tenant's node in one go,
   * but would take an INSERT fed by the claim's rows apart into steps, and refuses one of them
   * (a delete by ctid planned on its own); the insert from the claimed values it takes whole.
   */
  async function claimTenant(tenantId: string, limit: number, tx: Queryable): Promise<EventRow[]> {
    const result = await tx.execute<Record<string, unknown>>(sql`
      with head as (
        select ${eventFeedHeads.lastPosition} from ${eventFeedHeads}
        where ${eventFeedHeads.tenantId} = ${tenantId} for update skip locked
      ), picked as (
        select ctid from ${eventOutbox} where ${eventOutbox.tenantId} = ${tenantId} and exists (select from head)
        order by ${eventOutbox.position} limit ${limit} for update skip locked
      ), claimed as (
        delete from ${eventOutbox}
        where ${eventOutbox.tenantId} = ${tenantId} and ctid = any(array(select ctid from picked))
        returning ${eventOutbox.position}
      ), claimed_events as (
        select claimed_event.* from claimed
          cross join lateral (
            select * from ${events} where ${events.tenantId} = ${tenantId} and ${events.position} = claimed.position
          ) as claimed_event
      ), advanced as (
        update ${eventFeedHeads}
        set last_position = last_position + (select count(*) from claimed_events where subscription_id is null)
        where ${eventFeedHeads.tenantId} = ${tenantId}
          and exists (select from claimed_events where subscription_id is null)
      )
      select claimed_events.*, (select last_position from head) as feed_head
      from claimed_events order by position`);
    const claimed = result.rows.map((raw) => tableRowFromRaw(events, raw));
    const entering = claimed.filter((event) => event.subscriptionId === null);
    if (entering.length === 0) return claimed;
    // The places after the head as it was, in position order, as the claim moved it. An event
    // migration 0051 placed already keeps its place; the one given here is left unused.
    await tx.execute(sql`
      insert into ${eventFeed} (tenant_id, feed_position, event_position, type)
      select ${tenantId}, ${Number(result.rows[0]!.feed_head)} + entered.n, entered.position, entered.type
      from unnest(${sql.param(entering.map((event) => event.position))}::bigint[],
                  ${sql.param(entering.map((event) => event.type))}::text[]) with ordinality as entered(position, type, n)
      on conflict (tenant_id, event_position) do nothing`);
    return claimed;
  }

  /** Makes the tenant's feed head if it has none; whether it did. */
  async function addFeedHead(tenantId: string, tx: Queryable): Promise<boolean> {
    const result = await tx.execute(sql`
      insert into ${eventFeedHeads} (tenant_id) values (${tenantId}) on conflict (tenant_id) do nothing`);
    return (result.rowCount ?? 0) > 0;
  }

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
          traceContext: currentTraceContext() ?? undefined,
        })
        .returning();
      return row!;
    },

    /**
     * Appends an event that is about the tenant rather than a complaint (a webhook subscription, a
     * day's timeline digest). `subscriptionId` addresses it to one subscription only, out of the feed.
     */
    async appendForTenant(
      input: {
        /** The event's id when the caller keeps it elsewhere too; a new one otherwise. */
        id?: string;
        tenantId: string;
        type: TenantEventType;
        occurredAt: Date;
        payload: Record<string, unknown>;
        subscriptionId?: string;
      },
      tx: Queryable = db,
    ): Promise<EventRow> {
      const [row] = await tx
        .insert(events)
        .values({
          id: input.id ?? newEventId(),
          tenantId: input.tenantId,
          type: input.type,
          occurredAt: input.occurredAt,
          subscriptionId: input.subscriptionId ?? null,
          data: input.payload,
          traceContext: currentTraceContext() ?? undefined,
        })
        .returning();
      return row!;
    },

    /**
     * A page of the tenant's feed after feed position `after`, in feed order. The relay numbers a
     * tenant's events one transaction at a time and each after the last one committed (see
     * claimUnrelayed), so what a reader sees of the feed has no hole that a later commit could
     * fill: a cursor never skips an event that commits late.
     *
     * A page narrowed to some types reads each selected type from its own range of
     * event_feed_tenant_type_idx, in feed order, and merges those ranges: it reads about `limit`
     * events whatever the feed holds. Filtering the whole feed on type instead read the tenant's
     * entire retained feed for a type that had no events (413 ms at 1M complaints). Patterns are
     * expanded to the catalogue's types (`deadline.*` to its three), so an event of a type no
     * longer in the catalogue is not selected by its group's wildcard.
     */
    async feedPage(
      tenantId: string,
      options: { after: number; types: string[] | null; limit: number },
      tx: Queryable = db,
    ): Promise<FeedEventRow[]> {
      return (await this.feedPageQuery(tenantId, options, tx)) ?? [];
    },

    /** The query of feedPage(), unrun (tests EXPLAIN it); null when the patterns select no type. */
    feedPageQuery(
      tenantId: string,
      options: { after: number; types: string[] | null; limit: number },
      tx: Queryable = db,
    ) {
      const page = (type: EventType | null) =>
        tx
          .select({ ...getTableColumns(events), feedPosition: eventFeed.feedPosition })
          .from(eventFeed)
          .innerJoin(
            events,
            // tenant_id named on both sides: on Citus each page is then one shard's query.
            and(eq(events.tenantId, tenantId), eq(events.position, eventFeed.eventPosition)),
          )
          .where(
            and(
              eq(eventFeed.tenantId, tenantId),
              type === null ? undefined : eq(eventFeed.type, type),
              gt(eventFeed.feedPosition, options.after),
            ),
          )
          .orderBy(asc(eventFeed.feedPosition))
          .limit(options.limit);
      if (!options.types || options.types.includes('*')) return page(null);
      const [first, second, ...more] = eventTypesSelected(options.types).map(page);
      if (!first) return null;
      if (!second) return first;
      // One ordered, limited read per type; PostgreSQL merges them (Merge Append) and stops at the limit.
      return unionAll(first, second, ...more)
        .orderBy(asc(eventFeed.feedPosition))
        .limit(options.limit);
    },

    /**
     * The feed position an old cursor reached. Before migration 0051 a cursor was the (transaction
     * id, position) of the last event read; the migration numbered every event in that order, so
     * the events at or before such a cursor are exactly those up to its event's place. The cursor
     * of a page before any event names position 0, which has no place: the feed's start. So does
     * an event retention has purged since: reading on from the start of what is retained
     * repeats events at worst, and never skips one.
     */
    async feedPositionOfEvent(tenantId: string, eventPosition: number, tx: Queryable = db): Promise<number> {
      const [placed] = await tx
        .select({ feedPosition: eventFeed.feedPosition })
        .from(eventFeed)
        .where(and(eq(eventFeed.tenantId, tenantId), eq(eventFeed.eventPosition, eventPosition)));
      return placed?.feedPosition ?? 0;
    },

    /**
     * Claims up to `limit` events not yet fanned out, a tenant at a time, the tenants whose oldest
     * event has waited longest first: takes them off the relay's work list inside the caller's
     * transaction, so they leave it exactly when that commits. Each claim names its tenant, so on
     * Citus it runs where that tenant's work list is (a lock across nodes is refused there).
     * SKIP LOCKED lets several relays share the work without waiting on each other.
     *
     * Each claim also gives the tenant's claimed events (pings to one subscription aside) their
     * places in its feed, after the last one handed out, in position order. It first takes the
     * tenant's feed head FOR UPDATE, held until the caller commits: so a tenant is numbered by one
     * transaction at a time, each after the previous one committed, and its feed positions become
     * visible in order (feedPage). A tenant whose head another relay holds is left to that relay,
     * whose next batch takes the rest; waiting for it instead could deadlock two relays that meet
     * the same tenants in another order. An event placed already (by migration 0051) keeps its
     * place (on conflict).
     *
     * The rows picked are deleted by their ctid (they are locked, so it cannot move) and their
     * events read one by one by key: joined on (tenant_id, position), the planner hashed the whole
     * work list and the whole retained feed for each claim.
     */
    async claimUnrelayed(limit: number, tx: Queryable): Promise<EventRow[]> {
      const waiting = await tx.execute<{ tenant_id: string }>(sql`
        select ${eventOutbox.tenantId} from ${eventOutbox}
        group by ${eventOutbox.tenantId} order by min(${eventOutbox.position}) limit ${limit}`);
      const claimed: EventRow[] = [];
      for (const { tenant_id: tenantId } of waiting.rows) {
        if (claimed.length >= limit) break;
        let rows = await claimTenant(tenantId, limit - claimed.length, tx);
        // No head held: another relay's, or a tenant whose first event this is. Its head is made
        // then (a conflict with a committed head neither waits nor writes).
        if (rows.length === 0 && (await addFeedHead(tenantId, tx))) {
          rows = await claimTenant(tenantId, limit - claimed.length, tx);
        }
        claimed.push(...rows);
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

    /**
     * Events the relay has yet to fan out, all tenants, and the age of the oldest in seconds (0
     * when none wait), for /metrics. The work list is empty but for a relay's last few
     * milliseconds, so counting it is cheap; it is long only while no relay runs.
     */
    async outboxBacklog(tx: Queryable = db): Promise<{ waiting: number; oldestAgeSeconds: number }> {
      const result = await tx.execute<{ waiting: number; oldest_age_seconds: number }>(sql`
        select count(*)::int as waiting,
          coalesce(extract(epoch from now() - min(${eventOutbox.queuedAt})), 0)::float8 as oldest_age_seconds
        from ${eventOutbox}`);
      const row = result.rows[0]!;
      return { waiting: row.waiting, oldestAgeSeconds: Math.max(0, row.oldest_age_seconds) };
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
