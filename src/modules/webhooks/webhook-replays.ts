import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { ConflictError, NotFoundError, ReplayRangeError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import type { IdempotencyRepository } from '../idempotency/idempotency.repository.js';
import { bindToKey, type IdempotencyBinding } from '../idempotency/idempotency-binding.js';
import type { ReplayRow, WebhooksRepository } from './webhooks.repository.js';
import { REPLAY_MAX_RANGE_DAYS } from './webhooks.schemas.js';
import { inactive } from './webhooks.service.js';

const DAY_MS = 86_400_000;
/** Failed deliveries handled in one transaction of a replay's job. */
export const REPLAY_BATCH_SIZE = 500;

/**
 * Replays of a subscription's failed deliveries (scope `webhooks:manage`): the API starts one and
 * reads it; the worker's job works through it in batches. Each failed delivery created in
 * [since, until) whose event the subscription has not had delivered or pending since becomes a
 * new delivery of the same event (a redelivery: same `webhook-id`, attempts from 1 on the retry
 * schedule), one per event.
 *
 * A job may run again (BullMQ retries, a worker killed mid-way, the sweeper's re-queue) or twice
 * at once: each batch locks the replay row, reads its cursor, requeues and moves the cursor in one
 * transaction, so a batch is done exactly once whichever run commits it.
 */
export function createWebhookReplays(deps: {
  db: Db;
  webhooks: WebhooksRepository;
  idempotency: Pick<IdempotencyRepository, 'bindResource'>;
  clock: Clock;
  /** Queues the replay's job after commit; null where no queue is wanted (the sweeper queues it later). */
  enqueue: ((job: { tenantId: string; replayId: string }) => Promise<void>) | null;
  onEnqueueError?: (error: unknown) => void;
  batchSize?: number;
}) {
  const { db, webhooks, clock } = deps;
  const batchSize = deps.batchSize ?? REPLAY_BATCH_SIZE;

  return {
    /**
     * Starts a replay of the failed deliveries of subscription `webhookId` created in
     * [since, until); an `until` later than now is taken as now. The subscription must be active
     * (409 `webhook_inactive`: the deliveries would only wait) and have no replay under way (409
     * `webhook_replay_in_progress`).
     */
    async start(
      tenantId: string,
      webhookId: string,
      input: { since: Date; until: Date },
      idempotency: IdempotencyBinding | null = null,
    ): Promise<ReplayRow> {
      if (idempotency?.recoveredResourceId) {
        const recovered = await webhooks.findReplay(tenantId, idempotency.recoveredResourceId, {
          subscriptionId: webhookId,
        });
        if (recovered) return recovered;
      }
      const now = clock.now();
      const since = input.since;
      const until = input.until.getTime() > now.getTime() ? now : input.until;
      const range = {
        since: since.toISOString(),
        until: until.toISOString(),
        maxRangeDays: REPLAY_MAX_RANGE_DAYS,
      };
      if (until.getTime() <= since.getTime()) {
        throw new ReplayRangeError(
          `The replay range from '${range.since}' to '${range.until}' is empty: \`until\` must be after \`since\`, and a time later than now counts as now.`,
          range,
        );
      }
      if (until.getTime() - since.getTime() > REPLAY_MAX_RANGE_DAYS * DAY_MS) {
        throw new ReplayRangeError(
          `The replay range from '${range.since}' to '${range.until}' is longer than ${REPLAY_MAX_RANGE_DAYS} days; replay it in parts.`,
          range,
        );
      }
      const row = await db.transaction(async (tx) => {
        const subscription = await webhooks.findSubscription(tenantId, webhookId, {}, tx);
        if (!subscription) throw new NotFoundError('Webhook', webhookId);
        if (!subscription.active) throw inactive(subscription, 'replay its deliveries');
        const inserted = await webhooks.insertReplay(
          { id: newId(), tenantId, subscriptionId: webhookId, since, until, createdAt: now },
          tx,
        );
        if (!inserted) {
          const open = await webhooks.findOpenReplay(tenantId, webhookId, tx);
          throw new ConflictError('webhook_replay_in_progress', 'A replay is under way', {
            detail: `Webhook '${webhookId}' has replay '${open?.id ?? 'unknown'}' ${open?.status ?? 'under way'}; start another when it has finished.`,
            extensions: { replayId: open?.id },
          });
        }
        await bindToKey(deps.idempotency, tenantId, idempotency, inserted.id, tx);
        return inserted;
      });
      // After commit: a job that ran first would not find its replay. Should queueing fail, the
      // maintenance sweep queues the replay within a couple of minutes (webhooks.jobs.ts).
      if (deps.enqueue) {
        await deps.enqueue({ tenantId, replayId: row.id }).catch((error) => deps.onEnqueueError?.(error));
      }
      return row;
    },

    /** A replay of this subscription; 404 for another subscription's or another tenant's. */
    async get(tenantId: string, webhookId: string, replayId: string): Promise<ReplayRow> {
      const row = await webhooks.findReplay(tenantId, replayId, { subscriptionId: webhookId });
      if (!row) {
        if (!(await webhooks.findSubscription(tenantId, webhookId)))
          throw new NotFoundError('Webhook', webhookId);
        throw new NotFoundError('Webhook replay', replayId);
      }
      return row;
    },

    /** Works a replay through to its end, a batch a transaction (the worker's job). */
    async run(tenantId: string, replayId: string): Promise<ReplayRow | undefined> {
      for (;;) {
        const { row, finished } = await db.transaction(async (tx) => {
          const replay = await webhooks.findReplay(tenantId, replayId, { forUpdate: true }, tx);
          if (!replay || replay.status === 'completed' || replay.status === 'failed') {
            return { row: replay, finished: true };
          }
          const now = clock.now();
          const batch = await webhooks.failedDeliveriesAfter(replay, batchSize, tx);
          // A range may hold an event's failed delivery and its failed redelivery: one new each.
          const events = new Set<string>();
          const wanted = batch.filter((delivery) => {
            if (!delivery.needed || events.has(delivery.eventId)) return false;
            events.add(delivery.eventId);
            return true;
          });
          const requeued = await webhooks.insertRedeliveries(
            wanted.map((delivery) => ({
              tenantId,
              subscriptionId: replay.subscriptionId,
              eventId: delivery.eventId,
              redeliveryOf: delivery.id,
            })),
            now,
            tx,
          );
          if (requeued > 0) await webhooks.notifyDispatchers(tx);
          const last = batch.at(-1);
          const done = batch.length < batchSize;
          const updated = await webhooks.updateReplay(
            tenantId,
            replayId,
            {
              status: done ? 'completed' : 'running',
              matched: replay.matched + batch.length,
              requeued: replay.requeued + requeued,
              cursorCreatedAt: last?.createdAt ?? replay.cursorCreatedAt,
              cursorId: last?.id ?? replay.cursorId,
              startedAt: replay.startedAt ?? now,
              completedAt: done ? now : null,
              updatedAt: now,
            },
            tx,
          );
          return { row: updated, finished: done };
        });
        if (finished) return row;
      }
    },

    /** Marks a replay failed (its job gave up), keeping what it requeued so far. */
    async fail(tenantId: string, replayId: string, error: string): Promise<void> {
      await db.transaction(async (tx) => {
        const replay = await webhooks.findReplay(tenantId, replayId, { forUpdate: true }, tx);
        if (!replay || replay.status === 'completed' || replay.status === 'failed') return;
        const now = clock.now();
        await webhooks.updateReplay(
          tenantId,
          replayId,
          { status: 'failed', error: error.slice(0, 500), completedAt: now, updatedAt: now },
          tx,
        );
      });
    },
  };
}

export type WebhookReplays = ReturnType<typeof createWebhookReplays>;
