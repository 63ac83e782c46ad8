import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { systemClock } from '../src/lib/clock.js';
import { type EventRelay, startEventRelay } from '../src/modules/events/event-relay.js';
import { createWebhookFanout } from '../src/modules/webhooks/webhook-fanout.js';
import { createWebhookOutcomes } from '../src/modules/webhooks/webhooks.service.js';
import { call, createTestTenant, startTestApp, type TestApp, type TestTenant } from './harness.js';
import { createIsolatedDatabase, type IsolatedDatabase } from './isolated-database.js';
import { deleteKeysUnder, testRedisTarget } from './redis-keys.js';
import { eventually } from './worker-process.js';

/**
 * The webhook API through app.inject over real PostgreSQL. No worker runs: the relay is driven
 * in-process, so deliveries stay exactly as the API and the relay left them.
 */
let database: IsolatedDatabase;
let redisPrefix: string;
let t: TestApp;
let strict: TestApp;
let relay: EventRelay;
let tenant: TestTenant;
let other: TestTenant;
let manageKey: string;
let readKey: string;

const HOOK = 'http://127.0.0.1:9/hooks/a';

beforeAll(async () => {
  database = await createIsolatedDatabase('webhook_api');
  // Under the run's prefix; afterAll removes its keys (and the global teardown would).
  const REDIS_PREFIX = `${inject('redisPrefix')}:webhook-api`;
  redisPrefix = REDIS_PREFIX;
  t = await startTestApp({ DATABASE_URL: database.url, REDIS_PREFIX, WEBHOOK_ALLOW_PRIVATE: 'true' });
  // The production default: every non-public address refused.
  strict = await startTestApp({ DATABASE_URL: database.url, REDIS_PREFIX });
  relay = startEventRelay({
    db: t.database.db,
    databaseUrl: database.url,
    events: t.services.repositories.events,
    consumers: [
      createWebhookFanout({
        webhooks: t.services.repositories.webhooks,
        firstDelaySeconds: 0,
        onCommitted: () => {},
      }),
    ],
    log: pino({ level: 'silent' }),
  });
  tenant = await createTestTenant(t.tenancy);
  other = await createTestTenant(t.tenancy);
  // Subscriptions to complaint events need complaints:read as well (see 'what a key may hear').
  manageKey = await tenant.keyWith('webhooks:manage', 'complaints:read');
  readKey = await tenant.keyWith('complaints:read', 'complaints:write', 'policies:manage');
});
afterAll(async () => {
  await relay?.stop();
  await strict?.close();
  await t?.close();
  await database?.drop();
  if (redisPrefix) await deleteKeysUnder(testRedisTarget(), redisPrefix);
});

async function create(body: Record<string, unknown> = {}, key = manageKey, app = t.app) {
  return call(app, key, { method: 'POST', url: '/v1/webhooks', json: { url: HOOK, events: ['*'], ...body } });
}

