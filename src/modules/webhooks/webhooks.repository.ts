import { and, asc, desc, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { tableRowFromRaw } from '../../db/raw-rows.js';
import {
  events,
  webhookDeliveries,
  webhookDeliveryAttempts,
  webhookReplays,
  webhookSecrets,
  webhookSendPace,
  webhookSubscriptions,
} from '../../db/schema/index.js';
import { newId } from '../../lib/ids.js';
import type { TraceCarrier } from '../../lib/trace-context.js';
import type { StoredEvent } from '../events/event-envelope.js';

export type SubscriptionRow = typeof webhookSubscriptions.$inferSelect;
export type NewSubscriptionRow = typeof webhookSubscriptions.$inferInsert;
export type SubscriptionChanges = Partial<
  Omit<NewSubscriptionRow, 'id' | 'tenantId' | 'createdAt' | 'version' | 'updatedAt'>
>;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type DeliveryStatus = DeliveryRow['status'];
export type AttemptRow = typeof webhookDeliveryAttempts.$inferSelect;
export type ReplayRow = typeof webhookReplays.$inferSelect;
export type ReplayStatus = ReplayRow['status'];
/** Channel dispatchers LISTEN on: notified when deliveries become due without an event (redelivery, re-activation). */
export const DELIVERIES_CHANNEL = 'redress_deliveries';

/** One array parameter: drizzle would otherwise expand a JS array into a list of parameters. */
const array = (values: readonly unknown[]) => sql.param(values);

/** A delivery leased to this dispatcher, with all it needs to send it. */
export interface LeasedDelivery {
  id: string;
  tenantId: string;
  subscriptionId: string;
  /** Attempts made before this one. */
  attemptCount: number;
  redeliveryOf: string | null;
  /** The lease as PostgreSQL wrote it: the token that proves this dispatcher still holds the row. */
  lease: string;
  /** The event delivered, as stored: toEventEnvelope makes the body from it. */
  event: StoredEvent;
  url: string;
  /** Secrets that sign now: the current one first, then rotated ones still inside their overlap. */
  secrets: string[];
  /** The trace context the event was written in, which the attempt's span continues. */
  traceContext: TraceCarrier | null;
  /** Whether the subscription takes personal data in clear or masked. */
  personalData: 'clear' | 'masked';
  /**
   * Milliseconds to wait before sending: the start of the slot the subscription's rate limit gave
   * this delivery (0 without a limit). The lease already runs that much longer.
   */
  waitMs: number;
}

/**
 * A row of a tenant's table by its key: every key of a tenant's rows leads with the tenant
 * (src/db/distribution.ts), so writes address rows by both.
 */
export interface TenantRowKey {
  tenantId: string;
  id: string;
}

/** One attempt as it is recorded: its line in the delivery log and the state it leaves its delivery in. */
export interface RecordedAttempt {
  tenantId: string;
  deliveryId: string;
  /** The lease the attempt was made under: the delivery is written only while it still holds. */
  lease: string;
  attemptNumber: number;
  attemptedAt: Date;
  responseStatus: number | null;
  latencyMs: number;
  error: string | null;
  responseExcerpt: string | null;
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
}

/** What a batch of attempts did to one of their subscriptions. */
export interface SubscriptionOutcome {
  tenantId: string;
  subscriptionId: string;
  /** A success ended the run of failures: it starts again at `since` (a failure after it, or null). */
  reset: boolean;
  /** The first failure of the batch not followed by a success, or null. */
  since: Date | null;
  /** The endpoint answered 410: the subscription is disabled at once. */
  gone: boolean;
}

/** SQL of subscriptions, secrets, deliveries and attempts: the API's and the dispatcher's. */
export function createWebhooksRepository(db: Queryable) {
  return {
    /**
     * Subscriptions by status (active, disabled) and why they were disabled (`gone`, `failing`,
     * `manual`; `none` for active ones), all tenants, for /metrics.
     */
    async countSubscriptionsByState(
      tx: Queryable = db,
    ): Promise<{ status: 'active' | 'disabled'; reason: string; count: number }[]> {
      const result = await tx.execute<{ active: boolean; reason: string | null; count: number }>(sql`
        select ${webhookSubscriptions.active} as active, ${webhookSubscriptions.disabledReason} as reason,
          count(*)::int as count
        from ${webhookSubscriptions}
        group by ${webhookSubscriptions.active}, ${webhookSubscriptions.disabledReason}`);
      return result.rows.map((row) => ({
        status: row.active ? 'active' : 'disabled',
        reason: row.active ? 'none' : (row.reason ?? 'manual'),
        count: row.count,
      }));
    },

    async insertSubscription(row: NewSubscriptionRow, tx: Queryable = db): Promise<SubscriptionRow> {
      const [inserted] = await tx.insert(webhookSubscriptions).values(row).returning();
      return inserted!;
    },

    async insertSecret(
      row: { tenantId: string; subscriptionId: string; secret: string; createdAt: Date },
      tx: Queryable = db,
    ): Promise<void> {
      await tx.insert(webhookSecrets).values({ id: newId(), ...row });
    },

    /** Gives every secret still current an expiry; returns how many there were. */
    async expireCurrentSecrets(
      tenantId: string,
      subscriptionId: string,
      expiresAt: Date,
      tx: Queryable = db,
    ): Promise<number> {
      const expired = await tx
        .update(webhookSecrets)
        .set({ expiresAt })
        .where(
          and(
            eq(webhookSecrets.tenantId, tenantId),
            eq(webhookSecrets.subscriptionId, subscriptionId),
            isNull(webhookSecrets.expiresAt),
          ),
        )
        .returning({ id: webhookSecrets.id });
      return expired.length;
    },

    async findSubscription(
      tenantId: string,
      id: string,
      options: { forUpdate?: boolean } = {},
      tx: Queryable = db,
    ): Promise<SubscriptionRow | undefined> {
      const query = tx
        .select()
        .from(webhookSubscriptions)
        .where(and(eq(webhookSubscriptions.tenantId, tenantId), eq(webhookSubscriptions.id, id)));
      const [row] = options.forUpdate ? await query.for('update') : await query;
      return row;
    },

    /** A page of subscriptions, newest first; one row more than `limit` says there is a next page. */
    async listSubscriptions(
      tenantId: string,
      after: { createdAt: Date; id: string } | null,
      limit: number,
      tx: Queryable = db,
    ): Promise<SubscriptionRow[]> {
      return tx
        .select()
        .from(webhookSubscriptions)
        .where(
          and(
            eq(webhookSubscriptions.tenantId, tenantId),
            after
              ? sql`(${webhookSubscriptions.createdAt}, ${webhookSubscriptions.id}) < (${after.createdAt}, ${after.id})`
              : undefined,
          ),
        )
        .orderBy(desc(webhookSubscriptions.createdAt), desc(webhookSubscriptions.id))
        .limit(limit + 1);
    },

    async updateSubscription(
      tenantId: string,
      id: string,
      changes: SubscriptionChanges,
      nextVersion: number,
      at: Date,
      tx: Queryable = db,
    ): Promise<SubscriptionRow> {
      const [row] = await tx
        .update(webhookSubscriptions)
        .set({ ...changes, version: nextVersion, updatedAt: at })
        .where(and(eq(webhookSubscriptions.tenantId, tenantId), eq(webhookSubscriptions.id, id)))
        .returning();
      return row!;
    },

    /** Deletes a subscription with its secrets, deliveries and attempts; false when there was none. */
    async deleteSubscription(tenantId: string, id: string, tx: Queryable = db): Promise<boolean> {
      const deleted = await tx
        .delete(webhookSubscriptions)
        .where(and(eq(webhookSubscriptions.tenantId, tenantId), eq(webhookSubscriptions.id, id)))
        .returning({ id: webhookSubscriptions.id });
      return deleted.length > 0;
    },

    /** A page of a subscription's deliveries, newest first, with their event types. */
    async listDeliveries(
      tenantId: string,
      subscriptionId: string,
      options: {
        statuses: DeliveryStatus[] | null;
        after: { createdAt: Date; id: string } | null;
        limit: number;
      },
      tx: Queryable = db,
    ): Promise<Array<{ delivery: DeliveryRow; eventType: string }>> {
      const { after } = options;
      return tx
        .select({ delivery: webhookDeliveries, eventType: events.type })
        .from(webhookDeliveries)
        .innerJoin(
          events,
          and(eq(events.tenantId, webhookDeliveries.tenantId), eq(events.id, webhookDeliveries.eventId)),
        )
        .where(
          and(
            eq(webhookDeliveries.tenantId, tenantId),
            eq(webhookDeliveries.subscriptionId, subscriptionId),
            options.statuses ? inArray(webhookDeliveries.status, options.statuses) : undefined,
            after
              ? sql`(${webhookDeliveries.createdAt}, ${webhookDeliveries.id}) < (${after.createdAt}, ${after.id})`
              : undefined,
          ),
        )
        .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
        .limit(options.limit + 1);
    },

    async findDelivery(
      tenantId: string,
      subscriptionId: string,
      id: string,
      tx: Queryable = db,
    ): Promise<{ delivery: DeliveryRow; eventType: string } | undefined> {
      const [row] = await tx
        .select({ delivery: webhookDeliveries, eventType: events.type })
        .from(webhookDeliveries)
        .innerJoin(
          events,
          and(eq(events.tenantId, webhookDeliveries.tenantId), eq(events.id, webhookDeliveries.eventId)),
        )
        .where(
          and(
            eq(webhookDeliveries.tenantId, tenantId),
            eq(webhookDeliveries.subscriptionId, subscriptionId),
            eq(webhookDeliveries.id, id),
          ),
        );
      return row;
    },

    /** Every attempt of these deliveries, oldest first. */
    async attemptsOf(tenantId: string, deliveryIds: string[], tx: Queryable = db): Promise<AttemptRow[]> {
      if (deliveryIds.length === 0) return [];
      return tx
        .select()
        .from(webhookDeliveryAttempts)
        .where(
          and(
            eq(webhookDeliveryAttempts.tenantId, tenantId),
            inArray(webhookDeliveryAttempts.deliveryId, deliveryIds),
          ),
        )
        .orderBy(asc(webhookDeliveryAttempts.deliveryId), asc(webhookDeliveryAttempts.id));
    },

    /** A new delivery of an event already delivered once, due at once by PostgreSQL's clock. */
    async insertRedelivery(
      row: {
        tenantId: string;
        subscriptionId: string;
        eventId: string;
        redeliveryOf: string;
        createdAt: Date;
      },
      tx: Queryable = db,
    ): Promise<DeliveryRow> {
      const [inserted] = await tx
        .insert(webhookDeliveries)
        .values({ id: newId(), ...row, nextAttemptAt: sql`now()` })
        .returning();
      return inserted!;
    },

    /** Wakes every dispatcher once the caller's transaction commits. */
    async notifyDispatchers(tx: Queryable = db): Promise<void> {
      await tx.execute(sql`select pg_notify(${DELIVERIES_CHANNEL}, '')`);
    },

    /**
     * Subscriptions that may receive these tenants' events: the active ones, and the ones events
     * are addressed to (a ping goes to its subscription even if it was just deactivated).
     */
    async fanoutTargets(
      tenantIds: string[],
      addressedIds: string[],
      tx: Queryable = db,
    ): Promise<Array<Pick<SubscriptionRow, 'id' | 'tenantId' | 'eventTypes' | 'active'>>> {
      if (tenantIds.length === 0) return [];
      return tx
        .select({
          id: webhookSubscriptions.id,
          tenantId: webhookSubscriptions.tenantId,
          eventTypes: webhookSubscriptions.eventTypes,
          active: webhookSubscriptions.active,
        })
        .from(webhookSubscriptions)
        .where(
          and(
            inArray(webhookSubscriptions.tenantId, tenantIds),
            addressedIds.length > 0
              ? or(eq(webhookSubscriptions.active, true), inArray(webhookSubscriptions.id, addressedIds))
              : eq(webhookSubscriptions.active, true),
          ),
        );
    },

    /** One delivery per (event, subscription), first due `delaySeconds` from now. */
    async insertDeliveries(
      rows: Array<{ tenantId: string; subscriptionId: string; eventId: string }>,
      delaySeconds: number,
      tx: Queryable,
    ): Promise<number> {
      if (rows.length === 0) return 0;
      const result = await tx.execute(sql`
        insert into ${webhookDeliveries} (id, tenant_id, subscription_id, event_id, next_attempt_at)
        select v.id, v.tenant_id, v.subscription_id, v.event_id, now() + make_interval(secs => ${delaySeconds})
        from unnest(${array(rows.map(() => newId()))}::uuid[], ${array(rows.map((r) => r.tenantId))}::uuid[],
                    ${array(rows.map((r) => r.subscriptionId))}::uuid[], ${array(rows.map((r) => r.eventId))}::text[])
          as v(id, tenant_id, subscription_id, event_id)`);
      return result.rowCount ?? rows.length;
    },

    /**
     * Leases up to `limit` due deliveries, fairly: at most `perSubscription` (less what this
     * process already has in flight) from each active subscription, taken in turns so one
     * subscription's backlog cannot crowd out the others. PostgreSQL's clock sets due times and
     * leases, so workers on several hosts agree on them. One call to
     * lease_due_webhook_deliveries (./sql/), which takes the tenants with work one at a time.
     */
    async claimDue(
      options: {
        limit: number;
        perSubscription: number;
        inFlight: ReadonlyMap<string, number>;
        leaseMs: number;
        /** How far ahead a rate-limited subscription's slots are handed out (see the function). */
        lookaheadMs?: number;
      },
      tx: Queryable = db,
    ): Promise<LeasedDelivery[]> {
      const busyIds = [...options.inFlight.keys()];
      const busyCounts = busyIds.map((id) => options.inFlight.get(id)!);
      const result = await tx.execute<{
        id: string;
        tenant_id: string;
        subscription_id: string;
        event_id: string;
        attempt_count: number;
        redelivery_of: string | null;
        lease: string;
        event_type: string;
        occurred_ms: number;
        event_complaint_id: string | null;
        event_reference: string | null;
        event_sequence: string | number | null;
        event_data: Record<string, unknown>;
        url: string;
        secrets: string[];
        event_trace_context: TraceCarrier | null;
        personal_data: 'clear' | 'masked';
        wait_ms: number;
      }>(sql`
        select * from lease_due_webhook_deliveries(${options.limit}::int, ${options.perSubscription}::int,
          ${array(busyIds)}::uuid[], ${array(busyCounts)}::int[], ${Math.round(options.leaseMs)}::int,
          ${Math.round(options.lookaheadMs ?? 0)}::int)`);
      return result.rows.map((row) => ({
        id: row.id,
        tenantId: row.tenant_id,
        subscriptionId: row.subscription_id,
        attemptCount: row.attempt_count,
        redeliveryOf: row.redelivery_of,
        lease: row.lease,
        event: {
          id: row.event_id,
          type: row.event_type,
          occurredAt: new Date(row.occurred_ms),
          tenantId: row.tenant_id,
          complaintId: row.event_complaint_id,
          reference: row.event_reference,
          sequence: row.event_sequence === null ? null : Number(row.event_sequence),
          data: row.event_data,
        },
        url: row.url,
        secrets: row.secrets,
        traceContext: row.event_trace_context,
        personalData: row.personal_data,
        waitMs: Number(row.wait_ms),
      }));
    },

    /**
     * Milliseconds until the next unleased delivery of an active subscription falls due (0 if one
     * is due now), skipping subscriptions whose in-flight requests will wake the dispatcher anyway;
     * null when nothing is waiting.
     */
    async msUntilNextDue(
      excludedSubscriptions: string[],
      lookaheadMs = 0,
      tx: Queryable = db,
    ): Promise<number | null> {
      // Not greatest(0, …) in SQL: GREATEST skips NULLs, so "nothing waiting" would come back as 0,
      // "due now", and an idle dispatcher would poll in a loop. A rate-limited subscription's
      // delivery is due no earlier than its next slot comes within the lookahead.
      const result = await tx.execute<{ wait_ms: number | null }>(sql`
        select (extract(epoch from min(greatest(due.next_attempt_at,
            coalesce(p.next_slot_at - make_interval(secs => ${lookaheadMs / 1000}::float8), '-infinity')))
          - now()) * 1000)::float8 as wait_ms
        from ${webhookSubscriptions} s
        cross join lateral (
          select d.next_attempt_at from ${webhookDeliveries} d
          where d.tenant_id = s.tenant_id and d.subscription_id = s.id and d.status = 'pending'
            and (d.leased_until is null or d.leased_until < now())
          order by d.next_attempt_at limit 1
        ) due
        left join ${webhookSendPace} p on p.tenant_id = s.tenant_id and p.subscription_id = s.id
          and s.max_deliveries_per_second is not null
        where s.active and s.id <> all(${array(excludedSubscriptions)}::uuid[])`);
      const wait = result.rows[0]?.wait_ms;
      return wait === null || wait === undefined ? null : Math.max(0, Number(wait));
    },

    /** Gives leased deliveries back at once (a worker stopping), so another worker need not wait for the lease. */
    async releaseLeases(leases: Array<TenantRowKey & { lease: string }>, tx: Queryable = db): Promise<void> {
      if (leases.length === 0) return;
      await tx.execute(sql`
        update ${webhookDeliveries} d set leased_until = null
        from unnest(${array(leases.map((l) => l.tenantId))}::uuid[], ${array(leases.map((l) => l.id))}::uuid[],
                    ${array(leases.map((l) => l.lease))}::timestamptz[])
          as v(tenant_id, id, lease)
        where d.tenant_id = v.tenant_id and d.id = v.id and d.status = 'pending' and d.leased_until = v.lease`);
    },

    /**
     * Records a batch of attempts and what they did to their subscriptions, in one call
     * (record_webhook_attempts in ./sql/, which says how); returns the subscriptions it disabled.
     * Both lists go grouped by tenant, as the function takes them a tenant at a time.
     */
    async recordAttempts(
      attempts: readonly RecordedAttempt[],
      subscriptions: readonly SubscriptionOutcome[],
      failingBefore: Date,
      at: Date,
      tx: Queryable,
    ): Promise<SubscriptionRow[]> {
      if (attempts.length === 0) return [];
      const byTenant = <T extends { tenantId: string }>(rows: readonly T[]) =>
        [...rows].sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0));
      const a = byTenant(attempts);
      const s = byTenant(subscriptions);
      const iso = (date: Date | null) => date?.toISOString() ?? null;
      const result = await tx.execute<Record<string, unknown>>(sql`
        select * from record_webhook_attempts(
          ${array(a.map((r) => r.tenantId))}::uuid[],
          ${array(a.map((r) => r.deliveryId))}::uuid[],
          ${array(a.map((r) => r.lease))}::timestamptz[],
          ${array(a.map((r) => r.attemptNumber))}::int[],
          ${array(a.map((r) => iso(r.attemptedAt)))}::timestamptz[],
          ${array(a.map((r) => r.responseStatus))}::int[],
          ${array(a.map((r) => r.latencyMs))}::int[],
          ${array(a.map((r) => r.error))}::text[],
          ${array(a.map((r) => r.responseExcerpt))}::text[],
          ${array(a.map((r) => r.status))}::webhook_delivery_status[],
          ${array(a.map((r) => iso(r.nextAttemptAt)))}::timestamptz[],
          ${array(s.map((r) => r.tenantId))}::uuid[],
          ${array(s.map((r) => r.subscriptionId))}::uuid[],
          ${array(s.map((r) => r.reset))}::boolean[],
          ${array(s.map((r) => iso(r.since)))}::timestamptz[],
          ${array(s.map((r) => r.gone))}::boolean[],
          ${failingBefore.toISOString()}::timestamptz,
          ${at.toISOString()}::timestamptz)`);
      return result.rows.map((raw) => tableRowFromRaw(webhookSubscriptions, raw));
    },

    /**
     * A new replay, queued; undefined when the subscription already has one queued or running
     * (webhook_replays_open_idx), which the caller then names.
     */
    async insertReplay(
      row: {
        id: string;
        tenantId: string;
        subscriptionId: string;
        since: Date;
        until: Date;
        createdAt: Date;
      },
      tx: Queryable = db,
    ): Promise<ReplayRow | undefined> {
      const result = await tx.execute<Record<string, unknown>>(sql`
        insert into ${webhookReplays} (id, tenant_id, subscription_id, since, until, created_at, updated_at)
        values (${row.id}, ${row.tenantId}, ${row.subscriptionId}, ${row.since.toISOString()}::timestamptz,
          ${row.until.toISOString()}::timestamptz, ${row.createdAt.toISOString()}::timestamptz,
          ${row.createdAt.toISOString()}::timestamptz)
        on conflict (tenant_id, subscription_id) where status in ('queued', 'running') do nothing
        returning *`);
      const [raw] = result.rows;
      return raw ? tableRowFromRaw(webhookReplays, raw) : undefined;
    },

    /** The replay of this subscription queued or running, if there is one. */
    async findOpenReplay(
      tenantId: string,
      subscriptionId: string,
      tx: Queryable = db,
    ): Promise<ReplayRow | undefined> {
      const [row] = await tx
        .select()
        .from(webhookReplays)
        .where(
          and(
            eq(webhookReplays.tenantId, tenantId),
            eq(webhookReplays.subscriptionId, subscriptionId),
            inArray(webhookReplays.status, ['queued', 'running']),
          ),
        );
      return row;
    },

    /** A replay by its id, of this subscription (or, without one, of any of the tenant's). */
    async findReplay(
      tenantId: string,
      id: string,
      options: { subscriptionId?: string; forUpdate?: boolean } = {},
      tx: Queryable = db,
    ): Promise<ReplayRow | undefined> {
      const query = tx
        .select()
        .from(webhookReplays)
        .where(
          and(
            eq(webhookReplays.tenantId, tenantId),
            eq(webhookReplays.id, id),
            options.subscriptionId ? eq(webhookReplays.subscriptionId, options.subscriptionId) : undefined,
          ),
        );
      const [row] = options.forUpdate ? await query.for('update') : await query;
      return row;
    },

    async updateReplay(
      tenantId: string,
      id: string,
      changes: Partial<
        Pick<
          ReplayRow,
          | 'status'
          | 'matched'
          | 'requeued'
          | 'cursorCreatedAt'
          | 'cursorId'
          | 'error'
          | 'startedAt'
          | 'completedAt'
          | 'updatedAt'
        >
      >,
      tx: Queryable = db,
    ): Promise<ReplayRow> {
      const [row] = await tx
        .update(webhookReplays)
        .set(changes)
        .where(and(eq(webhookReplays.tenantId, tenantId), eq(webhookReplays.id, id)))
        .returning();
      return row!;
    },

    /**
     * The next `limit` failed deliveries of a replay's range after its cursor, oldest first, each
     * saying whether its event still needs sending: false when the subscription has a delivery of
     * that event pending or succeeded (redelivered already, or an earlier row of this replay).
     */
    async failedDeliveriesAfter(
      replay: Pick<
        ReplayRow,
        'tenantId' | 'subscriptionId' | 'since' | 'until' | 'cursorCreatedAt' | 'cursorId'
      >,
      limit: number,
      tx: Queryable = db,
    ): Promise<Array<{ id: string; eventId: string; createdAt: Date; needed: boolean }>> {
      const cursor =
        replay.cursorCreatedAt && replay.cursorId
          ? sql`and (d.created_at, d.id) > (${replay.cursorCreatedAt.toISOString()}::timestamptz, ${replay.cursorId}::uuid)`
          : sql``;
      const result = await tx.execute<{
        id: string;
        event_id: string;
        created_ms: number;
        needed: boolean;
      }>(sql`
        select d.id, d.event_id, (extract(epoch from d.created_at) * 1000)::float8 as created_ms,
          not exists (
            select from ${webhookDeliveries} o
            where o.tenant_id = d.tenant_id and o.event_id = d.event_id and o.subscription_id = d.subscription_id
              and o.status in ('pending', 'succeeded')
          ) as needed
        from ${webhookDeliveries} d
        where d.tenant_id = ${replay.tenantId} and d.subscription_id = ${replay.subscriptionId}
          and d.created_at >= ${replay.since.toISOString()}::timestamptz
          and d.created_at < ${replay.until.toISOString()}::timestamptz
          and d.status = 'failed' ${cursor}
        order by d.created_at, d.id
        limit ${limit}`);
      return result.rows.map((row) => ({
        id: row.id,
        eventId: row.event_id,
        createdAt: new Date(Number(row.created_ms)),
        needed: row.needed,
      }));
    },

    /** New deliveries, due at once by PostgreSQL's clock, each sending again the event of the one it names. */
    async insertRedeliveries(
      rows: Array<{ tenantId: string; subscriptionId: string; eventId: string; redeliveryOf: string }>,
      createdAt: Date,
      tx: Queryable,
    ): Promise<number> {
      if (rows.length === 0) return 0;
      const result = await tx.execute(sql`
        insert into ${webhookDeliveries} (id, tenant_id, subscription_id, event_id, redelivery_of, next_attempt_at, created_at)
        select v.id, v.tenant_id, v.subscription_id, v.event_id, v.redelivery_of, now(), ${createdAt.toISOString()}::timestamptz
        from unnest(${array(rows.map(() => newId()))}::uuid[], ${array(rows.map((r) => r.tenantId))}::uuid[],
                    ${array(rows.map((r) => r.subscriptionId))}::uuid[], ${array(rows.map((r) => r.eventId))}::text[],
                    ${array(rows.map((r) => r.redeliveryOf))}::uuid[])
          as v(id, tenant_id, subscription_id, event_id, redelivery_of)`);
      return result.rowCount ?? rows.length;
    },

    /**
     * Replays queued or running, of every tenant, not touched since `before`: their job may have
     * been lost (Redis flushed, the enqueue after commit failed). Spans tenants on purpose: the
     * sweeper that enqueues them again serves all of them; it locks nothing.
     */
    async staleOpenReplays(before: Date, limit: number, tx: Queryable = db): Promise<TenantRowKey[]> {
      return tx
        .select({ tenantId: webhookReplays.tenantId, id: webhookReplays.id })
        .from(webhookReplays)
        .where(
          and(
            inArray(webhookReplays.status, ['queued', 'running']),
            sql`${webhookReplays.updatedAt} < ${before.toISOString()}::timestamptz`,
          ),
        )
        .orderBy(asc(webhookReplays.updatedAt))
        .limit(limit);
    },
  };
}

export type WebhooksRepository = ReturnType<typeof createWebhooksRepository>;
