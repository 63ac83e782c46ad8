import type { EventEmitter } from 'node:events';
import mqemitter, { type MQEmitter } from 'mqemitter';
import mqemitterRedis from 'mqemitter-redis';
import type { Logger } from 'pino';
import { groupBy } from '../../lib/group-by.js';
import { createRedis, type RedisClient, type RedisTarget } from '../../lib/redis.js';
import { type EventEnvelope, toEventEnvelope } from './event-envelope.js';
import type { EventConsumer } from './event-relay.js';

/** The pub/sub that carries committed events to every API process's GraphQL subscriptions. */
export type LiveEvents = MQEmitter;

/** Whether live events can reach this process, and word when they stop. */
export interface LiveEventsLink {
  /**
   * Resolves true once the subscribing connection to Redis is up, at once if it is, or false
   * when it is not up within `timeoutMs`.
   */
  whenUp(timeoutMs: number): Promise<boolean>;
  /** Calls `listener` each time that connection drops; returns a function that stops the calls. */
  onLost(listener: () => void): () => void;
}

/** The link of an emitter within this process: always up. */
const localLink: LiveEventsLink = { whenUp: async () => true, onLost: () => () => {} };

/** The link of the pub/sub's subscribing connection: up while it is ready. */
function redisLink(subConn: RedisClient): LiveEventsLink {
  const lostListeners = new Set<() => void>();
  subConn.on('close', () => {
    for (const listener of [...lostListeners]) listener();
  });
  return {
    whenUp(timeoutMs) {
      if (subConn.status === 'ready') return Promise.resolve(true);
      return new Promise((resolve) => {
        const ready = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          subConn.off('ready', ready);
          resolve(false);
        }, timeoutMs);
        subConn.once('ready', ready);
      });
    },
    onLost(listener) {
      lostListeners.add(listener);
      return () => lostListeners.delete(listener);
    },
  };
}

/**
 * Redis pub/sub shared by the worker (publishing) and every API process (subscribing). Channels
 * are named under the deployment's REDIS_PREFIX, so deployments sharing a Redis never hear each other.
 *
 * On a Redis Cluster both connections are cluster clients: a message published through any node
 * reaches subscribers on every node (Redis carries PUBLISH over the cluster bus), and when the node
 * a subscriber listens on fails, ioredis subscribes again through another.
 */
export function connectLiveEvents(options: {
  redis: RedisTarget;
  prefix: string;
  onError: (error: unknown) => void;
}): {
  emitter: LiveEvents;
  topicFor(tenantId: string): string;
  link: LiveEventsLink;
  close(): Promise<void>;
} {
  const subConn = createRedis(options.redis, 'pubsub');
  const pubConn = createRedis(options.redis, 'pubsub');
  // mqemitter-redis takes the connections as given (typed for a single server; it calls only
  // what a Cluster has too: subscribe, publish, quit and their events).
  const emitter = mqemitterRedis({ subConn, pubConn } as unknown as Parameters<typeof mqemitterRedis>[0]);
  // A subscriber counts as listening (Mercurius resolves its subscribe) when `on` calls back. For a
  // topic it has already sent SUBSCRIBE for, mqemitter-redis calls back at once, though that
  // SUBSCRIBE may still be on its way, and it calls back without the error when SUBSCRIBE fails:
  // a second subscriber of a tenant in a process could start deaf. One more SUBSCRIBE of the topic
  // (idempotent, answered in order on the subscribing connection, the same node's on a cluster)
  // answers only once the topic is subscribed, or fails with the reason. Topics never hold
  // mqemitter's wildcards (liveEventsTopic).
  const on = emitter.on.bind(emitter);
  emitter.on = (topic, listener, callback?: (error?: unknown) => void) =>
    on(topic, listener, () => {
      subConn.subscribe(topic).then(
        () => callback?.(),
        (error: unknown) => callback?.(error),
      );
    });
  // Connection trouble is reported here, at most every half minute: ioredis reconnects by itself
  // and fails each attempt while Redis is away. Left unheard, the emitter's 'error' would end
  // the process.
  let reportedAt = 0;
  (emitter as unknown as { state: EventEmitter }).state.on('error', (error: unknown) => {
    if (Date.now() - reportedAt < 30_000) return;
    reportedAt = Date.now();
    options.onError(error);
  });
  return {
    emitter,
    topicFor: (tenantId) => liveEventsTopic(options.prefix, tenantId),
    link: redisLink(subConn),
    // QUIT waits for a connection that may never come back; past a moment, just drop them.
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          subConn.disconnect();
          pubConn.disconnect();
          resolve();
        }, 1_000);
        emitter.close(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

/** An emitter within this process only: for tools that build the app without Redis (schema export). */
export function localLiveEvents(prefix: string) {
  const emitter = mqemitter();
  return {
    emitter,
    topicFor: (tenantId: string) => liveEventsTopic(prefix, tenantId),
    link: localLink,
    close: () => new Promise<void>((resolve) => emitter.close(() => resolve())),
  };
}

/**
 * Each tenant's own topic: a subscriber only ever listens to its tenant's. The name says what its
 * messages carry (batches, LiveEventMessage): a process from before batching listened on
 * `<prefix>/events/<tenant>` for one event a message, so while old and new processes run side by
 * side in a deployment, each hears only its own kind and none misreads the other's.
 */
export const liveEventsTopic = (prefix: string, tenantId: string): string =>
  `${prefix}/event-batches/${tenantId}`;

/**
 * A message on a tenant's topic: the envelopes webhooks and the feed carry, with their event ids,
 * in relay order, as a JSON array. One message carries all of a relay batch's events for the
 * tenant: at a thousand events a second, a message each cost the worker and Redis more than
 * everything else the relay does. The array goes as JSON text because the pub/sub frames messages
 * with msgpack, which walks an object field by field many times slower than JSON.stringify.
 */
export interface LiveEventMessage {
  topic: string;
  payload: string;
}

/** The envelopes of one live message, in relay order. */
export const liveEventsOf = (payload: string): EventEnvelope[] => JSON.parse(payload);

/**
 * The relay consumer that hands every relayed event to live subscribers, after the relay's
 * transaction commits: the same envelope and id as its webhook deliveries and the feed. An event
 * addressed to one webhook (a ping) stays out, as it stays out of the feed. Delivery to
 * subscribers is at most once: a subscriber that was not connected reads the feed.
 */
export function createLiveEventPublisher(deps: {
  emitter: LiveEvents;
  prefix: string;
  log: Pick<Logger, 'warn'>;
}): EventConsumer {
  return {
    name: 'live-subscriptions',
    afterCommit(events) {
      const byTenant = groupBy(
        events.filter((event) => !event.subscriptionId),
        (event) => event.tenantId,
      );
      for (const [tenantId, tenantEvents] of byTenant) {
        const message: LiveEventMessage = {
          topic: liveEventsTopic(deps.prefix, tenantId),
          payload: JSON.stringify(tenantEvents.map(toEventEnvelope)),
        };
        deps.emitter.emit(message, (error) => {
          if (error) {
            deps.log.warn(
              { err: error, eventIds: tenantEvents.map((event) => event.id) },
              'live events not published',
            );
          }
        });
      }
    },
  };
}
