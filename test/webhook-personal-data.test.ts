import { type Client, createClient } from 'graphql-ws';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MASKED_TEXT } from '../src/modules/personal-data/masks.js';
import { postGraphql, subscriptionsListening } from './graphql-client.js';
import { call, complaintBody, createTestTenant, type TestApp, type TestTenant } from './harness.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';
import { type Receiver, startReceiver } from './receiver.js';
import { testRedisEnv } from './redis-keys.js';
import { eventually, startWorkerProcess, type WorkerProcess } from './worker-process.js';

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Json = Record<string, any>;
/**
 * Personal data as events carry it, end to end with a real worker: webhooks to a masked and a
 * clear subscription, the pull feed and GraphQL subscriptions, each masked unless the receiver
 * may read it (personal-data.test.ts reads the same over REST and GraphQL queries). A database of
 * its own, so this file's worker relays only its events.
 */
let isolated: IsolatedTestApp;
let t: TestApp;
let worker: WorkerProcess;
let receiver: Receiver;
let baseUrl: string;
const clients: Client[] = [];

const CUSTOMER = {
  name: '王芳',
  phone: '+8613812348000',
  email: 'wangfang@example.com',
  externalId: 'CRM-0012345',
};
const MASKED_CUSTOMER = {
  name: '王*',
  phone: '+86 138****8000',
  email: 'w***@example.com',
  externalId: 'CR***45',
};
const DESCRIPTION = 'Zhenzhu lift stopped between floors.';
const SECRETS = ['王芳', '13812348000', 'wangfang', 'CRM-0012345', 'Zhenzhu'];
const expectNoSecrets = (body: string) => {
  for (const secret of SECRETS) expect(body, `masked body holds ${secret}`).not.toContain(secret);
};

beforeAll(async () => {
  isolated = await startIsolatedTestApp('personal_data', { WEBHOOK_ALLOW_PRIVATE: 'true' });
  t = isolated.app;
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  baseUrl = `http://127.0.0.1:${address.port}`;
  receiver = await startReceiver();
  worker = await startWorkerProcess({
    DATABASE_URL: isolated.databaseUrl,
    ...testRedisEnv(),
    REDIS_PREFIX: isolated.redisPrefix,
    WORKER_CONCURRENCY: '4',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_RETRY_SCHEDULE: '0,1,1',
    WEBHOOK_TIMEOUT_SECONDS: '2',
  });
});
afterAll(async () => {
  for (const client of clients) await client.dispose();
  await worker?.stop();
  await receiver?.close();
  await isolated?.close();
});

async function subscribe(key: string, path: string, extra: Record<string, unknown> = {}) {
  return call(t.app, key, {
    method: 'POST',
    url: '/v1/webhooks',
    json: { url: `${receiver.url}${path}`, events: ['complaint.*', 'communication.*'], ...extra },
  });
}

