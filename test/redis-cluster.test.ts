import { randomUUID } from 'node:crypto';
import { type Client, createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { pipelinedRedisStore } from '../src/http/plugins/pipelined-rate-limit-store.js';
import { queuePrefix } from '../src/jobs/queues.js';
import { isCluster, type RedisClient, redisTarget, slotOf } from '../src/lib/redis.js';
import { deadlineShard } from '../src/modules/deadlines/deadline-scheduler.js';
import {
  connectLiveEvents,
  createLiveEventPublisher,
  liveEventsTopic,
} from '../src/modules/events/live-events.js';
import { subscriptionsListening } from './graphql-client.js';
import {
  call,
  complaintBody,
  createFastLaneTenant,
  createTestTenant,
  startTestApp,
  type TestApp,
} from './harness.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';
import {
  connectTestRedis,
  listKeysUnder,
  onRedisCluster,
  patientDeadlineQueue,
  testRedisEnv,
} from './redis-keys.js';
import { eventually, sleep, startWorkerProcess, type WorkerProcess } from './worker-process.js';

/**
 * What a Redis Cluster asks of Redress, checked on whichever Redis the run has: TEST_REDIS_URL's
 * server, or TEST_REDIS_CLUSTER_NODES's cluster (test/redis-cluster.sh starts one). On one server
 * the same checks hold trivially; on a cluster they are the point.
 */

const SHARDS = 3;
let isolated: IsolatedTestApp;
let t: TestApp;
let worker: WorkerProcess;

beforeAll(async () => {
  // A database and prefix of its own: this file's worker serves every tenant of its database.
  isolated = await startIsolatedTestApp('cluster', { DEADLINE_QUEUE_SHARDS: String(SHARDS) });
  t = isolated.app;
  worker = await startWorkerProcess({
    DATABASE_URL: isolated.databaseUrl,
    ...testRedisEnv(),
    REDIS_PREFIX: isolated.redisPrefix,
    DEADLINE_QUEUE_SHARDS: String(SHARDS),
    SLA_RECONCILE_INTERVAL: '1',
    WORKER_CONCURRENCY: '10',
  });
});
afterAll(async () => {
  await worker?.stop();
  await isolated?.close();
});

/** Which master holds each slot: `host:port`, or one name for a single server. */
async function slotOwners(redis: RedisClient): Promise<(slot: number) => string> {
  if (!isCluster(redis)) return () => 'the server';
  const ranges = await redis.cluster('SLOTS');
  return (slot) => {
    const range = ranges.find(([first, last]) => slot >= first && slot <= last);
    if (!range) throw new Error(`slot ${slot} is not served`);
    const [host, port] = range[2]!;
    return `${host}:${port}`;
  };
}

describe('BullMQ on Redis', () => {
  it("keeps every queue's keys in one slot, a slot per queue, and breaches through every deadline shard", async () => {
    const tenant = await createFastLaneTenant(t);
    const complaints = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const res = await call(t.app, tenant.adminKey, {
          method: 'POST',
          url: '/v1/complaints',
          json: complaintBody({ channel: 'web', category: 'fast' }),
        });
        expect(res.statusCode, res.body).toBe(201);
        return res.json() as { id: string };
      }),
    );
    // One wake-up ten minutes off in each shard, so every shard has keys when they are counted.
    const inEachShard = Array.from({ length: SHARDS }, (_, shard) => {
      let id = randomUUID();
      while (deadlineShard(id, SHARDS) !== shard) id = randomUUID();
      const dueAt = new Date(Date.now() + 10 * 60_000);
      return { id, status: 'pending' as const, dueAt, warnAts: [], warningsFired: 0 };
    });
    // Armed through a queue of the test's own that waits for Redis: the API's gives up after a
    // second, and on a busy machine the first commands to a shard's master can take longer.
    const arming = patientDeadlineQueue(t.env.REDIS_PREFIX, SHARDS);
    try {
      await arming.scheduler.arm(inEachShard);
    } finally {
      await arming.close();
    }

    // Each complaint's reply deadline is breached once, whichever shard its jobs went to.
    for (const complaint of complaints) {
      await eventually(async () => {
        const deadlines = await t.services.repositories.deadlines.listForComplaint(
          tenant.tenantId,
          complaint.id,
        );
        return deadlines.some(
          (deadline) => deadline.kind === 'online_reply' && deadline.status === 'breached',
        );
      }, 15_000);
    }
    const { rows } = await t.database.pool.query<{ n: number }>(
      `select count(*)::int as n from events where tenant_id = $1 and type = 'deadline.breached'`,
      [tenant.tenantId],
    );
    expect(rows[0]!.n).toBe(complaints.length);

    // Every key under the deployment's BullMQ prefix, from every master.
    const keys = await listKeysUnder(t.redis, `${isolated.redisPrefix}:bull`);
    const slotsByQueue = new Map<string, Set<number>>();
    for (const key of keys) {
      const queue = /:bull:\{[^}]*:([a-z0-9-]+)\}:/.exec(key)?.[1];
      expect(queue, `${key} carries no queue hash tag`).toBeDefined();
      expect(key.startsWith(`${queuePrefix(isolated.redisPrefix, queue!)}:${queue}:`), key).toBe(true);
      const slots = slotsByQueue.get(queue!) ?? new Set<number>();
      slots.add(slotOf(key));
      slotsByQueue.set(queue!, slots);
    }
    expect([...slotsByQueue.keys()].sort()).toEqual([
      'deadlines',
      'deadlines-1',
      'deadlines-2',
      'maintenance',
      'webhook-replays',
    ]);
    for (const [queue, slots] of slotsByQueue) expect([...slots], queue).toHaveLength(1);
    const slots = [...slotsByQueue.values()].map((queueSlots) => [...queueSlots][0]);
    expect(new Set(slots).size).toBe(slotsByQueue.size);

    // Nothing the worker sent spanned slots, and nothing failed.
    const troubles = worker.lines.filter((line) =>
      /CROSSSLOT|slots allocation group|"level":(50|60)/.test(line),
    );
    expect(troubles).toEqual([]);
  });
});