async function created(body: Record<string, unknown> = {}, key = manageKey) {
  const res = await create(body, key);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** A webhook with one delivery (of a ping), relayed in-process. */
async function withDelivery(key = manageKey) {
  const hook = await created({}, key);
  const ping = await call(t.app, key, { method: 'POST', url: `/v1/webhooks/${hook.id}/ping` });
  expect(ping.statusCode).toBe(202);
  const [delivery] = await eventually(async () => {
    await relay.drain();
    const res = await call(t.app, key, { method: 'GET', url: `/v1/webhooks/${hook.id}/deliveries` });
    return res.json().data.length > 0 ? res.json().data : undefined;
  });
  return { hook, eventId: ping.json().eventId as string, delivery };
}

/** 401 without a key, 403 with a key lacking `webhooks:manage`, 404 for another tenant's webhook. */
async function expectGuarded(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: (id: string) => string) {
  const theirs = await created({}, other.adminKey);
  const mine = await created();
  const headers = method === 'PATCH' ? { 'if-match': '"1"' } : {};
  const json = method === 'PATCH' ? { description: 'x' } : undefined;
  const noKey = await call(t.app, null, { method, url: url(mine.id), headers, json });
  expect(noKey.statusCode).toBe(401);
  expect(noKey.json().code).toBe('unauthenticated');
  const wrongScope = await call(t.app, readKey, { method, url: url(mine.id), headers, json });
  expect(wrongScope.statusCode).toBe(403);
  expect(wrongScope.json()).toMatchObject({ code: 'insufficient_scope', requiredScope: 'webhooks:manage' });
  const foreign = await call(t.app, manageKey, { method, url: url(theirs.id), headers, json });
  expect(foreign.statusCode).toBe(404);
  expect(foreign.json().code).toBe('not_found');
  expect(foreign.headers['content-type']).toContain('application/problem+json');
}

describe('POST /v1/webhooks', () => {
  it('creates a subscription and shows its secret this once', async () => {
    const res = await create({
      events: ['deadline.*', 'complaint.escalated', 'deadline.*'],
      description: 'Escalation desk',
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(res.headers.location).toBe(`/v1/webhooks/${body.id}`);
    expect(res.headers.etag).toBe('"1"');
    expect(body).toMatchObject({
      url: HOOK,
      events: ['deadline.*', 'complaint.escalated'],
      description: 'Escalation desk',
      active: true,
      disabledReason: null,
      failingSince: null,
      version: 1,
    });
    expect(body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(body.secret.slice(6), 'base64')).toHaveLength(32);

    const read = await call(t.app, manageKey, { method: 'GET', url: `/v1/webhooks/${body.id}` });
    const list = await call(t.app, manageKey, { method: 'GET', url: '/v1/webhooks?limit=100' });
    for (const answer of [read.body, list.body]) {
      expect(answer).not.toContain(body.secret);
      expect(answer).not.toContain('whsec_');
    }
  });

  it('refuses bad input with problem+json naming each field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ url: 'ftp://example.com/hook' }, 'body.url'],
      [{ url: 'https://user:pw@example.com/hook' }, 'body.url'],
      [{ url: 'not a url' }, 'body.url'],
      [{ url: `https://example.com/${'a'.repeat(2048)}` }, 'body.url'],
      [{ events: [] }, 'body.events'],
      [{ events: ['deadline.breach'] }, 'body.events.0'],
      [{ events: Array.from({ length: 51 }, () => '*') }, 'body.events'],
      [{ description: 'x'.repeat(501) }, 'body.description'],
      [{ secret: 'mine' }, 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await create(body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().code).toBe('validation_failed');
      expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    }
  });

  it('needs a key with webhooks:manage', async () => {
    expect((await create({}, null as unknown as string)).statusCode).toBe(401);
    const res = await create({}, readKey);
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('insufficient_scope');
  });
});

describe('SSRF refusals (WEBHOOK_ALLOW_PRIVATE unset)', () => {
  it.each([
    'http://127.0.0.1/hook',
    'http://127.0.0.1:8080/hook',
    'http://10.0.0.1/hook',
    'http://172.16.5.4/hook',
    'http://192.168.1.1/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://100.64.0.1/hook',
    'http://0.0.0.0/hook',
    'http://[::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://[fd00::1]/hook',
    'http://0x7f.1/hook',
    'http://localhost/hook',
    'http://localhost:3000/hook',
    'https://does-not-exist.invalid/hook',
  ])('refuses %s with 422 webhook_url_refused', async (url) => {
    const res = await create({ url }, tenant.adminKey, strict.app);
    expect(res.statusCode, res.body).toBe(422);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'webhook_url_refused', status: 422 });
  });

  it('accepts a public address, and refuses a change to a private one', async () => {
    const res = await create({ url: 'https://93.184.216.34/hook' }, tenant.adminKey, strict.app);
    expect(res.statusCode, res.body).toBe(201);
    const changed = await call(strict.app, tenant.adminKey, {
      method: 'PATCH',
      url: `/v1/webhooks/${res.json().id}`,
      headers: { 'if-match': res.headers.etag as string },
      json: { url: 'http://169.254.169.254/latest/meta-data/' },
    });
    expect(changed.statusCode).toBe(422);
    expect(changed.json().code).toBe('webhook_url_refused');
    const read = await call(strict.app, tenant.adminKey, {
      method: 'GET',
      url: `/v1/webhooks/${res.json().id}`,
    });
    expect(read.json()).toMatchObject({ url: 'https://93.184.216.34/hook', version: 1 });
  });
});

