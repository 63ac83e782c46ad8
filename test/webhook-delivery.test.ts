import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unlinkKeys } from '../src/lib/redis.js';
import type { DeadlineView } from '../src/modules/deadlines/deadline-views.js';
import {
  call,
  complaintBody,
  createFastLaneTenant,
  createTestTenant,
  type TestApp,
  type TestTenant,
} from './harness.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';
import { type ReceivedRequest, type Receiver, startReceiver } from './receiver.js';
import { connectTestRedis, listKeysUnder, testRedisEnv } from './redis-keys.js';
import { eventually, sleep, startWorkerProcess, type WorkerProcess } from './worker-process.js';

/**
 * End to end: the API, a real worker process and a real HTTP receiver on 127.0.0.1. Retries are
 * a second apart (WEBHOOK_RETRY_SCHEDULE=0,1,1,1) and a receiver has 2 s to answer. The file has
 * its own database, so no other file's worker attempts these deliveries under other settings.
 */
let isolated: IsolatedTestApp;
let t: TestApp;
let worker: WorkerProcess;
let receiver: Receiver;

beforeAll(async () => {
  isolated = await startIsolatedTestApp('webhook-delivery', { WEBHOOK_ALLOW_PRIVATE: 'true' });
  t = isolated.app;
  receiver = await startReceiver();
  worker = await startWorkerProcess(workerEnv());
});
afterAll(async () => {
  await worker?.stop();
  await isolated?.close();
  // Last: it fails the file when a delivery was off the event catalogue.
  await receiver?.close();
});

function workerEnv(): Record<string, string> {
  return {
    DATABASE_URL: isolated.databaseUrl,
    ...testRedisEnv(),
    REDIS_PREFIX: isolated.redisPrefix,
    SLA_RECONCILE_INTERVAL: '1',
    WORKER_CONCURRENCY: '10',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_RETRY_SCHEDULE: '0,1,1,1',
    WEBHOOK_TIMEOUT_SECONDS: '2',
    WEBHOOK_CONCURRENCY: '8',
    WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: '2',
  };
}

let pathCounter = 0;
const newPath = (name: string) => `/hooks/${name}-${++pathCounter}`;

