import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/lib/ids.js';
import { createWebhookReplays } from '../src/modules/webhooks/webhook-replays.js';
import { postGraphql } from './graphql-client.js';
import { call, createTestTenant, type TestApp, type TestTenant } from './harness.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';
import { type Receiver, startReceiver } from './receiver.js';
import { testRedisEnv } from './redis-keys.js';
import { eventually, sleep, startWorkerProcess, type WorkerProcess } from './worker-process.js';

/**
 * The webhook tools integrators know from Svix: replaying a subscription's failed deliveries in a
 * time range, and a per-subscription delivery rate limit. End to end, with the API, a real worker
 * process and a real HTTP receiver; retries are a second apart (WEBHOOK_RETRY_SCHEDULE=0,1,1,1), so
 * a delivery to an endpoint that is down fails within about three seconds.
 */
let isolated: IsolatedTestApp;
let t: TestApp;
let worker: WorkerProcess;
let receiver: Receiver;

beforeAll(async () => {
  isolated = await startIsolatedTestApp('webhook-tools', { WEBHOOK_ALLOW_PRIVATE: 'true' });
  t = isolated.app;
  receiver = await startReceiver();
  worker = await startWorkerProcess(workerEnv());
});

/** Replays go two deliveries a transaction, so a test can stop one between its batches. */
function workerEnv(): Record<string, string> {
  return {
    DATABASE_URL: isolated.databaseUrl,
    ...testRedisEnv(),
    REDIS_PREFIX: isolated.redisPrefix,
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_RETRY_SCHEDULE: '0,1,1,1',
    WEBHOOK_TIMEOUT_SECONDS: '2',
    WEBHOOK_CONCURRENCY: '8',
    WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: '4',
    WEBHOOK_REPLAY_BATCH_SIZE: '2',
  };
}
afterAll(async () => {
  await worker?.stop();
  await receiver?.close();
  await isolated?.close();
});

let pathCounter = 0;
const newPath = (name: string) => `/tools/${name}-${++pathCounter}`;

interface Delivery {
  id: string;
  eventId: string;
  status: string;
  attemptCount: number;
  redeliveryOf: string | null;
  createdAt: string;
}
interface Replay {
  id: string;
  webhookId: string;
  since: string;
  until: string;
  status: string;
  matched: number;
  requeued: number;
  error: string | null;
}

