import type { Logger } from 'pino';
import type { Db, Tx } from '../../db/client.js';
import { listenOnChannels, type PgListener } from '../../db/pg-listener.js';
import { type Span, SpanKind, SpanStatusCode, startSpanUnder } from '../../lib/trace-context.js';
import { tracingEnabled } from '../../lib/tracing-switch.js';
import type { EventRow, EventsRepository } from './events.repository.js';

/** Channel a trigger on `events` notifies on commit, when the relay may be asleep. */
export const EVENTS_CHANNEL = 'redress_events';

/**
 * While relaying, the relay tells writers it is awake for this long past its last batch, so they
 * skip NOTIFY (which serialises commits); it polls every {@link LINGER_POLL_MS} until a little
 * after that, so what they commit meanwhile is still picked up at once. Writers decide as they
 * commit (notify_relay_at_commit in ./sql/), so one that commits after the relay went back to
 * sleep notifies.
 */
const AWAKE_MS = 300;
const LINGER_POLL_MS = 25;
/**
 * How often a relay that writers never wake polls (on Citus: see relayAwakeForGood). An event
 * then waits this long at worst, and about half of it on average, before it is fanned out.
 */
const AWAKE_FOR_GOOD_POLL_MS = 100;

const relaySpan = (event: EventRow) =>
  startSpanUnder(`event relay ${event.type}`, event.traceContext, {
    kind: SpanKind.PRODUCER,
    attributes: { 'redress.event.id': event.id, 'redress.event.type': event.type },
  });

/** Something the relay hands every new event to. */
export interface EventConsumer {
  name: string;
  /**
   * Runs inside the transaction that claims the events, so what it writes (webhook deliveries)
   * commits exactly when the events leave the work list: never lost, never written twice.
   */
  withinClaim?(events: EventRow[], tx: Tx): Promise<void>;
  /** Runs after that commit (wake a dispatcher, publish to live subscribers); must not throw. */
  afterCommit?(events: EventRow[]): void;
}

export interface EventRelay {
  /** Relays everything waiting now; resolves when nothing is left. */
  drain(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The outbox relay: claims committed events that have not been fanned out (`FOR UPDATE SKIP
 * LOCKED`, so relays in several workers share the work), hands them to the consumers and takes
 * them off its work list, all in one transaction. It is woken by NOTIFY on commit and polls as a fallback,
 * so an event is relayed within milliseconds normally and within `pollIntervalMs` at worst.
 */
export function startEventRelay(deps: {
  db: Db;
  databaseUrl: string;
  events: Pick<
    EventsRepository,
    'claimUnrelayed' | 'markRelayAwake' | 'markRelayAsleep' | 'relayAwakeForGood'
  >;
  consumers: EventConsumer[];
  log: Logger;
  batchSize?: number;
  pollIntervalMs?: number;
}): EventRelay {
  const batchSize = deps.batchSize ?? 500;
  const pollIntervalMs = deps.pollIntervalMs ?? 1_000;
  let stopped = false;
  let running: Promise<number> | null = null;
  let wakeAgain = false;
  let lingerUntil = 0;
  let lingerTimer: NodeJS.Timeout | undefined;
  /** Writers never wake this relay (relayAwakeForGood): it need not say it is awake. */
  let awakeForGood = false;

  /** Keeps polling briefly after work, while writers hold back their NOTIFY. */
  function linger() {
    if (stopped || lingerTimer || Date.now() >= lingerUntil) return;
    lingerTimer = setTimeout(() => {
      lingerTimer = undefined;
      void wake().then(linger);
    }, LINGER_POLL_MS);
  }

  async function relayBatch(): Promise<EventRow[]> {
    // A span for each event relayed, in the trace the event was written in: from its claim until
    // its deliveries are committed and its consumers have been told.
    let spans: Array<Span | undefined> = [];
    try {
      const claimed = await deps.db.transaction(async (tx) => {
        const rows = await deps.events.claimUnrelayed(batchSize, tx);
        if (rows.length === 0) return rows;
        if (tracingEnabled) spans = rows.map(relaySpan);
        if (!awakeForGood) await deps.events.markRelayAwake(AWAKE_MS, tx);
        for (const consumer of deps.consumers) await consumer.withinClaim?.(rows, tx);
        return rows;
      });
      for (const consumer of deps.consumers) {
        if (claimed.length === 0 || !consumer.afterCommit) continue;
        try {
          consumer.afterCommit(claimed);
        } catch (err) {
          deps.log.error({ err, consumer: consumer.name }, 'event consumer failed after commit');
        }
      }
      return claimed;
    } catch (error) {
      for (const span of spans) span?.setStatus({ code: SpanStatusCode.ERROR, message: 'relay failed' });
      throw error;
    } finally {
      for (const span of spans) span?.end();
    }
  }

  async function relayAll(): Promise<number> {
    let total = 0;
    do {
      wakeAgain = false;
      for (;;) {
        const batch = await relayBatch();
        total += batch.length;
        if (batch.length < batchSize || stopped) break;
      }
    } while (wakeAgain && !stopped);
    return total;
  }

  /** Starts a pass, or asks the running one to go round again: wake-ups never pile up. */
  function wake(): Promise<number> {
    if (running) {
      wakeAgain = true;
      return running;
    }
    running = relayAll()
      .then((total) => {
        if (total > 0) {
          lingerUntil = Date.now() + AWAKE_MS + 2 * LINGER_POLL_MS;
          linger();
        }
        return total;
      })
      .catch((err) => {
        deps.log.error({ err }, 'event relay pass failed; the next wake-up retries');
        return 0;
      })
      .finally(() => {
        running = null;
      });
    return running;
  }

  const listener: PgListener = listenOnChannels({
    databaseUrl: deps.databaseUrl,
    channels: [EVENTS_CHANNEL],
    applicationName: 'redress-relay',
    log: deps.log,
    onNotification: () => void wake(),
    onGap: () => void wake(),
  });
  let poller = setInterval(() => void wake(), pollIntervalMs);
  void deps.events.relayAwakeForGood().then(
    (forGood) => {
      awakeForGood = forGood;
      if (!forGood || stopped || AWAKE_FOR_GOOD_POLL_MS >= pollIntervalMs) return;
      clearInterval(poller);
      poller = setInterval(() => void wake(), AWAKE_FOR_GOOD_POLL_MS);
    },
    (err: unknown) =>
      deps.log.warn({ err }, 'could not tell whether writers wake the relay; it polls as usual'),
  );

  return {
    async drain() {
      let total = 0;
      // A pass already under way may have started before the caller's events committed.
      if (running) total += await running;
      total += await wake();
      return total;
    },
    async stop() {
      stopped = true;
      clearInterval(poller);
      clearTimeout(lingerTimer);
      await listener.close();
      await running;
      await deps.events
        .markRelayAsleep()
        .catch((err) =>
          deps.log.warn({ err }, 'could not withdraw the relay awake mark; it runs out by itself'),
        );
    },
  };
}
