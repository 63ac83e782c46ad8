import { randomUUID } from 'node:crypto';
import { type Client, createClient } from 'graphql-ws';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { connectLiveEvents, liveEventsTopic } from '../src/modules/events/live-events.js';
import { postGraphql, subscriptionsListening } from './graphql-client.js';
import {
  call,
  complaintBody,
  createTestTenant,
  startTestApp,
  type TestApp,
  type TestTenant,
} from './harness.js';
import { type RedisServer, startRedisServer } from './redis-server.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { eventually } from './worker-process.js';

/**
 * Outages answer 503, never 500, and the API recovers without a restart. The app talks to a
 * redis-server of this file's own, killed and started again, and to the run's PostgreSQL through
 * a TCP proxy that drops every connection and refuses new ones, as a stopped server does. Neither
 * outage touches the shared servers other files use.
 */
let redis: RedisServer;
let proxy: TcpProxy;
let t: TestApp;
let baseUrl: string;
let direct: pg.Pool;
let tenant: TestTenant;
const logLines: Array<{ level: number; msg: string; code?: string; uncounted?: number }> = [];
const clients: Client[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  proxy = await startTcpProxy(inject('databaseUrl'));
  t = await startTestApp(
    { DATABASE_URL: proxy.through(inject('databaseUrl')), REDIS_URL: redis.url, LOG_LEVEL: 'warn' },
    { logStream: { write: (line) => logLines.push(JSON.parse(line)) } },
  );
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  baseUrl = `http://127.0.0.1:${address.port}`;
  direct = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  tenant = await createTestTenant(t.tenancy);
});
afterAll(async () => {
  for (const client of clients) await client.dispose();
  await proxy?.restore().catch(() => {});
  await redis?.start().catch(() => {});
  await t?.close();
  await proxy?.close();
  await redis?.kill();
  await direct?.end();
});

/** How a subscription's WebSocket ended, or `open` while it still runs. */
interface Subscribed {
  ack: Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  results: unknown[];
  errors: unknown[];
}

/** Subscribes to the tenant's events over a real WebSocket, with the key in connection_init. */
function subscribe(key: string): Subscribed {
  let acked: () => void = () => {};
  let closedWith: (event: { code: number; reason: string }) => void = () => {};
  const subscribed: Subscribed = {
    ack: new Promise((resolve) => (acked = resolve)),
    closed: new Promise((resolve) => (closedWith = resolve)),
    results: [],
    errors: [],
  };
  const client = createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    on: {
      connected: () => acked(),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string | Buffer };
        closedWith({ code, reason: String(reason) });
      },
    },
  });
  clients.push(client);
  client.subscribe(
    { query: 'subscription { events { id type } }' },
    {
      next: (result) => {
        if (result.data) subscribed.results.push(result.data);
        if (result.errors) subscribed.errors.push(...result.errors);
      },
      error: () => {},
      complete: () => {},
    },
  );
  return subscribed;
}

/**
 * Subscribes as `subscribe` does and returns once the API counts one more subscription listening:
 * Redis has subscribed it, so every event published from then on reaches it.
 */
async function subscribeListening(key: string): Promise<Subscribed> {
  const before = await subscriptionsListening(baseUrl);
  const subscribed = subscribe(key);
  await subscribed.ack;
  await eventually(async () => (await subscriptionsListening(baseUrl)) > before);
  return subscribed;
}

/** Publishes one event for the tenant through Redis, as the worker's relay does. */
async function publishEvent(tenantId: string, id: string): Promise<void> {
  const live = connectLiveEvents({
    redis: { url: redis.url },
    prefix: t.env.REDIS_PREFIX,
    onError: () => {},
  });
  try {
    const envelope = {
      id,
      type: 'complaint.created',
      timestamp: new Date().toISOString(),
      data: { tenantId },
    };
    await new Promise<void>((resolve, reject) =>
      live.emitter.emit(
        { topic: liveEventsTopic(t.env.REDIS_PREFIX, tenantId), payload: JSON.stringify([envelope]) },
        (error) => (error ? reject(error) : resolve()),
      ),
    );
  } finally {
    await live.close();
  }
}

/** Checks an answer is the outage 503: problem+json, Retry-After, the service named, no address. */
function expectOutage(
  res: { statusCode: number; headers: Record<string, unknown>; body: string },
  name: string,
) {
  expect(res.statusCode, res.body).toBe(503);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.headers['retry-after']).toBe('5');
  const problem = JSON.parse(res.body);
  expect(problem).toMatchObject({ status: 503, code: 'service_unavailable' });
  expect(problem.detail).toMatch(new RegExp(`^${name} cannot be reached`));
  expect(res.body).not.toMatch(/127\.0\.0\.1|postgres:\/\/|redis:\/\/|ECONNREFUSED/);
  expect(res.body).not.toContain(String(proxy.port));
}