describe('GET /v1/webhooks', () => {
  it('pages newest first with a cursor, never repeating one', async () => {
    const fresh = await createTestTenant(t.tenancy);
    const ids = [];
    for (let i = 0; i < 3; i += 1) ids.push((await created({ description: `#${i}` }, fresh.adminKey)).id);
    const first = await call(t.app, fresh.adminKey, { method: 'GET', url: '/v1/webhooks?limit=2' });
    expect(first.statusCode).toBe(200);
    expect(first.json().data.map((w: { id: string }) => w.id)).toEqual([ids[2], ids[1]]);
    const cursor = first.json().nextCursor;
    expect(cursor).toEqual(expect.any(String));
    const second = await call(t.app, fresh.adminKey, {
      method: 'GET',
      url: `/v1/webhooks?limit=2&cursor=${cursor}`,
    });
    expect(second.json()).toEqual({ data: [expect.objectContaining({ id: ids[0] })], nextCursor: null });
  });

  it('refuses a bad limit or a cursor it did not issue', async () => {
    const limit = await call(t.app, manageKey, { method: 'GET', url: '/v1/webhooks?limit=0' });
    expect(limit.statusCode).toBe(400);
    expect(limit.json().code).toBe('validation_failed');
    const cursor = await call(t.app, manageKey, { method: 'GET', url: '/v1/webhooks?cursor=bogus' });
    expect(cursor.statusCode).toBe(400);
    expect(cursor.json().code).toBe('invalid_cursor');
  });

  it("needs webhooks:manage and never lists another tenant's webhooks", async () => {
    const theirs = await created({}, other.adminKey);
    expect((await call(t.app, null, { method: 'GET', url: '/v1/webhooks' })).statusCode).toBe(401);
    expect((await call(t.app, readKey, { method: 'GET', url: '/v1/webhooks' })).statusCode).toBe(403);
    const mine = await call(t.app, manageKey, { method: 'GET', url: '/v1/webhooks?limit=100' });
    expect(mine.json().data.map((w: { id: string }) => w.id)).not.toContain(theirs.id);
  });
});

