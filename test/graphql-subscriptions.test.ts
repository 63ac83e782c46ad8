import { once } from 'node:events';
import { createServer } from 'node:net';
import { type Client, createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { redisTarget } from '../src/lib/redis.js';
import { EVENT_TYPES, eventTypeNames } from '../src/modules/events/event-types.js';
import { connectLiveEvents, createLiveEventPublisher } from '../src/modules/events/live-events.js';
import { eventProblems } from './event-catalogue.js';
import { subscriptionsListening } from './graphql-client.js';
import { call, complaintBody, createFastLaneTenant, createTestTenant, type TestApp } from './harness.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';
import { testRedisEnv } from './redis-keys.js';
import {
  eventually,
  sleep,
  startApiProcess,
  startWorkerProcess,
  type WorkerProcess,
} from './worker-process.js';

/**
 * End to end over real WebSockets: the worker process breaches a deadline, its outbox relay
 * publishes to Redis, and graphql-ws clients hear it from this process's API and from a second API
 * process sharing the database and Redis prefix, each only its own tenant's events.
 */
let isolated: IsolatedTestApp;
let t: TestApp;
let worker: WorkerProcess;
let secondApi: WorkerProcess & { url: string };
let firstUrl: string;
let redisPrefix: string;
const clients: Client[] = [];

beforeAll(async () => {
  // A database and Redis prefix of its own: this file's worker sweeps every tenant of its
  // database, and would otherwise breach what other files leave to no worker.
  isolated = await startIsolatedTestApp('gql');
  t = isolated.app;
  redisPrefix = isolated.redisPrefix;
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  firstUrl = `http://127.0.0.1:${address.port}`;
  const shared = { DATABASE_URL: t.env.DATABASE_URL, ...testRedisEnv(), REDIS_PREFIX: redisPrefix };
  [worker, secondApi] = await Promise.all([
    startWorkerProcess({ ...shared, SLA_RECONCILE_INTERVAL: '1', WORKER_CONCURRENCY: '10' }),
    startApiProcess({ ...shared, PORT: String(await freePort()), NODE_ENV: 'test' }),
  ]);
});
afterAll(async () => {
  for (const client of clients) await client.dispose();
  await Promise.all([worker?.stop(), secondApi?.stop()]);
  await isolated?.close();
});

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A graphql-ws client of an API process, authenticated in connection_init. */
function connect(baseUrl: string, key: string | null): Client {
  const client = createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: key ? { authorization: `Bearer ${key}` } : {},
    retryAttempts: 0,
  });
  clients.push(client);
  return client;
}

interface Received {
  // biome-ignore lint/suspicious/noExplicitAny: results are checked field by field
  results: any[];
  errors: Array<{ message: string; extensions?: Record<string, unknown> }>;
  done: Promise<void>;
}

/** Subscribes and keeps every result and error that arrives. */
function listen(client: Client, query: string, variables: Record<string, unknown> = {}): Received {
  const received: Received = { results: [], errors: [], done: Promise.resolve() };
  received.done = new Promise<void>((resolve) => {
    client.subscribe(
      { query, variables },
      {
        next: (result) => {
          if (result.errors) received.errors.push(...(result.errors as Received['errors']));
          if (result.data) received.results.push(result.data);
        },
        error: (error) => {
          received.errors.push(...(Array.isArray(error) ? error : [{ message: String(error) }]));
          resolve();
        },
        complete: resolve,
      },
    );
  });
  return received;
}

/**
 * Subscribes as `listen` does, through `client` of the API process at `baseUrl`, and returns once
 * that process counts one more subscription listening: Redis has subscribed it, so every event
 * published from then on reaches it. One at a time, so the one counted is this one.
 */