async function subscribe(tenant: TestTenant, path: string, extra: Record<string, unknown> = {}) {
  const res = await call(t.app, tenant.adminKey, {
    method: 'POST',
    url: '/v1/webhooks',
    json: { url: `${receiver.url}${path}`, events: ['webhook.ping'], ...extra },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; maxDeliveriesPerSecond: number | null };
}

async function ping(tenant: TestTenant, webhookId: string): Promise<string> {
  const res = await call(t.app, tenant.adminKey, { method: 'POST', url: `/v1/webhooks/${webhookId}/ping` });
  expect(res.statusCode, res.body).toBe(202);
  return res.json().eventId;
}

async function deliveries(tenant: TestTenant, webhookId: string): Promise<Delivery[]> {
  const res = await call(t.app, tenant.adminKey, {
    method: 'GET',
    url: `/v1/webhooks/${webhookId}/deliveries?limit=100`,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data;
}

/** Waits until the subscription has `count` deliveries and none is pending. */
const settled = (tenant: TestTenant, webhookId: string, count: number, timeoutMs = 15_000) =>
  eventually(async () => {
    const list = await deliveries(tenant, webhookId);
    return list.length === count && list.every((d) => d.status !== 'pending') ? list : undefined;
  }, timeoutMs);

function replay(tenant: TestTenant, webhookId: string, body: unknown, headers: Record<string, string> = {}) {
  return call(t.app, tenant.adminKey, {
    method: 'POST',
    url: `/v1/webhooks/${webhookId}/replays`,
    json: body,
    headers,
  });
}

async function readReplay(tenant: TestTenant, webhookId: string, replayId: string): Promise<Replay> {
  const res = await call(t.app, tenant.adminKey, {
    method: 'GET',
    url: `/v1/webhooks/${webhookId}/replays/${replayId}`,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function finishedReplay(
  tenant: TestTenant,
  webhookId: string,
  replayId: string,
  // Within a second as a rule; up to the sweep's half a minute when queueing the job timed out,
  // as it can on a loaded cluster.
  timeoutMs = 40_000,
): Promise<Replay> {
  return eventually(async () => {
    const res = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url: `/v1/webhooks/${webhookId}/replays/${replayId}`,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as Replay;
    return body.status === 'completed' || body.status === 'failed' ? body : undefined;
  }, timeoutMs);
}

const idsOn = (path: string) => receiver.on(path).map((r) => r.headers['webhook-id'] as string);
const countOf = (ids: string[], id: string) => ids.filter((x) => x === id).length;

describe('replaying failed deliveries', () => {
  it('sends again, once each, only the failed deliveries of that subscription in the range, when the receiver is back', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const path = newPath('down-then-up');
    const otherPath = newPath('other-subscription');
    let down = true;
    receiver.answer(path, () => (down ? { status: 503, body: 'down' } : { status: 200 }));
    receiver.answer(otherPath, () => ({ status: 500 }));
    const hook = await subscribe(tenant, path);
    const other = await subscribe(tenant, otherPath);

    const before = [await ping(tenant, hook.id)];
    await settled(tenant, hook.id, 1);
    await sleep(20);
    const since = new Date().toISOString();
    const inRange = [await ping(tenant, hook.id), await ping(tenant, hook.id)];
    const otherEvent = await ping(tenant, other.id);
    await settled(tenant, hook.id, 3);
    await settled(tenant, other.id, 1);
    down = false;
    const succeeded = await ping(tenant, hook.id);
    const afterUp = await settled(tenant, hook.id, 4);
    expect(afterUp.find((d) => d.eventId === succeeded)?.status).toBe('succeeded');
    expect(
      afterUp
        .filter((d) => d.status === 'failed')
        .map((d) => d.eventId)
        .sort(),
    ).toEqual([...before, ...inRange].sort());
    const sentBefore = idsOn(path).length;
    const otherSentBefore = idsOn(otherPath).length;

    const res = await replay(tenant, hook.id, { since, until: new Date(Date.now() + 60_000).toISOString() });
    expect(res.statusCode, res.body).toBe(202);
    const started = res.json() as Replay;
    expect(started).toMatchObject({ webhookId: hook.id, since, status: 'queued', matched: 0, requeued: 0 });
    // An `until` in the future counts as now.
    expect(Date.parse(started.until)).toBeLessThanOrEqual(Date.now());
    expect(res.headers.location).toBe(`/v1/webhooks/${hook.id}/replays/${started.id}`);

    const done = await finishedReplay(tenant, hook.id, started.id);
    expect(done).toMatchObject({ status: 'completed', matched: 2, requeued: 2, error: null });
    const list = await settled(tenant, hook.id, 6);
    const again = list.filter((d) => d.redeliveryOf !== null);
    expect(again.map((d) => d.eventId).sort()).toEqual([...inRange].sort());
    for (const delivery of again) expect(delivery).toMatchObject({ status: 'succeeded', attemptCount: 1 });

    // Each replayed event arrived once more, under its own webhook-id; nothing else was sent.
    await sleep(1_500);
    const sent = idsOn(path).slice(sentBefore);
    expect(sent.sort()).toEqual([...inRange].sort());
    for (const eventId of inRange) expect(countOf(idsOn(path), eventId)).toBe(5);
    expect(idsOn(otherPath).length).toBe(otherSentBefore);
    expect(countOf(idsOn(otherPath), otherEvent)).toBe(4);

    // The same range again finds the same failed deliveries, whose events were delivered since.
    const second = await replay(tenant, hook.id, { since, until: done.until });
    expect(second.statusCode, second.body).toBe(202);
    expect(await finishedReplay(tenant, hook.id, second.json().id)).toMatchObject({
      status: 'completed',
      matched: 2,
      requeued: 0,
    });
  }, 60_000);

  it('requeues each delivery once however many times, and at once, its job runs', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const path = newPath('twice');
    let down = true;
    receiver.answer(path, () => (down ? { status: 500 } : { status: 200 }));
    const hook = await subscribe(tenant, path);
    const since = new Date(Date.now() - 1_000);
    const events = [await ping(tenant, hook.id), await ping(tenant, hook.id), await ping(tenant, hook.id)];
    await settled(tenant, hook.id, 3);
    down = false;

    // A replay row as the API writes it, worked by two runs at once, a delivery a batch: as a
    // job retried while its first run still goes, or one taken over after its worker died.
    const webhooks = t.services.repositories.webhooks;
    const row = await webhooks.insertReplay({
      id: newId(),
      tenantId: tenant.tenantId,
      subscriptionId: hook.id,
      since,
      until: new Date(),
      createdAt: new Date(),
    });
    const replays = createWebhookReplays({
      db: t.database.db,
      webhooks,
      idempotency: t.services.repositories.idempotency,
      clock: { now: () => new Date() },
      enqueue: null,
      batchSize: 1,
    });
    await Promise.all([replays.run(tenant.tenantId, row!.id), replays.run(tenant.tenantId, row!.id)]);
    await replays.run(tenant.tenantId, row!.id);
    const finished = await replays.get(tenant.tenantId, hook.id, row!.id);
    expect(finished).toMatchObject({ status: 'completed', matched: 3, requeued: 3 });

    const list = await settled(tenant, hook.id, 6);
    expect(
      list
        .filter((d) => d.redeliveryOf !== null)
        .map((d) => d.eventId)
        .sort(),
    ).toEqual([...events].sort());
    await sleep(1_000);
    for (const eventId of events) expect(countOf(idsOn(path), eventId)).toBe(5);
  }, 60_000);

  it('finishes a replay whose worker was killed between batches, requeueing each delivery once', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const path = newPath('killed-mid-replay');
    let down = true;
    receiver.answer(path, () => (down ? { status: 500 } : { status: 200 }));
    const hook = await subscribe(tenant, path);
    const since = new Date(Date.now() - 1_000).toISOString();
    const events: string[] = [];
    for (let i = 0; i < 5; i += 1) events.push(await ping(tenant, hook.id));
    const failed = (await settled(tenant, hook.id, 5)).reverse();
    down = false;

    // The first delivery of the second batch (oldest first, two a batch): its event held FOR
    // UPDATE, the second batch waits on its foreign-key check, after the first has committed.
    const holder = new pg.Client({ connectionString: isolated.databaseUrl });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select 1 from events where tenant_id = $1 and id = $2 for update', [
        tenant.tenantId,
        failed[2]!.eventId,
      ]);
      const res = await replay(tenant, hook.id, { since, until: new Date().toISOString() });
      expect(res.statusCode, res.body).toBe(202);
      const replayId = res.json().id as string;
      // Within a second as a rule; up to the sweep's half a minute should queueing have timed out.
      await eventually(async () => {
        const now = await readReplay(tenant, hook.id, replayId);
        return now.status === 'running' && now.matched === 2 ? now : undefined;
      }, 40_000);

      await worker.kill();
      try {
        worker = await startWorkerProcess(workerEnv());
      } finally {
        await holder.query('rollback');
      }
      // BullMQ hands the killed worker's job over once its lock has run out (15 s), and the new
      // run goes on from the cursor the first batch committed.
      const done = await finishedReplay(tenant, hook.id, replayId, 90_000);
      expect(done).toMatchObject({ status: 'completed', matched: 5, requeued: 5 });
    } finally {
      await holder.end();
      if (worker.child.exitCode !== null || worker.child.signalCode !== null)
        worker = await startWorkerProcess(workerEnv());
    }
    const list = await settled(tenant, hook.id, 10);
    const again = list.filter((d) => d.redeliveryOf !== null);
    expect(again.map((d) => d.eventId).sort()).toEqual([...events].sort());
    for (const delivery of again) expect(delivery).toMatchObject({ status: 'succeeded', attemptCount: 1 });
    await sleep(1_000);
    // The failed attempts and the replay make five. The killed worker may have sent a replayed
    // delivery whose answer it never recorded; the next worker sends it again under the same
    // webhook-id (at least once on the wire, once in effect), so six at most.
    for (const eventId of events) {
      expect(countOf(idsOn(path), eventId)).toBeGreaterThanOrEqual(5);
      expect(countOf(idsOn(path), eventId)).toBeLessThanOrEqual(6);
    }
  }, 150_000);

  it('refuses empty, inverted and over-long ranges with webhook_replay_range_invalid', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const hook = await subscribe(tenant, newPath('ranges'));
    const now = Date.now();
    const at = (offsetMs: number) => new Date(now + offsetMs).toISOString();
    for (const body of [
      { since: at(-1_000), until: at(-2_000) },
      { since: at(-1_000), until: at(-1_000) },
      { since: at(60_000), until: at(120_000) },
      { since: at(-32 * 86_400_000), until: at(-1_000) },
    ]) {
      const res = await replay(tenant, hook.id, body);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ code: 'webhook_replay_range_invalid', maxRangeDays: 31 });
    }
    const malformed = await replay(tenant, hook.id, { since: 'yesterday', until: at(0) });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('validation_failed');
    const unknownField = await replay(tenant, hook.id, { since: at(-1_000), until: at(0), status: 'failed' });
    expect(unknownField.statusCode).toBe(400);
  });

  it("answers 404 for another tenant's subscription or replay, and for another subscription's replay", async () => {
    const us = await createTestTenant(t.tenancy);
    const them = await createTestTenant(t.tenancy);
    const ours = await subscribe(us, newPath('ours'));
    const ourOther = await subscribe(us, newPath('ours-too'));
    const theirs = await subscribe(them, newPath('theirs'));
    const range = { since: new Date(Date.now() - 60_000).toISOString(), until: new Date().toISOString() };
    const theirReplay = await replay(them, theirs.id, range);
    expect(theirReplay.statusCode, theirReplay.body).toBe(202);

    const posted = await replay(us, theirs.id, range);
    expect(posted.statusCode).toBe(404);
    expect(posted.json().code).toBe('not_found');
    for (const url of [
      `/v1/webhooks/${theirs.id}/replays/${theirReplay.json().id}`,
      `/v1/webhooks/${ours.id}/replays/${theirReplay.json().id}`,
    ]) {
      const res = await call(t.app, us.adminKey, { method: 'GET', url });
      expect(res.statusCode).toBe(404);
      expect(res.body).not.toContain(them.tenantId);
    }
    const ourReplay = await replay(us, ours.id, range);
    const elsewhere = await call(t.app, us.adminKey, {
      method: 'GET',
      url: `/v1/webhooks/${ourOther.id}/replays/${ourReplay.json().id}`,
    });
    expect(elsewhere.statusCode).toBe(404);
    // Another tenant's replay was not touched, only finished by its own job.
    const theirs2 = await finishedReplay(them, theirs.id, theirReplay.json().id);
    expect(theirs2).toMatchObject({ status: 'completed', matched: 0 });
  });

  it('needs webhooks:manage', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const hook = await subscribe(tenant, newPath('scope'));
    const key = await tenant.keyWith('complaints:read', 'complaints:write');
    const res = await call(t.app, key, {
      method: 'POST',
      url: `/v1/webhooks/${hook.id}/replays`,
      json: { since: new Date(Date.now() - 1_000).toISOString(), until: new Date().toISOString() },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'insufficient_scope', requiredScope: 'webhooks:manage' });
  });

  it('refuses a disabled subscription, and a second replay while one is under way', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const range = { since: new Date(Date.now() - 60_000).toISOString(), until: new Date().toISOString() };
    const paused = await subscribe(tenant, newPath('paused'), { active: false });
    const refused = await replay(tenant, paused.id, range);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'webhook_inactive', disabledReason: 'manual' });

    const hook = await subscribe(tenant, newPath('busy'));
    // A replay still queued, as one is while its job waits for a worker.
    const open = await t.services.repositories.webhooks.insertReplay({
      id: newId(),
      tenantId: tenant.tenantId,
      subscriptionId: hook.id,
      since: new Date(range.since),
      until: new Date(range.until),
      createdAt: new Date(),
    });
    const busy = await replay(tenant, hook.id, range);
    expect(busy.statusCode, busy.body).toBe(409);
    expect(busy.json()).toMatchObject({ code: 'webhook_replay_in_progress', replayId: open!.id });
  });

  it('gives the first answer again to a retry with the same Idempotency-Key', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const hook = await subscribe(tenant, newPath('idempotent'));
    const range = { since: new Date(Date.now() - 60_000).toISOString(), until: new Date().toISOString() };
    const key = { 'idempotency-key': `replay-${newId()}` };
    const first = await replay(tenant, hook.id, range, key);
    expect(first.statusCode, first.body).toBe(202);
    const retry = await replay(tenant, hook.id, range, key);
    expect(retry.statusCode).toBe(202);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json().id).toBe(first.json().id);
    const reused = await replay(
      tenant,
      hook.id,
      { ...range, since: new Date(Date.now() - 120_000).toISOString() },
      key,
    );
    expect(reused.statusCode).toBe(422);
    expect(reused.json().code).toBe('idempotency_key_reused');
  });

  it('is in GraphQL: a mutation that starts one and a query that reads it', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const hook = await subscribe(tenant, newPath('graphql'));
    const mutation = /* GraphQL */ `
      mutation ($webhookId: ID!, $input: WebhookReplayInput!) {
        replayWebhookDeliveries(webhookId: $webhookId, input: $input) { id webhookId status matched requeued }
      }`;
    const bad = await postGraphql(t.app, tenant.adminKey, mutation, {
      webhookId: hook.id,
      input: { since: new Date().toISOString(), until: new Date(Date.now() - 1_000).toISOString() },
    });
    expect(bad.errors[0]?.extensions).toMatchObject({ code: 'webhook_replay_range_invalid', status: 400 });

    const started = await postGraphql(t.app, tenant.adminKey, mutation, {
      webhookId: hook.id,
      input: { since: new Date(Date.now() - 60_000).toISOString(), until: new Date().toISOString() },
    });
    expect(started.errors).toEqual([]);
    const id = started.data.replayWebhookDeliveries.id as string;
    expect(started.data.replayWebhookDeliveries).toMatchObject({ webhookId: hook.id, status: 'queued' });
    const read = await eventually(async () => {
      const answer = await postGraphql(
        t.app,
        tenant.adminKey,
        'query ($webhookId: ID!, $id: ID!) { webhookReplay(webhookId: $webhookId, id: $id) { id status matched requeued } }',
        { webhookId: hook.id, id },
      );
      return answer.data?.webhookReplay?.status === 'completed' ? answer : undefined;
    });
    expect(read.data.webhookReplay).toMatchObject({ id, matched: 0, requeued: 0 });

    // The scope REST asks for, and another tenant's ids are simply not found.
    const readOnly = await tenant.keyWith('complaints:read', 'complaints:write');
    const refused = await postGraphql(t.app, readOnly, mutation, {
      webhookId: hook.id,
      input: { since: new Date(Date.now() - 60_000).toISOString(), until: new Date().toISOString() },
    });
    expect(refused.errors[0]?.extensions).toMatchObject({
      code: 'insufficient_scope',
      requiredScope: 'webhooks:manage',
    });
    const other = await createTestTenant(t.tenancy);
    const foreign = await postGraphql(
      t.app,
      other.adminKey,
      'query ($webhookId: ID!, $id: ID!) { webhookReplay(webhookId: $webhookId, id: $id) { id } }',
      { webhookId: hook.id, id },
    );
    expect(foreign.data?.webhookReplay ?? null).toBeNull();
    expect(foreign.errors[0]?.extensions.code).toBe('not_found');
  });
});