async function subscribe(tenant: TestTenant, path: string, events: string[] = ['*']) {
  const res = await call(t.app, tenant.adminKey, {
    method: 'POST',
    url: '/v1/webhooks',
    json: { url: `${receiver.url}${path}`, events },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; secret: string };
}

async function ping(tenant: TestTenant, webhookId: string): Promise<string> {
  const res = await call(t.app, tenant.adminKey, { method: 'POST', url: `/v1/webhooks/${webhookId}/ping` });
  expect(res.statusCode, res.body).toBe(202);
  return res.json().eventId;
}

async function deliveries(tenant: TestTenant, webhookId: string) {
  const res = await call(t.app, tenant.adminKey, {
    method: 'GET',
    url: `/v1/webhooks/${webhookId}/deliveries`,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data as Array<{
    id: string;
    eventId: string;
    status: string;
    attemptCount: number;
    redeliveryOf: string | null;
    attempts: Array<{
      responseStatus: number | null;
      latencyMs: number;
      error: string | null;
      responseExcerpt: string | null;
    }>;
  }>;
}

async function webhook(tenant: TestTenant, webhookId: string) {
  const res = await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/webhooks/${webhookId}` });
  expect(res.statusCode).toBe(200);
  return { body: res.json(), etag: res.headers.etag as string };
}

/** Verifies a received request as an integrator would, with the standardwebhooks package. */
function verify(secret: string, request: ReceivedRequest) {
  return new Webhook(secret).verify(request.rawBody, request.headers as Record<string, string>) as {
    id: string;
    type: string;
    timestamp: string;
    data: Record<string, unknown>;
  };
}

const received = (path: string, count: number, timeoutMs = 8_000) =>
  eventually(async () => (receiver.on(path).length >= count ? receiver.on(path) : undefined), timeoutMs);

describe('webhook delivery', () => {
  it('POSTs the envelope, signed so that standardwebhooks verifies it, and logs the attempt', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const path = newPath('signed');
    const { id, secret } = await subscribe(tenant, path);
    const eventId = await ping(tenant, id);

    const [request] = await received(path, 1);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['user-agent']).toBe('Redress-Webhooks/1');
    expect(request!.headers['webhook-id']).toBe(eventId);
    expect(Math.abs(Number(request!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(10);
    expect(request!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const envelope = verify(secret, request!);
    expect(envelope).toMatchObject({
      id: eventId,
      type: 'webhook.ping',
      data: { tenantId: tenant.tenantId, webhook: { id } },
    });
    expect(() => verify(`whsec_${randomBytes(32).toString('base64')}`, request!)).toThrow();
    expect(() =>
      verify(secret, { ...request!, rawBody: request!.rawBody.replace('ping', 'pong') }),
    ).toThrow();

    const [delivery] = await eventually(async () => {
      const list = await deliveries(tenant, id);
      return list[0]?.status === 'succeeded' ? list : undefined;
    });
    expect(delivery).toMatchObject({ eventId, status: 'succeeded', attemptCount: 1, redeliveryOf: null });
    expect(delivery!.attempts).toHaveLength(1);
    expect(delivery!.attempts[0]).toMatchObject({ responseStatus: 200, error: null, responseExcerpt: 'ok' });
    expect(delivery!.attempts[0]!.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('retries after 500s under the same webhook-id, on the schedule, until a 2xx', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const path = newPath('retry');
    receiver.answer(path, (i) => (i < 2 ? { status: 500, body: 'boom' } : { status: 204 }));
    const { id, secret } = await subscribe(tenant, path);
    const eventId = await ping(tenant, id);

    const requests = await received(path, 3);
    expect(requests.map((r) => r.headers['webhook-id'])).toEqual([eventId, eventId, eventId]);
    for (const request of requests) expect(verify(secret, request).id).toBe(eventId);
    for (let i = 1; i < 3; i += 1) {
      expect(requests[i]!.receivedAt - requests[i - 1]!.receivedAt).toBeGreaterThanOrEqual(900);
    }
    const [delivery] = await eventually(async () => {
      const list = await deliveries(tenant, id);
      return list[0]?.status === 'succeeded' ? list : undefined;
    });
    expect(delivery!.attempts.map((a) => a.responseStatus)).toEqual([500, 500, 204]);
    expect(delivery!.attempts[0]).toMatchObject({ responseExcerpt: 'boom' });
    expect((await webhook(tenant, id)).body.failingSince).toBeNull();
  });

  it('gives a delivery up as failed after the last scheduled attempt', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const path = newPath('down');
    receiver.answer(path, () => ({ status: 502 }));
    const { id } = await subscribe(tenant, path);
    await ping(tenant, id);

    const [delivery] = await eventually(async () => {
      const list = await deliveries(tenant, id);
      return list[0]?.status === 'failed' ? list : undefined;
    });
    expect(delivery!.attempts.map((a) => a.responseStatus)).toEqual([502, 502, 502, 502]);
    await sleep(1_500);
    expect(receiver.on(path)).toHaveLength(4);
    const { body } = await webhook(tenant, id);
    // Failing for a few seconds is far from WEBHOOK_DISABLE_AFTER_HOURS: still active.
    expect(body).toMatchObject({ active: true, disabledReason: null });
    expect(body.failingSince).not.toBeNull();
  });

  it('waits as long as a 429 Retry-After asks, not the scheduled second', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const path = newPath('throttled');
    receiver.answer(path, (i) =>
      i === 0 ? { status: 429, headers: { 'retry-after': '3' } } : { status: 200 },
    );
    const { id } = await subscribe(tenant, path);
    const eventId = await ping(tenant, id);

    const [first, second] = await received(path, 2);
    expect(second!.headers['webhook-id']).toBe(eventId);
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(2_900);
  });

  it('disables a subscription whose endpoint answers 410, says so in the feed, and resumes on re-activation', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const path = newPath('gone');
    let gone = true;
    receiver.answer(path, () => (gone ? { status: 410 } : { status: 200 }));
    const { id } = await subscribe(tenant, path);
    const eventId = await ping(tenant, id);

    const disabled = await eventually(async () => {
      const { body } = await webhook(tenant, id);
      return body.active === false ? body : undefined;
    });
    expect(disabled).toMatchObject({ disabledReason: 'gone' });
    expect(disabled.disabledAt).not.toBeNull();
    // The feed shows an event once every transaction that began before it has ended: poll.
    const feed = await eventually(async () => {
      const res = await call(t.app, tenant.adminKey, { method: 'GET', url: '/v1/events?types=webhook.*' });
      return res.json().data.length > 0
        ? (res.json().data as Array<{ type: string; data: unknown }>)
        : undefined;
    });
    expect(feed.map((event) => event.type)).toEqual(['webhook.disabled']);
    expect(feed[0]!.data).toMatchObject({ reason: 'gone', webhook: { id, active: false } });

    // Disabled: the delivery waits, nothing more is sent, and new pings are refused.
    await sleep(1_500);
    expect(receiver.on(path)).toHaveLength(1);
    expect((await deliveries(tenant, id))[0]).toMatchObject({ status: 'pending', attemptCount: 1 });
    const refused = await call(t.app, tenant.adminKey, { method: 'POST', url: `/v1/webhooks/${id}/ping` });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('webhook_inactive');

    gone = false;
    const { etag } = await webhook(tenant, id);
    const reactivated = await call(t.app, tenant.adminKey, {
      method: 'PATCH',
      url: `/v1/webhooks/${id}`,
      headers: { 'if-match': etag },
      json: { active: true },
    });
    expect(reactivated.statusCode, reactivated.body).toBe(200);
    expect(reactivated.json()).toMatchObject({ active: true, disabledReason: null, disabledAt: null });
    const requests = await received(path, 2);
    expect(requests[1]!.headers['webhook-id']).toBe(eventId);
    await eventually(async () => (await deliveries(tenant, id))[0]?.status === 'succeeded');
  });

  it('redelivers an event as a new delivery under the same webhook-id', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const path = newPath('again');
    const { id, secret } = await subscribe(tenant, path);
    const eventId = await ping(tenant, id);
    const [original] = await eventually(async () => {
      const list = await deliveries(tenant, id);
      return list[0]?.status === 'succeeded' ? list : undefined;
    });

    const res = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `/v1/webhooks/${id}/deliveries/${original!.id}/redeliver`,
    });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({
      eventId,
      redeliveryOf: original!.id,
      status: 'pending',
      attempts: [],
    });

    const requests = await received(path, 2);
    expect(requests[1]!.headers['webhook-id']).toBe(eventId);
    expect(verify(secret, requests[1]!).id).toBe(eventId);
    const list = await eventually(async () => {
      const all = await deliveries(tenant, id);
      return all.length === 2 && all.every((d) => d.status === 'succeeded') ? all : undefined;
    });
    expect(list.find((d) => d.id === res.json().id)).toMatchObject({ redeliveryOf: original!.id });
  });

  it('signs with the old and the new secret while a rotation overlaps', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const path = newPath('rotated');
    const { id, secret: oldSecret } = await subscribe(tenant, path);
    const rotated = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `/v1/webhooks/${id}/rotate-secret`,
    });
    expect(rotated.statusCode).toBe(200);
    const newSecret = rotated.json().secret as string;
    expect(newSecret).not.toBe(oldSecret);

    const eventId = await ping(tenant, id);
    const [request] = await received(path, 1);
    expect(request!.headers['webhook-signature']!.toString().split(' ')).toHaveLength(2);
    expect(verify(oldSecret, request!).id).toBe(eventId);
    expect(verify(newSecret, request!).id).toBe(eventId);
  });

  it('does not let a slow endpoint delay another subscription', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const other = await createTestTenant(t.tenancy);
    const slowPath = newPath('slow');
    const fastPath = newPath('fast');
    receiver.answer(slowPath, () => ({ status: 200, delayMs: 1_500 }));
    const slow = await subscribe(tenant, slowPath);
    const fast = await subscribe(other, fastPath);
    // Ten deliveries take the slow endpoint 7.5 s at two at a time; the fast one must not queue behind them.
    for (let i = 0; i < 10; i += 1) await ping(tenant, slow.id);
    await received(slowPath, 2);
    const sentAt = Date.now();
    await ping(other, fast.id);
    const [request] = await received(fastPath, 1, 3_000);
    expect(request!.receivedAt - sentAt).toBeLessThan(1_000);
    expect(receiver.on(slowPath).length).toBeLessThan(10);
    await received(slowPath, 10, 15_000);
  });

  it('sends the escalation of a breached deadline to its subscriber, signed', async () => {
    const tenant = await createFastLaneTenant(t);
    const path = newPath('escalations');
    const { secret } = await subscribe(tenant, path, ['complaint.escalated']);
    const complaint = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody({ channel: 'web', category: 'fast' }),
    });
    expect(complaint.statusCode, complaint.body).toBe(201);
    const deadlines = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url: `/v1/complaints/${complaint.json().id}/deadlines`,
    });
    const reply = (deadlines.json().data as DeadlineView[]).find((d) => d.kind === 'online_reply')!;

    const [request] = await received(path, 1, 10_000);
    const envelope = verify(secret, request!);
    expect(envelope.type).toBe('complaint.escalated');
    expect(envelope.data).toMatchObject({
      tenantId: tenant.tenantId,
      complaintId: complaint.json().id,
      reference: complaint.json().reference,
      escalation: { level: 1, previousLevel: 0, trigger: 'breach', deadlineId: reply.id },
      deadline: { id: reply.id, kind: 'online_reply', status: 'breached' },
    });
    await sleep(500);
    expect(receiver.on(path).map((r) => JSON.parse(r.rawBody).type)).toEqual(['complaint.escalated']);
  });
});

describe('answers PostgreSQL cannot store as they are', () => {
  it('records an answer with a NUL character once, and neither its event nor others are sent again', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const nulPath = newPath('nul');
    const plainPath = newPath('beside-nul');
    receiver.answer(nulPath, () => ({ status: 200, body: 'ok\u0000done' }));
    const nul = await subscribe(tenant, nulPath);
    const plain = await subscribe(tenant, plainPath);
    // The two attempts finish together, so they are usually recorded in one batch.
    await Promise.all([ping(tenant, nul.id), ping(tenant, plain.id)]);
    for (const id of [nul.id, plain.id]) {
      await eventually(async () => (await deliveries(tenant, id))[0]?.status === 'succeeded', 8_000);
    }
    const [recorded] = await deliveries(tenant, nul.id);
    expect(recorded!.attempts).toMatchObject([{ responseStatus: 200, responseExcerpt: 'ok\uFFFDdone' }]);
    // Past the lease (a 2 s timeout and 3 s of grace): nothing is sent a second time.
    await sleep(5_500);
    expect(receiver.on(nulPath)).toHaveLength(1);
    expect(receiver.on(plainPath)).toHaveLength(1);
  });
});

describe('nothing is lost', () => {
  it('delivers after Redis loses every key: no delivery state lives there', async () => {
    const redis = await connectTestRedis();
    try {
      const keys = await listKeysUnder(redis, isolated.redisPrefix);
      expect(keys.length).toBeGreaterThan(0);
      await unlinkKeys(redis, keys);
    } finally {
      redis.disconnect();
    }
    const tenant = await createTestTenant(t.tenancy);
    const path = newPath('after-flush');
    receiver.answer(path, (i) => (i === 0 ? { status: 500 } : { status: 200 }));
    const { id } = await subscribe(tenant, path);
    const eventId = await ping(tenant, id);
    const requests = await received(path, 2);
    expect(requests.map((r) => r.headers['webhook-id'])).toEqual([eventId, eventId]);
  });

  it('sends again, under the same webhook-id, what a worker killed mid-request never finished', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const path = newPath('killed');
    receiver.answer(path, (i) => (i === 0 ? { hold: true } : { status: 200 }));
    const { id, secret } = await subscribe(tenant, path);
    const eventId = await ping(tenant, id);
    await received(path, 1);

    await worker.kill();
    try {
      receiver.releaseHeld();
      expect((await deliveries(tenant, id))[0]).toMatchObject({ status: 'pending', attemptCount: 0 });
      worker = await startWorkerProcess(workerEnv());
      const requests = await received(path, 2, 12_000);
      expect(requests[1]!.headers['webhook-id']).toBe(eventId);
      expect(verify(secret, requests[1]!).id).toBe(eventId);
      const [delivery] = await eventually(async () => {
        const list = await deliveries(tenant, id);
        return list[0]?.status === 'succeeded' ? list : undefined;
      });
      expect(delivery!.attempts.map((a) => a.responseStatus)).toEqual([200]);
    } finally {
      if (worker.child.exitCode !== null || worker.child.signalCode !== null)
        worker = await startWorkerProcess(workerEnv());
    }
  });
});
