import type { Logger } from 'pino';
import { listenOnChannels } from '../../db/pg-listener.js';
import type { Clock } from '../../lib/clock.js';
import { currentTraceContext, inSpan, SpanKind, SpanStatusCode } from '../../lib/trace-context.js';
import { toEventEnvelope } from '../events/event-envelope.js';
import { maskEvent } from '../personal-data/personal-fields.js';
import { nextStep } from './retry-schedule.js';
import type { WebhookMetrics } from './webhook-metrics.js';
import type { SendResult, WebhookSender } from './webhook-sender.js';
import { deliveryHeaders } from './webhook-signing.js';
import { DELIVERIES_CHANNEL, type LeasedDelivery, type WebhooksRepository } from './webhooks.repository.js';
import type { AttemptResult, WebhookOutcomes } from './webhooks.service.js';

export interface WebhookDispatcherSettings {
  /** Requests in flight at once in this process. */
  concurrency: number;
  /** Requests in flight at once to one subscription in this process. */
  perEndpoint: number;
  timeoutMs: number;
  /** Seconds before each attempt (WEBHOOK_RETRY_SCHEDULE). */
  schedule: readonly number[];
}

export interface WebhookDispatcher {
  /** Looks for due deliveries now (new ones committed, a slot freed). */
  wake(): void;
  /** Stops claiming, lets requests under way finish briefly, gives back the rest, records all. */
  stop(): Promise<void>;
}

// Past the request timeout, the time a lease allows for recording the attempt; a worker that dies
// holds its deliveries no longer than the timeout and this.
const LEASE_GRACE_MS = 3_000;
const RECORD_BATCH = 500;
// Shortest wait for a delivery falling due: a row due "now" that was not claimable is locked by
// another dispatcher's claim and will be leased (or released) within milliseconds.
const MIN_WAIT_MS = 10;
// How far ahead a rate-limited subscription's send slots are leased: the dispatcher holds such a
// delivery until its slot starts, so a subscription at 100 a second needs ten passes a second,
// not a hundred. The per-subscription cap (perEndpoint) bounds how many it holds at once.
// The pace itself (maxDeliveriesPerSecond) is kept in PostgreSQL, not Redis: it is handed out in
// the same statement that leases the deliveries (lease_due_webhook_deliveries), so every worker
// shares one pace without a second store to agree with, a Redis flush cannot lift a limit, and on
// a Redis Cluster there is nothing to keep within one slot.
const PACE_LOOKAHEAD_MS = 1_000;

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Sends webhook deliveries from the worker. PostgreSQL is the truth: due rows are leased from it
 * (no delivery state in Redis, so a Redis flush loses nothing), an attempt is recorded there, and
 * a worker that dies mid-request leaves a lease that runs out, after which any dispatcher sends
 * the event again under the same `webhook-id`. Woken by LISTEN, by the relay in this process, by
 * freed slots, by a timer for the next retry, and by a poll as the fallback.
 */