describe('a per-subscription delivery rate limit', () => {
  it('is set, shown, changed and lifted, within bounds', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const hook = await subscribe(tenant, newPath('bounds'), { maxDeliveriesPerSecond: 5 });
    expect(hook.maxDeliveriesPerSecond).toBe(5);
    const plain = await subscribe(tenant, newPath('bounds-plain'));
    expect(plain.maxDeliveriesPerSecond).toBeNull();
    for (const bad of [0, 1001, 2.5, '5']) {
      const res = await call(t.app, tenant.adminKey, {
        method: 'POST',
        url: '/v1/webhooks',
        json: { url: `${receiver.url}/never`, events: ['*'], maxDeliveriesPerSecond: bad },
      });
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
      expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(
        'body.maxDeliveriesPerSecond',
      );
    }
    const got = await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/webhooks/${hook.id}` });
    const lifted = await call(t.app, tenant.adminKey, {
      method: 'PATCH',
      url: `/v1/webhooks/${hook.id}`,
      headers: { 'if-match': got.headers.etag as string },
      json: { maxDeliveriesPerSecond: null },
    });
    expect(lifted.statusCode, lifted.body).toBe(200);
    expect(lifted.json().maxDeliveriesPerSecond).toBeNull();
  });

  it('spreads 20 due deliveries at 5 a second over more than 3 s across two workers, all delivered, none failed', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const path = newPath('paced');
    const hook = await subscribe(tenant, path, { maxDeliveriesPerSecond: 5 });
    // A second worker process: both lease from the same subscription, and share its pace.
    const second = await startWorkerProcess(workerEnv());
    let requests: ReturnType<Receiver['on']>;
    let events: string[];
    try {
      events = await Promise.all(Array.from({ length: 20 }, () => ping(tenant, hook.id)));
      requests = await eventually(
        async () => (receiver.on(path).length >= 20 ? receiver.on(path) : undefined),
        20_000,
      );
    } finally {
      await second.stop();
    }
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(20);
    expect(requests.map((r) => r.headers['webhook-id']).sort()).toEqual([...events].sort());
    const times = requests.map((r) => r.receivedAt).sort((a, b) => a - b);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(3_000);
    // Never faster than the limit: any six requests in a row span at least a second (less the
    // jitter of timers and the network on a loaded machine).
    for (let i = 0; i + 5 < times.length; i += 1)
      expect(times[i + 5]! - times[i]!).toBeGreaterThanOrEqual(800);

    const list = await settled(tenant, hook.id, 20);
    for (const delivery of list) expect(delivery).toMatchObject({ status: 'succeeded', attemptCount: 1 });
    await sleep(500);
    expect(receiver.on(path)).toHaveLength(20);
  }, 40_000);

  it('does not slow another subscription down', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const slowPath = newPath('limited');
    const fastPath = newPath('unlimited');
    const slow = await subscribe(tenant, slowPath, { maxDeliveriesPerSecond: 1 });
    const fast = await subscribe(tenant, fastPath);
    await Promise.all(Array.from({ length: 5 }, () => ping(tenant, slow.id)));
    const sentAt = Date.now();
    await Promise.all(Array.from({ length: 5 }, () => ping(tenant, fast.id)));
    await eventually(async () => receiver.on(fastPath).length >= 5, 5_000);
    expect(Date.now() - sentAt).toBeLessThan(2_500);
    expect(receiver.on(slowPath).length).toBeLessThan(5);
    await eventually(async () => receiver.on(slowPath).length >= 5, 10_000);
  }, 30_000);
});