describe('GET /v1/webhooks/{id}', () => {
  it('reads a subscription with its ETag', async () => {
    const hook = await created({ description: 'read me' });
    const res = await call(t.app, manageKey, { method: 'GET', url: `/v1/webhooks/${hook.id}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe('"1"');
    expect(res.json()).toMatchObject({ id: hook.id, description: 'read me', events: ['*'] });
  });

  it('refuses an id that is not a uuid', async () => {
    const res = await call(t.app, manageKey, { method: 'GET', url: '/v1/webhooks/nope' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].field).toBe('params.id');
  });

  it('is guarded', () => expectGuarded('GET', (id) => `/v1/webhooks/${id}`));
});

describe('PATCH /v1/webhooks/{id}', () => {
  it('changes fields under If-Match, pauses and re-activates', async () => {
    const hook = await created();
    const patch = (etag: string, json: Record<string, unknown>) =>
      call(t.app, manageKey, {
        method: 'PATCH',
        url: `/v1/webhooks/${hook.id}`,
        headers: { 'if-match': etag },
        json,
      });
    const changed = await patch('"1"', {
      url: 'http://127.0.0.1:9/hooks/b',
      events: ['deadline.breached'],
      description: 'now this',
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.headers.etag).toBe('"2"');
    expect(changed.json()).toMatchObject({
      url: 'http://127.0.0.1:9/hooks/b',
      events: ['deadline.breached'],
      description: 'now this',
      version: 2,
    });

    const paused = await patch('"2"', { active: false, description: null });
    expect(paused.json()).toMatchObject({ active: false, disabledReason: 'manual', description: null });
    expect(paused.json().disabledAt).not.toBeNull();
    const resumed = await patch('"3"', { active: true });
    expect(resumed.json()).toMatchObject({
      active: true,
      disabledReason: null,
      disabledAt: null,
      version: 4,
    });

    const stale = await patch('"1"', { description: 'late' });
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ code: 'precondition_failed', currentEtag: '"4"' });
    const missing = await call(t.app, manageKey, {
      method: 'PATCH',
      url: `/v1/webhooks/${hook.id}`,
      json: { description: 'blind' },
    });
    expect(missing.statusCode).toBe(428);
    expect(missing.json().code).toBe('precondition_required');
  });

  it('refuses an empty change and bad fields', async () => {
    const hook = await created();
    for (const json of [
      {},
      { url: 'gopher://x' },
      { events: ['nope'] },
      { active: 'yes' },
      { secret: 'x' },
    ]) {
      const res = await call(t.app, manageKey, {
        method: 'PATCH',
        url: `/v1/webhooks/${hook.id}`,
        headers: { 'if-match': '"1"' },
        json,
      });
      expect(res.statusCode, JSON.stringify(json)).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
  });

  it('is guarded', () => expectGuarded('PATCH', (id) => `/v1/webhooks/${id}`));
});

describe('DELETE /v1/webhooks/{id}', () => {
  it('deletes a subscription with its deliveries', async () => {
    const { hook } = await withDelivery();
    const res = await call(t.app, manageKey, { method: 'DELETE', url: `/v1/webhooks/${hook.id}` });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await call(t.app, manageKey, { method: 'GET', url: `/v1/webhooks/${hook.id}` })).statusCode).toBe(
      404,
    );
    const { rows } = await t.database.pool.query(
      'select count(*)::int as n from webhook_deliveries where subscription_id = $1',
      [hook.id],
    );
    expect(rows[0].n).toBe(0);
    expect(
      (await call(t.app, manageKey, { method: 'DELETE', url: `/v1/webhooks/${hook.id}` })).statusCode,
    ).toBe(404);
  });

  it('refuses an id that is not a uuid', async () => {
    expect((await call(t.app, manageKey, { method: 'DELETE', url: '/v1/webhooks/123' })).statusCode).toBe(
      400,
    );
  });

  it('is guarded', () => expectGuarded('DELETE', (id) => `/v1/webhooks/${id}`));
});

describe('POST /v1/webhooks/{id}/rotate-secret', () => {
  it('starts a new secret once and keeps the old one signing for 24 hours', async () => {
    const hook = await created();
    const res = await call(t.app, manageKey, {
      method: 'POST',
      url: `/v1/webhooks/${hook.id}/rotate-secret`,
    });
    expect(res.statusCode, res.body).toBe(200);
    const { secret, previousSecretExpiresAt } = res.json();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secret).not.toBe(hook.secret);
    const overlap = new Date(previousSecretExpiresAt).getTime() - Date.now();
    expect(overlap).toBeGreaterThan(24 * 3_600_000 - 60_000);
    expect(overlap).toBeLessThanOrEqual(24 * 3_600_000);

    const { rows } = await t.database.pool.query(
      'select secret, expires_at from webhook_secrets where subscription_id = $1 order by created_at',
      [hook.id],
    );
    expect(rows.map((row) => row.secret)).toEqual([hook.secret, secret]);
    expect(new Date(rows[0].expires_at).toISOString()).toBe(previousSecretExpiresAt);
    expect(rows[1].expires_at).toBeNull();
    const read = await call(t.app, manageKey, { method: 'GET', url: `/v1/webhooks/${hook.id}` });
    expect(read.body).not.toContain('whsec_');
  });

  it('refuses an id that is not a uuid', async () => {
    const res = await call(t.app, manageKey, { method: 'POST', url: '/v1/webhooks/x/rotate-secret' });
    expect(res.statusCode).toBe(400);
  });

  it('is guarded', () => expectGuarded('POST', (id) => `/v1/webhooks/${id}/rotate-secret`));
});

describe('POST /v1/webhooks/{id}/ping', () => {
  it('writes a webhook.ping addressed to this subscription only, kept out of the feed', async () => {
    const fresh = await createTestTenant(t.tenancy);
    const target = await created({}, fresh.adminKey);
    const bystander = await created({ events: ['*'] }, fresh.adminKey);
    const res = await call(t.app, fresh.adminKey, { method: 'POST', url: `/v1/webhooks/${target.id}/ping` });
    expect(res.statusCode).toBe(202);
    expect(res.json().eventId).toMatch(/^evt_[A-Za-z0-9]{24}$/);
    const [delivery] = await eventually(async () => {
      await relay.drain();
      const list = await call(t.app, fresh.adminKey, {
        method: 'GET',
        url: `/v1/webhooks/${target.id}/deliveries`,
      });
      return list.json().data.length > 0 ? list.json().data : undefined;
    });
    expect(delivery).toMatchObject({
      eventId: res.json().eventId,
      eventType: 'webhook.ping',
      status: 'pending',
    });
    const bystanderLog = await call(t.app, fresh.adminKey, {
      method: 'GET',
      url: `/v1/webhooks/${bystander.id}/deliveries`,
    });
    expect(bystanderLog.json().data).toEqual([]);
    const feed = await call(t.app, fresh.adminKey, { method: 'GET', url: '/v1/events' });
    expect(feed.json().data).toEqual([]);
  });

  it('refuses a malformed id, and a paused subscription with 409', async () => {
    expect((await call(t.app, manageKey, { method: 'POST', url: '/v1/webhooks/0/ping' })).statusCode).toBe(
      400,
    );
    const hook = await created({ active: false });
    expect(hook).toMatchObject({ active: false, disabledReason: 'manual' });
    const res = await call(t.app, manageKey, { method: 'POST', url: `/v1/webhooks/${hook.id}/ping` });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('webhook_inactive');
  });

  it('is guarded', () => expectGuarded('POST', (id) => `/v1/webhooks/${id}/ping`));
});

describe('GET /v1/webhooks/{id}/deliveries', () => {
  it('lists deliveries with their attempts, filters by status and pages', async () => {
    const { hook, eventId, delivery } = await withDelivery();
    expect(delivery).toMatchObject({
      webhookId: hook.id,
      eventId,
      eventType: 'webhook.ping',
      status: 'pending',
      attemptCount: 0,
      attempts: [],
      redeliveryOf: null,
    });
    expect(delivery.nextAttemptAt).not.toBeNull();
    for (let i = 0; i < 2; i += 1) {
      await call(t.app, manageKey, {
        method: 'POST',
        url: `/v1/webhooks/${hook.id}/deliveries/${delivery.id}/redeliver`,
      });
    }
    const list = (query: string) =>
      call(t.app, manageKey, { method: 'GET', url: `/v1/webhooks/${hook.id}/deliveries${query}` });
    const first = await list('?limit=2');
    expect(first.statusCode).toBe(200);
    expect(first.json().data).toHaveLength(2);
    const rest = await list(`?limit=2&cursor=${first.json().nextCursor}`);
    expect(rest.json()).toMatchObject({ data: [{ id: delivery.id }], nextCursor: null });
    expect((await list('?status=pending')).json().data).toHaveLength(3);
    expect((await list('?status=succeeded,failed')).json().data).toHaveLength(0);
  });

  it('refuses an unknown status, a bad limit and a foreign cursor', async () => {
    const hook = await created();
    for (const query of ['?status=lost', '?limit=101', '?cursor=abc']) {
      const res = await call(t.app, manageKey, {
        method: 'GET',
        url: `/v1/webhooks/${hook.id}/deliveries${query}`,
      });
      expect(res.statusCode, query).toBe(400);
    }
  });

  it('is guarded', () => expectGuarded('GET', (id) => `/v1/webhooks/${id}/deliveries`));
});

describe('POST /v1/webhooks/{id}/deliveries/{deliveryId}/redeliver', () => {
  it('makes a new delivery of the same event', async () => {
    const { hook, eventId, delivery } = await withDelivery();
    const res = await call(t.app, manageKey, {
      method: 'POST',
      url: `/v1/webhooks/${hook.id}/deliveries/${delivery.id}/redeliver`,
    });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({
      eventId,
      redeliveryOf: delivery.id,
      status: 'pending',
      attemptCount: 0,
    });
    expect(res.json().id).not.toBe(delivery.id);
  });

  it("refuses a malformed id, another webhook's delivery, and a paused webhook", async () => {
    const { hook, delivery } = await withDelivery();
    const malformed = await call(t.app, manageKey, {
      method: 'POST',
      url: `/v1/webhooks/${hook.id}/deliveries/nope/redeliver`,
    });
    expect(malformed.statusCode).toBe(400);
    const sibling = await created();
    const elsewhere = await call(t.app, manageKey, {
      method: 'POST',
      url: `/v1/webhooks/${sibling.id}/deliveries/${delivery.id}/redeliver`,
    });
    expect(elsewhere.statusCode).toBe(404);
    await call(t.app, manageKey, {
      method: 'PATCH',
      url: `/v1/webhooks/${hook.id}`,
      headers: { 'if-match': '"1"' },
      json: { active: false },
    });
    const paused = await call(t.app, manageKey, {
      method: 'POST',
      url: `/v1/webhooks/${hook.id}/deliveries/${delivery.id}/redeliver`,
    });
    expect(paused.statusCode).toBe(409);
    expect(paused.json().code).toBe('webhook_inactive');
  });

  it('is guarded', async () => {
    const { hook, delivery } = await withDelivery(other.adminKey);
    const url = `/v1/webhooks/${hook.id}/deliveries/${delivery.id}/redeliver`;
    expect((await call(t.app, null, { method: 'POST', url })).statusCode).toBe(401);
    expect((await call(t.app, readKey, { method: 'POST', url })).statusCode).toBe(403);
    const foreign = await call(t.app, manageKey, { method: 'POST', url });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().code).toBe('not_found');
  });
});

describe('what a key may hear', () => {
  it('needs complaints:read to subscribe to events carrying complaints, or to repoint such a subscription', async () => {
    const hooksOnly = await tenant.keyWith('webhooks:manage');
    for (const events of [
      ['*'],
      ['complaint.*'],
      ['deadline.breached'],
      ['webhook.*', 'complaint.created'],
    ]) {
      const res = await create({ events }, hooksOnly);
      expect(res.statusCode, JSON.stringify(events)).toBe(403);
      expect(res.json()).toMatchObject({ code: 'insufficient_scope', requiredScope: 'complaints:read' });
    }
    const ownEvents = await create({ events: ['webhook.*'] }, hooksOnly);
    expect(ownEvents.statusCode, ownEvents.body).toBe(201);

    const hearing = await created({ events: ['complaint.*'] });
    const repoint = await call(t.app, hooksOnly, {
      method: 'PATCH',
      url: `/v1/webhooks/${hearing.id}`,
      headers: { 'if-match': `"${hearing.version}"` },
      json: { url: 'http://127.0.0.1:9/elsewhere' },
    });
    expect(repoint.statusCode).toBe(403);
    const widen = await call(t.app, hooksOnly, {
      method: 'PATCH',
      url: `/v1/webhooks/${ownEvents.json().id}`,
      headers: { 'if-match': `"${ownEvents.json().version}"` },
      json: { events: ['*'] },
    });
    expect(widen.statusCode).toBe(403);
    const viaGraphql = await call(t.app, hooksOnly, {
      method: 'POST',
      url: '/graphql',
      json: { query: `mutation { createWebhook(input: { url: "${HOOK}", events: ["*"] }) { secret } }` },
    });
    expect(viaGraphql.json().errors[0].extensions).toMatchObject({
      code: 'insufficient_scope',
      requiredScope: 'complaints:read',
    });
  });
});

describe('the wait for the next due delivery', () => {
  const repository = () => t.services.repositories.webhooks;
  /** Every active subscription but these, so that other tests' deliveries do not count. */
  async function allActiveBut(...ids: string[]): Promise<string[]> {
    const { rows } = await t.database.pool.query(
      'select id from webhook_subscriptions where active and id <> all($1::uuid[])',
      [ids],
    );
    return rows.map((row) => row.id as string);
  }

  it('is null when nothing is waiting, not 0, which would read as due now', async () => {
    const hook = await created();
    expect(await repository().msUntilNextDue(await allActiveBut(hook.id))).toBeNull();
  });

  it('is 0 for a delivery due now, the time left for one due later, null once its subscription is skipped', async () => {
    const { hook } = await withDelivery();
    const others = await allActiveBut(hook.id);
    expect(await repository().msUntilNextDue(others)).toBe(0);
    await t.database.pool.query(
      `update webhook_deliveries set next_attempt_at = now() + interval '60 seconds' where subscription_id = $1`,
      [hook.id],
    );
    const wait = await repository().msUntilNextDue(others);
    expect(wait).toBeGreaterThan(55_000);
    expect(wait).toBeLessThanOrEqual(60_000);
    expect(await repository().msUntilNextDue([...others, hook.id])).toBeNull();
  });
});

describe('recording attempts', () => {
  const outcomes = () =>
    createWebhookOutcomes({
      db: t.database.db,
      webhooks: t.services.repositories.webhooks,
      events: t.services.repositories.events,
      clock: systemClock,
      disableAfterMs: 120 * 3_600_000,
    });

  async function lease(subscriptionId: string) {
    const leased = await t.services.repositories.webhooks.claimDue({
      limit: 100,
      perSubscription: 100,
      inFlight: new Map(),
      leaseMs: 60_000,
    });
    const mine = leased.find((delivery) => delivery.subscriptionId === subscriptionId);
    // Leases of other tests' deliveries are given back at once.
    await t.services.repositories.webhooks.releaseLeases(leased.filter((d) => d !== mine));
    return mine!;
  }

  const failure = { status: 500, latencyMs: 12, error: null, excerpt: 'down', retryAfter: undefined };

  it('logs each attempt on its delivery and ends a run of failures on success', async () => {
    const { hook } = await withDelivery();
    const delivery = await lease(hook.id);
    const at = new Date();
    await outcomes().record([
      { delivery, attempt: 1, attemptedAt: at, send: failure, next: { kind: 'retry', at, delayMs: 0 } },
    ]);
    const afterFailure = await call(t.app, manageKey, { method: 'GET', url: `/v1/webhooks/${hook.id}` });
    expect(afterFailure.json().failingSince).toBe(at.toISOString());
    const [logged] = (
      await call(t.app, manageKey, { method: 'GET', url: `/v1/webhooks/${hook.id}/deliveries` })
    ).json().data;
    expect(logged).toMatchObject({ status: 'pending', attemptCount: 1, lastResponseStatus: 500 });
    expect(logged.attempts).toEqual([
      {
        attemptNumber: 1,
        attemptedAt: at.toISOString(),
        responseStatus: 500,
        latencyMs: 12,
        error: null,
        responseExcerpt: 'down',
      },
    ]);

    const again = await lease(hook.id);
    await outcomes().record([
      {
        delivery: again,
        attempt: 2,
        attemptedAt: new Date(),
        send: { ...failure, status: 200, excerpt: 'ok' },
        next: { kind: 'succeeded' },
      },
    ]);
    const healed = await call(t.app, manageKey, { method: 'GET', url: `/v1/webhooks/${hook.id}` });
    expect(healed.json()).toMatchObject({ failingSince: null, active: true });
  });

  it('disables a subscription failing every attempt for WEBHOOK_DISABLE_AFTER_HOURS, with a webhook.disabled event', async () => {
    const fresh = await createTestTenant(t.tenancy);
    const { hook } = await withDelivery(fresh.adminKey);
    await t.database.pool.query(
      `update webhook_subscriptions set failing_since = now() - interval '121 hours' where id = $1`,
      [hook.id],
    );
    const delivery = await lease(hook.id);
    const at = new Date();
    const { disabled } = await outcomes().record([
      { delivery, attempt: 1, attemptedAt: at, send: failure, next: { kind: 'retry', at, delayMs: 0 } },
    ]);
    expect(disabled.map((row) => row.id)).toEqual([hook.id]);
    const read = await call(t.app, fresh.adminKey, { method: 'GET', url: `/v1/webhooks/${hook.id}` });
    expect(read.json()).toMatchObject({ active: false, disabledReason: 'failing', version: 2 });
    const feed = await eventually(async () => {
      const res = await call(t.app, fresh.adminKey, { method: 'GET', url: '/v1/events' });
      return res.json().data.length > 0 ? res.json().data : undefined;
    });
    expect(feed).toMatchObject([
      { type: 'webhook.disabled', data: { reason: 'failing', webhook: { id: hook.id, active: false } } },
    ]);
  });

  it('records a batch whole even when one of its deliveries was deleted meanwhile', async () => {
    const { hook: kept } = await withDelivery();
    const { hook: dropped } = await withDelivery();
    const keptDelivery = await lease(kept.id);
    const droppedDelivery = await lease(dropped.id);
    expect(
      (await call(t.app, manageKey, { method: 'DELETE', url: `/v1/webhooks/${dropped.id}` })).statusCode,
    ).toBe(204);
    const ok = { ...failure, status: 200, excerpt: 'ok' };
    await outcomes().record([
      {
        delivery: droppedDelivery,
        attempt: 1,
        attemptedAt: new Date(),
        send: ok,
        next: { kind: 'succeeded' },
      },
      { delivery: keptDelivery, attempt: 1, attemptedAt: new Date(), send: ok, next: { kind: 'succeeded' } },
    ]);
    const [logged] = (
      await call(t.app, manageKey, { method: 'GET', url: `/v1/webhooks/${kept.id}/deliveries` })
    ).json().data;
    expect(logged).toMatchObject({ status: 'succeeded', attemptCount: 1 });
    expect(logged.attempts).toHaveLength(1);
  });

  it('leaves a delivery alone when the lease it was attempted under has run out', async () => {
    const { hook } = await withDelivery();
    const delivery = await lease(hook.id);
    const at = new Date();
    await outcomes().record([
      {
        delivery: { ...delivery, lease: new Date(Date.now() - 1_000).toISOString() },
        attempt: 1,
        attemptedAt: at,
        send: { ...failure, status: 200 },
        next: { kind: 'succeeded' },
      },
    ]);
    const [logged] = (
      await call(t.app, manageKey, { method: 'GET', url: `/v1/webhooks/${hook.id}/deliveries` })
    ).json().data;
    // The attempt happened and is logged; the delivery stays with whoever leases it now.
    expect(logged).toMatchObject({ status: 'pending', attemptCount: 0 });
    expect(logged.attempts).toHaveLength(1);
  });
});

describe('pacing a subscription with maxDeliveriesPerSecond', () => {
  const webhooks = () => t.services.repositories.webhooks;

  /** Leases what is due with a second's lookahead, keeps this subscription's, gives the rest back. */
  async function leaseFor(subscriptionId: string, perSubscription = 100) {
    const leased = await webhooks().claimDue({
      limit: 100,
      perSubscription,
      inFlight: new Map(),
      leaseMs: 60_000,
      lookaheadMs: 1_000,
    });
    await webhooks().releaseLeases(leased.filter((d) => d.subscriptionId !== subscriptionId));
    return leased.filter((d) => d.subscriptionId === subscriptionId);
  }

  /** A limited subscription with `count` due deliveries (copies of one ping's). */
  async function limitedWith(limit: number, count: number) {
    const hook = await created({ maxDeliveriesPerSecond: limit });
    const ping = await call(t.app, manageKey, { method: 'POST', url: `/v1/webhooks/${hook.id}/ping` });
    expect(ping.statusCode).toBe(202);
    await eventually(async () => {
      await relay.drain();
      const { rows } = await t.database.pool.query(
        'select 1 from webhook_deliveries where subscription_id = $1',
        [hook.id],
      );
      return rows.length > 0;
    });
    await t.database.pool.query(
      `insert into webhook_deliveries (id, tenant_id, subscription_id, event_id, next_attempt_at)
       select gen_random_uuid(), d.tenant_id, d.subscription_id, d.event_id, now()
       from webhook_deliveries d, generate_series(2, $2::int)
       where d.subscription_id = $1`,
      [hook.id, count],
    );
    return hook as { id: string };
  }

  it('hands out slots 1/limit apart up to a second ahead, each once, and waits for the next', async () => {
    const hook = await limitedWith(10, 15);
    const first = await leaseFor(hook.id);
    // Eleven slots start within the second: now, 100 ms, … 1000 ms; the lease runs that much longer.
    expect(first.map((d) => Math.round(d.waitMs / 100)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 11 }, (_, i) => i),
    );
    // Another lease goes on where the pace stands: no slot is handed out twice, none closer than
    // 100 ms to another. The lease token is the end of the lease: slot + 60 s.
    const second = await leaseFor(hook.id);
    expect(second.length).toBeLessThan(4);
    const slots = [...first, ...second]
      .map((d) => Date.parse(`${d.lease.replace(' ', 'T')}:00`) - 60_000)
      .sort((a, b) => a - b);
    for (let i = 1; i < slots.length; i += 1) expect(slots[i]! - slots[i - 1]!).toBeGreaterThanOrEqual(99);
    // The rest wait for their slot to come within the lookahead.
    const { rows } = await t.database.pool.query(
      `select id from webhook_subscriptions where active and id <> $1`,
      [hook.id],
    );
    const wait = await webhooks().msUntilNextDue(
      rows.map((row) => row.id as string),
      1_000,
    );
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(1_000);
    // Waiting their turn, none of them was attempted or failed.
    const { rows: states } = await t.database.pool.query(
      'select status, attempt_count from webhook_deliveries where subscription_id = $1',
      [hook.id],
    );
    expect(states.every((row) => row.status === 'pending' && row.attempt_count === 0)).toBe(true);
  });

  it('takes no more slots than the per-subscription cap leaves room for', async () => {
    const hook = await limitedWith(5, 3);
    const leased = await leaseFor(hook.id, 2);
    expect(leased.map((d) => Math.round(d.waitMs / 100)).sort((a, b) => a - b)).toEqual([0, 2]);
  });

  it('leaves a subscription without a limit unpaced', async () => {
    const { hook } = await withDelivery();
    const leased = await leaseFor(hook.id);
    expect(leased.map((d) => d.waitMs)).toEqual([0]);
  });
});