export function startWebhookDispatcher(deps: {
  repository: Pick<WebhooksRepository, 'claimDue' | 'msUntilNextDue' | 'releaseLeases'>;
  outcomes: Pick<WebhookOutcomes, 'record'>;
  sender: WebhookSender;
  databaseUrl: string;
  clock: Clock;
  log: Logger;
  metrics: WebhookMetrics;
  settings: WebhookDispatcherSettings;
  pollIntervalMs?: number;
}): WebhookDispatcher {
  const { repository, settings, clock, log } = deps;
  const pollIntervalMs = deps.pollIntervalMs ?? 1_000;
  const leaseMs = settings.timeoutMs + LEASE_GRACE_MS;

  let stopped = false;
  let inFlight = 0;
  const perSubscription = new Map<string, number>();
  const underway = new Map<
    string,
    { delivery: LeasedDelivery; controller: AbortController; done: Promise<void> }
  >();
  const givenBack: LeasedDelivery[] = [];

  // Recording: attempts that finish close together are written in one transaction.
  const unrecorded: AttemptResult[] = [];
  let recording: Promise<void> | null = null;
  /** Records attempts in one transaction; false (logged) when that failed. */
  async function record(batch: AttemptResult[]): Promise<boolean> {
    try {
      const { disabled } = await deps.outcomes.record(batch);
      for (const row of disabled) {
        log.warn(
          { webhookId: row.id, tenantId: row.tenantId, reason: row.disabledReason },
          'webhook disabled',
        );
      }
      return true;
    } catch (err) {
      log.error({ err, attempts: batch.length }, 'recording webhook attempts failed');
      return false;
    }
  }

  function recordSoon() {
    if (recording) return;
    recording = (async () => {
      await new Promise((resolve) => setImmediate(resolve));
      while (unrecorded.length > 0) {
        const batch = unrecorded.splice(0, RECORD_BATCH);
        if (await record(batch)) continue;
        // One attempt PostgreSQL refuses must not sink the others recorded with it: those would be
        // sent again when their leases ran out. Each is tried alone, and only a failing one waits
        // for its lease to run out and is sent again: at least once, never lost.
        if (batch.length > 1) for (const attempt of batch) await record([attempt]);
      }
    })().finally(() => {
      recording = null;
      if (unrecorded.length > 0) recordSoon();
    });
  }

  /**
   * Sends one attempt in a span of its own under the trace its event was written in, and tells
   * the receiver that trace in a `traceparent` header (W3C Trace Context; the signature covers the
   * id, timestamp and body, never this header).
   */
  async function sendTraced(
    delivery: LeasedDelivery,
    attempt: number,
    body: string,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<SendResult> {
    if (!delivery.traceContext) return deps.sender.send(delivery.url, body, headers, signal);
    return inSpan(
      `webhook deliver ${delivery.event.type}`,
      {
        parent: delivery.traceContext,
        kind: SpanKind.CLIENT,
        attributes: {
          'redress.event.id': delivery.event.id,
          'redress.event.type': delivery.event.type,
          'redress.webhook.subscription_id': delivery.subscriptionId,
          'redress.webhook.delivery_id': delivery.id,
          'redress.webhook.attempt': attempt,
        },
      },
      async (span) => {
        const traced = { ...headers, ...currentTraceContext() };
        const result = await deps.sender.send(delivery.url, body, traced, signal);
        if (result.status !== null) span?.setAttribute('http.response.status_code', result.status);
        if (result.status === null || result.status >= 300) {
          span?.setStatus({ code: SpanStatusCode.ERROR, message: result.error ?? `HTTP ${result.status}` });
        }
        return result;
      },
    );
  }

  async function deliver(delivery: LeasedDelivery, signal: AbortSignal): Promise<void> {
    // A rate-limited subscription's delivery waits for the slot its lease was given: it is neither
    // attempted nor failed meanwhile, and a dispatcher stopping gives it back untouched.
    if (delivery.waitMs > 0) await pause(delivery.waitMs, signal);
    if (signal.aborted) {
      givenBack.push(delivery);
      return;
    }
    const attempt = delivery.attemptCount + 1;
    const attemptedAt = clock.now();
    if (attempt === 1 && delivery.redeliveryOf === null) {
      deps.metrics.firstAttempt((attemptedAt.getTime() - delivery.event.occurredAt.getTime()) / 1000);
    }
    // A masked subscription gets the event masked; the signature covers exactly what is sent.
    const envelope = toEventEnvelope(delivery.event);
    const body = JSON.stringify(delivery.personalData === 'clear' ? envelope : maskEvent(envelope));
    let send: SendResult;
    if (delivery.secrets.length === 0) {
      send = { status: null, latencyMs: 0, error: 'no signing secret', excerpt: null, retryAfter: undefined };
    } else {
      const headers = deliveryHeaders({
        eventId: delivery.event.id,
        body,
        secrets: delivery.secrets,
        at: attemptedAt,
      });
      send = await sendTraced(delivery, attempt, body, headers, signal);
    }
    if (signal.aborted) {
      givenBack.push(delivery);
      return;
    }
    const next = nextStep({
      attempt,
      schedule: settings.schedule,
      status: send.status,
      retryAfter: send.retryAfter,
      now: clock.now(),
    });
    deps.metrics.attempted(next, send.status, send.latencyMs / 1000);
    unrecorded.push({ delivery, attempt, attemptedAt, send, next });
    recordSoon();
  }

  function start(delivery: LeasedDelivery) {
    inFlight += 1;
    perSubscription.set(delivery.subscriptionId, (perSubscription.get(delivery.subscriptionId) ?? 0) + 1);
    const controller = new AbortController();
    const done = deliver(delivery, controller.signal)
      .catch((err) => log.error({ err, deliveryId: delivery.id }, 'webhook attempt failed unexpectedly'))
      .finally(() => {
        inFlight -= 1;
        const left = (perSubscription.get(delivery.subscriptionId) ?? 1) - 1;
        if (left > 0) perSubscription.set(delivery.subscriptionId, left);
        else perSubscription.delete(delivery.subscriptionId);
        underway.delete(delivery.id);
        wake();
      });
    underway.set(delivery.id, { delivery, controller, done });
  }

  let dueTimer: NodeJS.Timeout | undefined;
  async function armDueTimer() {
    // Subscriptions at their cap are skipped: their own completions wake the dispatcher.
    const full = [...perSubscription].filter(([, n]) => n >= settings.perEndpoint).map(([id]) => id);
    const wait = await repository.msUntilNextDue(full, PACE_LOOKAHEAD_MS);
    if (stopped || wait === null || wait >= pollIntervalMs) return;
    clearTimeout(dueTimer);
    dueTimer = setTimeout(wake, Math.max(MIN_WAIT_MS, Math.ceil(wait)));
  }

  let pumping: Promise<void> | null = null;
  let again = false;
  async function pump() {
    do {
      again = false;
      const free = settings.concurrency - inFlight;
      if (free <= 0) return;
      const claimed = await repository.claimDue({
        limit: free,
        perSubscription: settings.perEndpoint,
        inFlight: perSubscription,
        leaseMs,
        lookaheadMs: PACE_LOOKAHEAD_MS,
      });
      if (stopped) {
        givenBack.push(...claimed);
        return;
      }
      for (const delivery of claimed) start(delivery);
      if (claimed.length === 0 && !again) await armDueTimer();
    } while (again && !stopped);
  }

  /** Starts a pass, or asks the running one to go round again: wake-ups never pile up. */
  function wake() {
    if (stopped) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = pump()
      .catch((err) => log.error({ err }, 'webhook dispatch pass failed; the next wake-up retries'))
      .finally(() => {
        pumping = null;
        if (again) wake();
      });
  }

  const listener = listenOnChannels({
    databaseUrl: deps.databaseUrl,
    channels: [DELIVERIES_CHANNEL],
    applicationName: 'redress-webhooks',
    log,
    onNotification: () => wake(),
    onGap: () => wake(),
  });
  // The fallback: a lost NOTIFY, and leases of a dead worker running out, are noticed by polling.
  const poller = setInterval(wake, pollIntervalMs);
  wake();

  return {
    wake,
    async stop() {
      stopped = true;
      clearInterval(poller);
      clearTimeout(dueTimer);
      await listener.close();
      await pumping;
      const running = () => Promise.all([...underway.values()].map((entry) => entry.done));
      let graceTimer: NodeJS.Timeout | undefined;
      await Promise.race([
        running(),
        new Promise((resolve) => {
          graceTimer = setTimeout(resolve, Math.min(settings.timeoutMs, 5_000));
        }),
      ]);
      clearTimeout(graceTimer);
      for (const entry of underway.values()) entry.controller.abort();
      await running();
      if (givenBack.length > 0) {
        await repository
          .releaseLeases(
            givenBack.map((delivery) => ({
              tenantId: delivery.tenantId,
              id: delivery.id,
              lease: delivery.lease,
            })),
          )
          .catch((err) =>
            log.warn({ err }, 'could not give back webhook leases; they run out by themselves'),
          );
      }
      while (recording) await recording;
      deps.sender.close();
    },
  };
}