async function listenReady(
  client: Client,
  baseUrl: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Received> {
  const before = await subscriptionsListening(baseUrl);
  const received = listen(client, query, variables);
  await eventually(async () => {
    if (received.errors.length > 0) throw new Error(`refused: ${JSON.stringify(received.errors)}`);
    return (await subscriptionsListening(baseUrl)) > before;
  });
  return received;
}

const EVENTS = `subscription ($types: [String!]) { events(types: $types) {
  id type timestamp data
  payload { __typename ... on DeadlineBreachedData { deadline { id status } } }
} }`;

/** An event as a subscriber heard it, back in the webhooks' form, to hold to the event catalogue. */
const TYPE_OF_ENUM = new Map(EVENT_TYPES.map((type) => [eventTypeNames(type).enumValue, type]));
const asDelivered = ({
  id,
  type,
  timestamp,
  data,
}: {
  id: string;
  type: string;
  timestamp: string;
  data: unknown;
}) => ({
  id,
  type: TYPE_OF_ENUM.get(type),
  timestamp,
  data,
});
const ESCALATIONS = `subscription { escalations {
  eventId timestamp
  escalation { level previousLevel trigger deadlineId }
  complaint { id reference escalationLevel deadlines { id kind status } }
  deadline { id kind status }
} }`;

describe('GraphQL subscriptions', () => {
  it("delivers the worker's breach to its own tenant's subscribers on every API process, and to no one else", async () => {
    const a = await createFastLaneTenant(t);
    const b = await createFastLaneTenant(t);
    const aOnFirst = connect(firstUrl, a.adminKey);
    const aOnSecond = connect(secondApi.url, await a.keyWith('complaints:read'));
    const bOnSecond = connect(secondApi.url, b.adminKey);
    const breachesHere = await listenReady(aOnFirst, firstUrl, EVENTS, { types: ['deadline.*'] });
    const escalationsThere = await listenReady(aOnSecond, secondApi.url, ESCALATIONS);
    const breachesThere = await listenReady(aOnSecond, secondApi.url, EVENTS, {
      types: ['deadline.breached'],
    });
    const everythingOfB = await listenReady(bOnSecond, secondApi.url, EVENTS);

    const complaint = (
      await call(t.app, a.adminKey, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody({ category: 'fast' }),
      })
    ).json();
    const deadlines = await call(t.app, a.adminKey, {
      method: 'GET',
      url: `/v1/complaints/${complaint.id}/deadlines`,
    });
    const reply = deadlines.json().data.find((d: { kind: string }) => d.kind === 'online_reply');

    const breach = await eventually(
      async () => breachesThere.results.find((r) => r.events.data.deadline.id === reply.id)?.events,
      10_000,
    );
    expect(breach).toMatchObject({
      type: 'DEADLINE_BREACHED',
      payload: { __typename: 'DeadlineBreachedData', deadline: { id: reply.id, status: 'breached' } },
      data: {
        tenantId: a.tenantId,
        complaintId: complaint.id,
        deadline: { id: reply.id, status: 'breached' },
      },
    });
    // The same event, with the same id, on the first API process…
    const here = await eventually(
      async () => breachesHere.results.find((r) => r.events.type === 'DEADLINE_BREACHED')?.events,
    );
    expect(here).toEqual(breach);
    expect(breachesHere.results.map((r) => r.events.type)).toContain('DEADLINE_WARNING');
    // What subscribers hear is what the catalogue says of each type.
    expect(breachesHere.results.flatMap((r) => eventProblems(asDelivered(r.events)))).toEqual([]);
    // …as the escalation it set off…
    const escalation = await eventually(async () => escalationsThere.results[0]?.escalations);
    expect(escalation).toMatchObject({
      escalation: { level: 1, previousLevel: 0, trigger: 'breach', deadlineId: reply.id },
      complaint: { id: complaint.id, escalationLevel: 1 },
      deadline: { id: reply.id, status: 'breached' },
    });
    expect(escalation.complaint.deadlines).toContainEqual(
      expect.objectContaining({ id: reply.id, status: 'breached' }),
    );
    // …and in the feed, where webhooks' deliveries come from too.
    const feed = await eventually(async () => {
      const res = await call(t.app, a.adminKey, {
        method: 'GET',
        url: '/v1/events?types=deadline.breached,complaint.escalated',
      });
      const data = res.json().data as Array<{ id: string; type: string }>;
      return data.length === 2 ? data : undefined;
    });
    expect(feed.find((e) => e.type === 'deadline.breached')!.id).toBe(breach.id);
    expect(feed.find((e) => e.type === 'complaint.escalated')!.id).toBe(escalation.eventId);

    // Tenant B heard nothing of A, though it hears its own.
    const own = (
      await call(t.app, b.adminKey, { method: 'POST', url: '/v1/complaints', json: complaintBody() })
    ).json();
    await eventually(async () =>
      everythingOfB.results.some(
        (r) => r.events.data.complaintId === own.id && r.events.type === 'COMPLAINT_CREATED',
      ),
    );
    await sleep(300);
    expect(everythingOfB.results.length).toBeGreaterThan(0);
    expect(everythingOfB.results.every((r) => r.events.data.tenantId === b.tenantId)).toBe(true);
    expect(everythingOfB.errors).toEqual([]);
    expect(breachesThere.results.every((r) => r.events.type === 'DEADLINE_BREACHED')).toBe(true);
    expect(everythingOfB.results.flatMap((r) => eventProblems(asDelivered(r.events)))).toEqual([]);
  });

  it('refuses subscriptions without a valid key, without the scope, or with unknown event types', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const anonymous = listen(connect(firstUrl, null), EVENTS);
    await anonymous.done;
    expect(anonymous.errors[0]).toMatchObject({ extensions: { code: 'unauthenticated', status: 401 } });

    const revoked = listen(connect(secondApi.url, 'rdk_not_a_real_key_at_all_0000000000'), ESCALATIONS);
    await revoked.done;
    expect(revoked.errors[0]).toMatchObject({ extensions: { code: 'unauthenticated' } });

    const hooksOnly = listen(connect(firstUrl, await tenant.keyWith('webhooks:manage')), EVENTS);
    await hooksOnly.done;
    expect(hooksOnly.errors[0]).toMatchObject({
      extensions: { code: 'insufficient_scope', status: 403, requiredScope: 'complaints:read' },
    });

    const typo = listen(connect(firstUrl, tenant.adminKey), EVENTS, { types: ['deadline.breach'] });
    await typo.done;
    expect(typo.errors[0]).toMatchObject({
      extensions: {
        code: 'validation_failed',
        errors: [{ field: 'types.0', message: 'matches no event type Redress emits' }],
      },
    });

    const unknownField = listen(connect(firstUrl, tenant.adminKey), 'subscription { events { nope } }');
    await unknownField.done;
    expect(unknownField.errors[0]).toMatchObject({ extensions: { code: 'graphql_validation_failed' } });

    // Priced with its variables: a hundred full timelines per event, page size given as $n.
    const timelines = Array.from(
      { length: 100 },
      (_, i) => `t${i}: timeline(first: $n) { nodes { id type changes { field before after } } }`,
    ).join(' ');
    const costly = listen(
      connect(firstUrl, tenant.adminKey),
      `subscription ($n: Int!) { events { id complaint { ${timelines} } } }`,
      { n: 100 },
    );
    await costly.done;
    expect(costly.errors[0]).toMatchObject({ extensions: { code: 'query_too_costly' } });
  });

  it("hears only its own deployment's relay: channels are named under REDIS_PREFIX", async () => {
    const tenant = await createTestTenant(t.tenancy);
    const heard = await listenReady(connect(firstUrl, tenant.adminKey), firstUrl, EVENTS);
    const event = (id: string, position: number) => ({
      id,
      tenantId: tenant.tenantId,
      type: 'complaint.created',
      occurredAt: new Date(),
      data: { tenantId: tenant.tenantId, complaintId: '00000000-0000-4000-8000-000000000001' },
      subscriptionId: null,
      position,
    });
    const publishWith = async (prefix: string, id: string) => {
      const live = connectLiveEvents({ redis: redisTarget(t.env), prefix, onError: () => {} });
      const publisher = createLiveEventPublisher({ emitter: live.emitter, prefix, log: { warn: () => {} } });
      publisher.afterCommit?.([event(id, 1) as never]);
      await sleep(200);
      await live.close();
    };
    await publishWith(`${redisPrefix}-other`, 'evt_otherdeployment0000000000');
    await publishWith(redisPrefix, 'evt_thisdeployment00000000000');
    await eventually(async () => heard.results.length > 0);
    await sleep(200);
    expect(heard.results.map((r) => r.events.id)).toEqual(['evt_thisdeployment00000000000']);
  });

  it('logs no error when a subscriber leaves or its key is revoked: both are routine', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const key = await tenant.keyWith('complaints:read');
    const leaving = connect(secondApi.url, tenant.adminKey);
    const left = await listenReady(leaving, secondApi.url, EVENTS);
    const revoked = await listenReady(connect(secondApi.url, key), secondApi.url, EVENTS);
    const before = secondApi.lines.length;
    await call(t.app, tenant.adminKey, { method: 'POST', url: '/v1/complaints', json: complaintBody() });
    await eventually(async () => left.results.length > 0 && revoked.results.length > 0);
    await leaving.dispose();
    const keys = await call(t.app, tenant.adminKey, { method: 'GET', url: '/v1/api-keys' });
    const keyId = keys
      .json()
      .data.find((k: { scopes: string[] }) => k.scopes.join() === 'complaints:read').id;
    await call(t.app, tenant.adminKey, { method: 'DELETE', url: `/v1/api-keys/${keyId}` });
    await call(t.app, tenant.adminKey, { method: 'POST', url: '/v1/complaints', json: complaintBody() });
    await revoked.done;
    await sleep(300);
    const errors = secondApi.lines.slice(before).filter((line) => /"level":(50|60)/.test(line));
    expect(errors).toEqual([]);
  });

  it('stops a subscriber whose key is revoked at its next event', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const key = await tenant.keyWith('complaints:read');
    const keys = await call(t.app, tenant.adminKey, { method: 'GET', url: '/v1/api-keys' });
    const keyId = keys
      .json()
      .data.find((k: { scopes: string[] }) => k.scopes.join() === 'complaints:read').id;
    const heard = await listenReady(connect(firstUrl, key), firstUrl, EVENTS);
    await call(t.app, tenant.adminKey, { method: 'POST', url: '/v1/complaints', json: complaintBody() });
    await eventually(async () => heard.results.length > 0);
    const revoke = await call(t.app, tenant.adminKey, { method: 'DELETE', url: `/v1/api-keys/${keyId}` });
    expect(revoke.statusCode).toBeLessThan(300);
    await call(t.app, tenant.adminKey, { method: 'POST', url: '/v1/complaints', json: complaintBody() });
    await heard.done;
    expect(heard.results).toHaveLength(1);
    expect(heard.errors[0]).toMatchObject({ extensions: { code: 'unauthenticated' } });
  });
});