/** The complaints of the tenant with these external references, each with what intake writes beside it. */
async function writtenAtIntake(tenantId: string, externalRefs: string[]) {
  const { rows } = await direct.query<{
    external_ref: string;
    deadlines: number;
    events: number;
    timeline: number;
  }>(
    `select c.external_ref,
            (select count(*)::int from deadlines d where d.tenant_id = c.tenant_id and d.complaint_id = c.id) as deadlines,
            (select count(*)::int from events e where e.tenant_id = c.tenant_id and e.complaint_id = c.id) as events,
            (select count(*)::int from complaint_timeline l where l.tenant_id = c.tenant_id and l.complaint_id = c.id) as timeline
       from complaints c
      where c.tenant_id = $1 and c.external_ref = any($2)`,
    [tenantId, externalRefs],
  );
  return new Map(rows.map((row) => [row.external_ref, row]));
}

describe('PostgreSQL cannot be reached', () => {
  it('answers 503 service_unavailable everywhere it is needed, and 2xx again once it is back', async () => {
    const created = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(),
    });
    expect(created.statusCode, created.body).toBe(201);
    const complaintId = created.json().id as string;
    // A key never used yet: its look-up must reach PostgreSQL.
    const freshKey = await tenant.keyWith('complaints:read');
    const writeRef = `outage-${randomUUID()}`;
    const idempotencyKey = randomUUID();
    const intake = () =>
      call(t.app, tenant.adminKey, {
        method: 'POST',
        url: '/v1/complaints',
        headers: { 'idempotency-key': idempotencyKey },
        json: complaintBody({ externalRef: writeRef }),
      });

    await proxy.cut();
    const started = performance.now();
    // REST read.
    expectOutage(
      await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaintId}` }),
      'PostgreSQL',
    );
    // The API-key look-up, before any route runs.
    expectOutage(await call(t.app, freshKey, { method: 'GET', url: '/v1/complaints' }), 'PostgreSQL');
    // REST write.
    expectOutage(await intake(), 'PostgreSQL');
    // GraphQL: HTTP 503 and the code in extensions.
    const query = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/graphql',
      json: { query: '{ complaints(first: 5) { nodes { id } } }' },
    });
    expect(query.statusCode, query.body).toBe(503);
    expect(query.headers['retry-after']).toBe('5');
    expect(query.json().errors[0].extensions).toMatchObject({
      code: 'service_unavailable',
      service: 'postgres',
    });
    expect(query.json().errors[0].message).toMatch(/^PostgreSQL cannot be reached/);
    // Readiness says which one.
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.headers['retry-after']).toBe('5');
    expect(ready.json().checks).toMatchObject({ postgres: { status: 'down' }, redis: { status: 'up' } });
    // A refused connection is known at once: nothing waits out DATABASE_CONNECT_TIMEOUT_MS.
    expect(performance.now() - started).toBeLessThan(t.env.DATABASE_CONNECT_TIMEOUT_MS);
    // A subscription cannot check its key: its connection is closed, with the reason.
    const refused = subscribe(freshKey);
    expect(await refused.closed).toEqual({
      code: 1013,
      reason: 'service_unavailable: PostgreSQL cannot be reached',
    });
    // Outages are errors in the log, each a 503, never internal_error.
    expect(logLines.filter((line) => line.code === 'internal_error')).toEqual([]);

    await proxy.restore();
    // The same app instance, with no restart.
    await eventually(async () => {
      const read = await call(t.app, tenant.adminKey, {
        method: 'GET',
        url: `/v1/complaints/${complaintId}`,
      });
      return read.statusCode === 200;
    });
    expect((await call(t.app, freshKey, { method: 'GET', url: '/v1/complaints' })).statusCode).toBe(200);
    // The write that was answered 503 left nothing, and its retry with the same key is taken.
    expect((await writtenAtIntake(tenant.tenantId, [writeRef])).size).toBe(0);
    const retried = await intake();
    expect(retried.statusCode, retried.body).toBe(201);
    const written = (await writtenAtIntake(tenant.tenantId, [writeRef])).get(writeRef);
    expect(written?.deadlines).toBeGreaterThan(0);
    expect(written?.events).toBeGreaterThan(0);
    const again = await postGraphql(t.app, tenant.adminKey, '{ complaints(first: 5) { nodes { id } } }');
    expect(again.status).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const subscribed = await subscribeListening(freshKey);
    await publishEvent(tenant.tenantId, 'evt_after_postgres');
    await eventually(async () => subscribed.results.length > 0);
    expect(subscribed.results).toEqual([{ events: { id: 'evt_after_postgres', type: 'COMPLAINT_CREATED' } }]);
  });

  it('leaves each intake cut off mid-flight written whole or not at all', async () => {
    const refs = Array.from({ length: 40 }, () => `cut-${randomUUID()}`);
    // Half with an Idempotency-Key: a key claimed before the cut must not turn the 503 into a 500.
    const answers = refs.map((externalRef, index) =>
      call(t.app, tenant.adminKey, {
        method: 'POST',
        url: '/v1/complaints',
        headers: index % 2 === 0 ? { 'idempotency-key': externalRef } : {},
        json: complaintBody({ externalRef }),
      }),
    );
    // Cut once the first answer is in, while the others are being written.
    await Promise.race(answers);
    await proxy.cut();
    const statuses = (await Promise.all(answers)).map((res) => res.statusCode);
    await proxy.restore();
    expect(statuses.filter((status) => status !== 201 && status !== 503)).toEqual([]);
    expect(statuses).toContain(503);

    const written = await writtenAtIntake(tenant.tenantId, refs);
    refs.forEach((ref, index) => {
      const row = written.get(ref);
      if (statuses[index] === 201) expect(row, ref).toBeDefined();
      // Whatever was written is whole: the complaint with its deadlines, event and timeline.
      if (row) {
        expect(row.deadlines, ref).toBeGreaterThan(0);
        expect(row.events, ref).toBeGreaterThan(0);
        expect(row.timeline, ref).toBeGreaterThan(0);
      }
    });
  });
});

describe('Redis cannot be reached', () => {
  it('keeps intake working, uncounted and said so, closes subscriptions with the reason, and recovers', async () => {
    const key = await tenant.keyWith('complaints:read', 'complaints:write');
    const listening = await subscribeListening(key);
    await publishEvent(tenant.tenantId, 'evt_before_redis');
    await eventually(async () => listening.results.length > 0);

    await redis.kill();
    // The subscriber hears why its connection ended; once reconnected it reads the feed for the gap.
    expect(await listening.closed).toEqual({
      code: 1013,
      reason: 'service_unavailable: Redis cannot be reached',
    });
    // Nor can a new subscription start.
    const refused = subscribe(key);
    expect(await refused.closed).toEqual({
      code: 1013,
      reason: 'service_unavailable: Redis cannot be reached',
    });

    // Intake commits to PostgreSQL, the record; deadlines wait there for the reconciler to arm them.
    const warnedOf = (start: string) => logLines.filter((line) => line.msg.startsWith(start)).length;
    const warningsBefore = warnedOf('rate limits not enforced');
    const refs: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const externalRef = `redis-down-${randomUUID()}`;
      refs.push(externalRef);
      const started = performance.now();
      const created = await call(t.app, key, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody({ externalRef }),
      });
      expect(created.statusCode, created.body).toBe(201);
      expect(performance.now() - started).toBeLessThan(2_000);
    }
    const written = await writtenAtIntake(tenant.tenantId, refs);
    expect([...written.values()].every((row) => row.deadlines > 0)).toBe(true);
    // Uncounted requests are counted on /metrics, and warned of once, not once a request.
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^redress_rate_limit_uncounted_total [1-9]\d*$/m);
    expect(warnedOf('rate limits not enforced') - warningsBefore).toBe(1);
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks).toMatchObject({ postgres: { status: 'up' }, redis: { status: 'down' } });

    await redis.start();
    await eventually(async () => (await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200);
    // Counting again: the window's budget goes down.
    await eventually(async () => {
      const read = await call(t.app, key, { method: 'GET', url: '/v1/complaints' });
      return Number(read.headers['x-ratelimit-remaining']) < t.env.RATE_LIMIT_MAX - 1;
    });
    const subscribed = subscribe(key);
    await subscribed.ack;
    await eventually(
      async () => {
        await publishEvent(tenant.tenantId, `evt_after_redis_${randomUUID()}`);
        return subscribed.results.length > 0;
      },
      10_000,
      300,
    );
    expect(subscribed.errors).toEqual([]);
  });
});