describe('rate limits on Redis', () => {
  it('lets exactly RATE_LIMIT_MAX requests through per key, then 429, with counters on different masters', async () => {
    const limited = await startTestApp({
      DATABASE_URL: isolated.databaseUrl,
      REDIS_PREFIX: isolated.redisPrefix,
      RATE_LIMIT_MAX: '5',
      RATE_LIMIT_WINDOW_SECONDS: '60',
    });
    try {
      // Readiness pings Redis through the same client.
      expect((await limited.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      const owner = await createTestTenant(limited.tenancy);
      const ownerOf = await slotOwners(limited.redis);
      const counterOf = (apiKeyId: string) => `${isolated.redisPrefix}:rate-limit:${apiKeyId}`;
      // Keys until three of them count on three masters (on one server, any three).
      const keys: Array<{ key: string; counter: string }> = [];
      const masters = new Set<string>();
      for (let attempt = 0; attempt < 60 && keys.length < 3; attempt += 1) {
        const key = await owner.keyWith('complaints:read');
        const { callerId: apiKeyId } = await limited.tenancy.authenticate(`Bearer ${key}`);
        const master = ownerOf(slotOf(counterOf(apiKeyId)));
        if (masters.has(master) && isCluster(limited.redis)) continue;
        masters.add(master);
        keys.push({ key, counter: counterOf(apiKeyId) });
      }
      expect(keys).toHaveLength(3);
      if (onRedisCluster()) expect(masters.size).toBe(3);

      // Eight requests a key, all at once: the counts of one event-loop turn go to Redis together.
      const responses = await Promise.all(
        Array.from({ length: 8 }, () => keys).flatMap((round) =>
          round.map(async ({ key }) => ({
            key,
            status: (await call(limited.app, key, { method: 'GET', url: '/v1/complaints' })).statusCode,
          })),
        ),
      );
      for (const { key, counter } of keys) {
        const statuses = responses.filter((response) => response.key === key).map((r) => r.status);
        expect(
          statuses.filter((status) => status === 200),
          counter,
        ).toHaveLength(5);
        expect(
          statuses.filter((status) => status === 429),
          counter,
        ).toHaveLength(3);
        expect(await limited.redis.get(counter)).toBe('8');
      }
    } finally {
      await limited.close();
    }
  });
  it('counts requests of keys in many slots, handed in together, each in its own count', async () => {
    const redis = await connectTestRedis();
    try {
      const Store = pipelinedRedisStore(redis, `${isolated.redisPrefix}:rate-limit-store:`);
      const store = new Store({} as never);
      const keys = Array.from({ length: 20 }, () => randomUUID());
      if (onRedisCluster()) {
        const ownerOf = await slotOwners(redis);
        const prefixed = keys.map((key) => `${isolated.redisPrefix}:rate-limit-store:${key}`);
        expect(new Set(prefixed.map((key) => ownerOf(slotOf(key)))).size).toBe(3);
      }
      // All in one event-loop turn: the store batches them, as it does a busy API's requests, in
      // one pipeline a slot on a cluster. A pipeline across slots would fail and each count would
      // be sent again alone: right counts still, at twice the round trips.
      const pipelines = vi.spyOn(redis, 'pipeline');
      const counts = await Promise.all(
        Array.from({ length: 3 }, () => keys).flatMap((round) =>
          round.map(
            (key) =>
              new Promise<{ key: string; current: number }>((resolve, reject) =>
                store.incr(
                  key,
                  (error, result) => (error ? reject(error) : resolve({ key, current: result!.current })),
                  60_000,
                  5,
                ),
              ),
          ),
        ),
      );
      for (const key of keys)
        expect(counts.filter((count) => count.key === key).map((count) => count.current)).toEqual([1, 2, 3]);
      const slots = new Set(keys.map((key) => slotOf(`${isolated.redisPrefix}:rate-limit-store:${key}`)));
      expect(pipelines).toHaveBeenCalledTimes(onRedisCluster() ? slots.size : 1);
    } finally {
      redis.disconnect();
    }
  });
});

describe('live events on Redis', () => {
  it('calls a second subscriber of a topic back only once Redis has subscribed the topic', async () => {
    const live = connectLiveEvents({
      redis: redisTarget(t.env),
      prefix: isolated.redisPrefix,
      onError: () => {},
    });
    const topic = liveEventsTopic(isolated.redisPrefix, randomUUID());
    const subscribed = () =>
      new Promise<void>((resolve, reject) =>
        live.emitter.on(
          topic,
          (_message, done) => done(),
          (error?: unknown) => (error ? reject(error) : resolve()),
        ),
      );
    // Connections subscribed to the topic, on every node: on a cluster each node counts its own.
    const subscribers = async () => {
      const nodes = isCluster(t.redis) ? t.redis.nodes('all') : [t.redis];
      const replies = await Promise.all(nodes.map((node) => node.pubsub('NUMSUB', topic)));
      return replies.reduce((sum, reply) => sum + Number((reply as [string, number])[1]), 0);
    };
    try {
      // The connection is new: the first subscriber's SUBSCRIBE is still on its way.
      const first = subscribed();
      await subscribed();
      expect(await subscribers()).toBe(1);
      await first;
    } finally {
      await live.close();
    }
  });

  it('reaches a subscriber through whichever node the event was published on', async () => {
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.app.server.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    const tenant = await createTestTenant(t.tenancy);
    const client: Client = createClient({
      url: `ws://127.0.0.1:${address.port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${tenant.adminKey}` },
      retryAttempts: 0,
    });
    const heard: string[] = [];
    const url = `http://127.0.0.1:${address.port}`;
    const before = await subscriptionsListening(url);
    try {
      client.subscribe(
        { query: 'subscription { events { id type } }' },
        {
          next: (result) => {
            const data = result.data as { events?: { id: string } } | undefined;
            if (data?.events) heard.push(data.events.id);
          },
          error: () => {},
          complete: () => {},
        },
      );
      await eventually(async () => (await subscriptionsListening(url)) > before);

      // Every node, masters and replicas, each through a connection to that node alone: on a
      // cluster, all but one are not the node this API process subscribed through.
      const nodes = isCluster(t.redis)
        ? t.redis.nodes('all').map((node) => `redis://${node.options.host}:${node.options.port}`)
        : [testRedisEnv().REDIS_URL];
      if (onRedisCluster()) expect(nodes).toHaveLength(6);
      const published: string[] = [];
      for (const [index, url] of nodes.entries()) {
        const id = `evt_node${index}`.padEnd(29, '0');
        const live = connectLiveEvents({ redis: { url }, prefix: isolated.redisPrefix, onError: () => {} });
        const publisher = createLiveEventPublisher({
          emitter: live.emitter,
          prefix: isolated.redisPrefix,
          log: { warn: () => {} },
        });
        publisher.afterCommit?.([
          {
            id,
            tenantId: tenant.tenantId,
            type: 'complaint.created',
            occurredAt: new Date(),
            data: { tenantId: tenant.tenantId, complaintId: '00000000-0000-4000-8000-000000000001' },
            subscriptionId: null,
            position: index + 1,
          } as never,
        ]);
        published.push(id);
        await sleep(100);
        await live.close();
      }
      await eventually(async () => heard.length >= published.length, 5_000);
      expect(heard.sort()).toEqual(published.sort());
    } finally {
      await client.dispose();
    }
  });
});