async function createComplaint(tenant: TestTenant) {
  const res = await call(t.app, tenant.adminKey, {
    method: 'POST',
    url: '/v1/complaints',
    json: complaintBody({ customer: CUSTOMER, description: DESCRIPTION }),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; reference: string };
}

describe('webhook subscriptions and personal data', () => {
  it('are masked unless asked otherwise, and asking for clear needs personal_data:read', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const manager = await tenant.keyWith('webhooks:manage', 'complaints:read');
    const trusted = await tenant.keyWith('webhooks:manage', 'complaints:read', 'personal_data:read');

    const masked = await subscribe(manager, '/hooks/default');
    expect(masked.statusCode, masked.body).toBe(201);
    expect(masked.json().personalData).toBe('masked');

    const refused = await subscribe(manager, '/hooks/refused', { personalData: 'clear' });
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.json()).toMatchObject({
      code: 'clear_personal_data_not_allowed',
      requiredScope: 'personal_data:read',
    });

    const clear = await subscribe(trusted, '/hooks/clear', { personalData: 'clear' });
    expect(clear.statusCode, clear.body).toBe(201);
    expect(clear.json().personalData).toBe('clear');

    // Turning a masked one clear needs the scope too; and so does changing one that is clear.
    const patch = (key: string, id: string, version: number, json: Record<string, unknown>) =>
      call(t.app, key, {
        method: 'PATCH',
        url: `/v1/webhooks/${id}`,
        headers: { 'if-match': `"${version}"` },
        json,
      });
    const toClear = await patch(manager, masked.json().id, 1, { personalData: 'clear' });
    expect(toClear.statusCode).toBe(403);
    expect(toClear.json().code).toBe('clear_personal_data_not_allowed');
    const moved = await patch(manager, clear.json().id, 1, { url: `${receiver.url}/hooks/elsewhere` });
    expect(moved.statusCode).toBe(403);
    expect(moved.json().code).toBe('clear_personal_data_not_allowed');
    const described = await patch(manager, masked.json().id, 1, { description: 'CRM' });
    expect(described.statusCode, described.body).toBe(200);
    const allowed = await patch(trusted, masked.json().id, 2, { personalData: 'clear' });
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect(allowed.json().personalData).toBe('clear');
    const back = await patch(manager, masked.json().id, 3, { personalData: 'masked' });
    expect(back.statusCode, back.body).toBe(200);

    // GraphQL refuses the same way.
    const gql = await postGraphql(
      t.app,
      manager,
      `mutation ($input: WebhookInput!) { createWebhook(input: $input) { webhook { id personalData } } }`,
      { input: { url: `${receiver.url}/hooks/gql`, events: ['complaint.*'], personalData: 'clear' } },
    );
    expect(gql.errors[0]?.extensions).toMatchObject({ code: 'clear_personal_data_not_allowed', status: 403 });
  });

  it('a masked subscription receives the event masked, signed over what it receives; a clear one in clear', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const maskedHook = (await subscribe(tenant.adminKey, '/hooks/masked')).json();
    const clearHook = (
      await subscribe(tenant.adminKey, '/hooks/clear-one', { personalData: 'clear' })
    ).json();
    const complaint = await createComplaint(tenant);
    const comm = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${complaint.id}/communications`,
      json: { direction: 'inbound', channel: 'email', body: `${DESCRIPTION} Again.`, contactMade: true },
    });
    expect(comm.statusCode, comm.body).toBe(201);

    const arrived = (path: string) =>
      eventually(async () => (receiver.on(path).length >= 2 ? receiver.on(path) : undefined), 15_000);
    const [maskedRequests, clearRequests] = await Promise.all([
      arrived('/hooks/masked'),
      arrived('/hooks/clear-one'),
    ]);

    const verified = (secret: string, request: (typeof maskedRequests)[number]) =>
      new Webhook(secret).verify(request.rawBody, request.headers as Record<string, string>) as {
        type: string;
        data: Json;
      };
    const maskedEvents = maskedRequests.map((request) => verified(maskedHook.secret, request));
    const clearEvents = clearRequests.map((request) => verified(clearHook.secret, request));
    const ofType = (events: typeof maskedEvents, type: string) =>
      events.find((event) => event.type === type)!;

    expect(ofType(maskedEvents, 'complaint.created').data.complaint).toMatchObject({
      id: complaint.id,
      customer: MASKED_CUSTOMER,
      description: MASKED_TEXT,
    });
    expect(ofType(maskedEvents, 'communication.recorded').data.communication.body).toBe(MASKED_TEXT);
    for (const request of maskedRequests) expectNoSecrets(request.rawBody);

    expect(ofType(clearEvents, 'complaint.created').data.complaint).toMatchObject({
      customer: CUSTOMER,
      description: DESCRIPTION,
    });
    expect(ofType(clearEvents, 'communication.recorded').data.communication.body).toBe(
      `${DESCRIPTION} Again.`,
    );
    // The same events, under the same ids.
    expect(maskedEvents.map((e) => e.type).sort()).toEqual(clearEvents.map((e) => e.type).sort());
  });
});

describe('the event feed', () => {
  it('masks the complaint, the communication and the changes of each event without personal_data:read', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const complaint = await createComplaint(tenant);
    const current = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url: `/v1/complaints/${complaint.id}`,
    });
    const edited = await call(t.app, tenant.adminKey, {
      method: 'PATCH',
      url: `/v1/complaints/${complaint.id}`,
      headers: { 'if-match': current.headers.etag as string },
      json: { customer: { name: '王小明' } },
    });
    expect(edited.statusCode, edited.body).toBe(200);
    const clearKey = await tenant.keyWith('complaints:read', 'personal_data:read');
    const maskedKey = await tenant.keyWith('complaints:read');
    const clear = await eventually(async () => {
      const res = await call(t.app, clearKey, { method: 'GET', url: '/v1/events' });
      return res.json().data.length >= 2 ? res : undefined;
    }, 15_000);
    const masked = await call(t.app, maskedKey, { method: 'GET', url: '/v1/events' });
    expect(masked.statusCode).toBe(200);
    const types = (body: { data: Array<{ type: string }> }) => body.data.map((event) => event.type);
    expect(types(masked.json())).toEqual(types(clear.json()));
    const event = (type: string) => masked.json().data.find((e: { type: string }) => e.type === type) as Json;
    expect(event('complaint.created').data.complaint.customer).toEqual({ ...MASKED_CUSTOMER, address: null });
    expect(event('complaint.updated').data.changes).toContainEqual({
      field: 'customer.name',
      before: '王*',
      after: '王**',
    });
    expect(event('complaint.updated').data.complaint.customer.name).toBe('王**');
    expect(clear.body).toContain('王芳');
    expectNoSecrets(masked.body);
    expect(masked.body).not.toContain('王小明');
  });
});

describe('GraphQL subscriptions', () => {
  function connect(key: string): Client {
    const client = createClient({
      url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}` },
      retryAttempts: 0,
    });
    clients.push(client);
    return client;
  }

  /** Subscribes to complaint.created and waits until the API counts the subscription listening. */
  async function listen(client: Client) {
    const results: Array<Json> = [];
    const errors: unknown[] = [];
    const before = await subscriptionsListening(baseUrl);
    client.subscribe(
      {
        query:
          'subscription { events(types: ["complaint.created"]) { type data complaint { customer { name phone } description } } }',
      },
      {
        next: (result) => {
          if (result.errors) errors.push(...result.errors);
          if (result.data) results.push(result.data.events as Json);
        },
        error: (error) => errors.push(error),
        complete: () => {},
      },
    );
    await eventually(async () => {
      if (errors.length > 0) throw new Error(`refused: ${JSON.stringify(errors)}`);
      return (await subscriptionsListening(baseUrl)) > before;
    });
    return { results, errors };
  }

  it('deliver events masked to a subscriber without personal_data:read', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const masked = await listen(connect(await tenant.keyWith('complaints:read')));
    const clear = await listen(connect(await tenant.keyWith('complaints:read', 'personal_data:read')));
    const complaint = await createComplaint(tenant);
    await eventually(async () => masked.results.length > 0 && clear.results.length > 0, 15_000);
    expect(masked.errors).toEqual([]);
    const [maskedEvent] = masked.results;
    expect(maskedEvent!.data.complaint).toMatchObject({ id: complaint.id, customer: MASKED_CUSTOMER });
    expect(maskedEvent!.complaint).toEqual({
      customer: { name: MASKED_CUSTOMER.name, phone: MASKED_CUSTOMER.phone },
      description: MASKED_TEXT,
    });
    expectNoSecrets(JSON.stringify(maskedEvent));
    expect(clear.results[0]!.data.complaint.customer.name).toBe('王芳');
    expect(clear.results[0]!.complaint.customer.name).toBe('王芳');
  });
});
