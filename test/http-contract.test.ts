import { readFile } from 'node:fs/promises';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  call,
  complaintBody,
  createTestTenant,
  startTestApp,
  type TestApp,
  type TestTenant,
} from './harness.js';

/**
 * What browser partner apps and generated clients rely on, through the app: every header an answer
 * carries is declared in openapi.yaml for that operation and status, conditional GETs answer 304,
 * and CORS answers only the origins on the deployment's allow-list.
 */

interface Operation {
  operationId: string;
  responses: Record<string, { headers?: Record<string, unknown> }>;
}
const contract = parse(await readFile(new URL('../openapi.yaml', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
};
const operations = new Map(
  Object.values(contract.paths).flatMap((item) => Object.values(item).map((op) => [op.operationId, op])),
);

/** Headers HTTP itself, or Fastify for every answer, adds: not part of an operation's contract. */
const TRANSPORT_HEADERS = new Set([
  'content-type',
  'content-length',
  'date',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'x-content-type-options',
  'vary',
]);

/** Fails naming each header the answer carries that the contract does not declare for it. */
function expectDeclared(operationId: string, res: LightMyRequestResponse) {
  const operation = operations.get(operationId);
  expect(operation, operationId).toBeDefined();
  const response = operation?.responses[String(res.statusCode)];
  expect(response, `${operationId} ${res.statusCode}`).toBeDefined();
  const declared = new Set(Object.keys(response?.headers ?? {}).map((name) => name.toLowerCase()));
  const undeclared = Object.keys(res.headers).filter(
    (name) => !TRANSPORT_HEADERS.has(name) && !name.startsWith('access-control-') && !declared.has(name),
  );
  expect(undeclared, `${operationId} ${res.statusCode}`).toEqual([]);
}

const ORIGIN = 'https://crm.example.com';

let t: TestApp;
let browser: TestApp;
let tenant: TestTenant;
let browserTenant: TestTenant;

beforeAll(async () => {
  [t, browser] = await Promise.all([
    startTestApp(),
    startTestApp({ CORS_ALLOWED_ORIGINS: `${ORIGIN}, http://localhost:5173` }),
  ]);
  [tenant, browserTenant] = await Promise.all([
    createTestTenant(t.tenancy),
    createTestTenant(browser.tenancy),
  ]);
}, 120_000);
afterAll(() => Promise.all([t?.close(), browser?.close()]));

async function createComplaint(app = t, key = tenant.adminKey, headers: Record<string, string> = {}) {
  const res = await call(app.app, key, {
    method: 'POST',
    url: '/v1/complaints',
    json: complaintBody(),
    headers,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res;
}

describe('response headers', () => {
  it('are all declared, on successes, replays and refusals alike', async () => {
    const headers = { 'idempotency-key': `contract-${Date.now()}` };
    const body = complaintBody();
    const create = () =>
      call(t.app, tenant.adminKey, { method: 'POST', url: '/v1/complaints', json: body, headers });
    const created = await create();
    expect(created.statusCode, created.body).toBe(201);
    expectDeclared('createComplaint', created);
    expect(created.headers.etag).toBeDefined();
    expect(created.headers.location).toBeDefined();
    expect(created.headers['x-ratelimit-remaining']).toBeDefined();

    const replayed = await create();
    expect(replayed.statusCode).toBe(201);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expectDeclared('createComplaint', replayed);

    const reused = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(),
      headers,
    });
    expect(reused.statusCode).toBe(422);
    expectDeclared('createComplaint', reused);

    const { id } = created.json();
    const read = await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${id}` });
    expectDeclared('getComplaint', read);

    const noIfMatch = await call(t.app, tenant.adminKey, {
      method: 'PATCH',
      url: `/v1/complaints/${id}`,
      json: { priority: 'high' },
    });
    expect(noIfMatch.statusCode).toBe(428);
    expectDeclared('updateComplaint', noIfMatch);

    const patched = await call(t.app, tenant.adminKey, {
      method: 'PATCH',
      url: `/v1/complaints/${id}`,
      headers: { 'if-match': read.headers.etag as string, 'content-type': 'application/merge-patch+json' },
      payload: JSON.stringify({ priority: 'high' }),
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expectDeclared('updateComplaint', patched);

    const stale = await call(t.app, tenant.adminKey, {
      method: 'PATCH',
      url: `/v1/complaints/${id}`,
      headers: { 'if-match': read.headers.etag as string },
      json: { priority: 'low' },
    });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().currentEtag).toBe(patched.headers.etag);
    expectDeclared('updateComplaint', stale);

    const list = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url: '/v1/complaints?status=received&status=investigating&channel=web,phone',
    });
    expect(list.statusCode, list.body).toBe(200);
    expectDeclared('listComplaints', list);

    const anonymous = await call(t.app, null, { method: 'GET', url: '/v1/complaints' });
    expect(anonymous.statusCode).toBe(401);
    expectDeclared('listComplaints', anonymous);
  });
});

describe('list filters', () => {
  it('take a repeated parameter, a comma-separated one, or both, and name an unknown value', async () => {
    const created = (await createComplaint()).json();
    const ids = async (query: string) => {
      const res = await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints?${query}` });
      expect(res.statusCode, res.body).toBe(200);
      return (res.json().data as { id: string }[]).map((c) => c.id);
    };
    expect(await ids('status=received&status=closed')).toContain(created.id);
    expect(await ids('status=closed,received')).toContain(created.id);
    expect(await ids('status=closed&status=withdrawn,acknowledged')).not.toContain(created.id);

    const unknown = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url: '/v1/complaints?status=received&status=lost',
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors[0].message).toContain("unknown status 'lost'");
  });
});

describe('If-None-Match', () => {
  it('answers 304 with the ETag and no body while the complaint is unchanged, and 200 once it changes', async () => {
    const created = await createComplaint();
    const { id } = created.json();
    const etag = created.headers.etag as string;
    const url = `/v1/complaints/${id}`;

    const unchanged = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url,
      headers: { 'if-none-match': etag },
    });
    expect(unchanged.statusCode).toBe(304);
    expect(unchanged.body).toBe('');
    expect(unchanged.headers.etag).toBe(etag);
    expectDeclared('getComplaint', unchanged);

    const weakOrListed = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url,
      headers: { 'if-none-match': `"nope", W/${etag}` },
    });
    expect(weakOrListed.statusCode).toBe(304);

    const other = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url,
      headers: { 'if-none-match': '"0"' },
    });
    expect(other.statusCode).toBe(200);
    expect(other.json().id).toBe(id);

    await call(t.app, tenant.adminKey, {
      method: 'PATCH',
      url,
      headers: { 'if-match': etag },
      json: { priority: 'high' },
    });
    const changed = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url,
      headers: { 'if-none-match': etag },
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
  });

  it('answers 304 on every other read that sends an ETag (workflow settings)', async () => {
    const first = await call(t.app, tenant.adminKey, { method: 'GET', url: '/v1/settings/workflow' });
    expect(first.statusCode).toBe(200);
    const again = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url: '/v1/settings/workflow',
      headers: { 'if-none-match': first.headers.etag as string },
    });
    expect(again.statusCode).toBe(304);
    expectDeclared('getWorkflowSettings', again);
  });

  it('never turns a write or a refusal into 304', async () => {
    const created = await createComplaint();
    const { id } = created.json();
    const foreign = await createTestTenant(t.tenancy);
    const notFound = await call(t.app, foreign.adminKey, {
      method: 'GET',
      url: `/v1/complaints/${id}`,
      headers: { 'if-none-match': '*' },
    });
    expect(notFound.statusCode).toBe(404);
    const patched = await call(t.app, tenant.adminKey, {
      method: 'PATCH',
      url: `/v1/complaints/${id}`,
      headers: { 'if-match': created.headers.etag as string, 'if-none-match': '*' },
      json: { priority: 'high' },
    });
    expect(patched.statusCode).toBe(200);
  });
});

describe('CORS', () => {
  const preflight = (app: TestApp, origin: string) =>
    app.app.inject({
      method: 'OPTIONS',
      url: '/v1/complaints',
      headers: {
        origin,
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'authorization, content-type, if-match, idempotency-key',
      },
    });

  it('answers a preflight from an allowed origin, without a key and without credentials', async () => {
    const res = await preflight(browser, ORIGIN);
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(String(res.headers['access-control-allow-methods'])).toContain('PATCH');
    expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toContain('if-match');
    expect(res.headers['access-control-max-age']).toBe('600');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('gives a denied origin nothing that lets its page read the answer', async () => {
    const denied = await preflight(browser, 'https://evil.example.com');
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
    const read = await call(browser.app, browserTenant.adminKey, {
      method: 'GET',
      url: '/v1/complaints',
      headers: { origin: 'https://evil.example.com' },
    });
    expect(read.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('lets an allowed page read the answer and the headers the contract declares', async () => {
    const created = await createComplaint(browser, browserTenant.adminKey, {
      origin: 'http://localhost:5173',
    });
    expect(created.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    const exposed = String(created.headers['access-control-expose-headers']).split(/,\s*/);
    expect(exposed).toEqual(
      expect.arrayContaining(['ETag', 'Location', 'Idempotent-Replayed', 'X-Request-Id']),
    );
    expect(created.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('keeps 404 for paths that do not exist, though preflights answer every path', async () => {
    const res = await call(browser.app, browserTenant.adminKey, { method: 'PUT', url: '/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('route_not_found');
  });

  it('is off without an allow-list: no preflight answer, no CORS headers', async () => {
    const res = await preflight(t, ORIGIN);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const read = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url: '/v1/complaints',
      headers: { origin: ORIGIN },
    });
    expect(read.statusCode).toBe(200);
    expect(read.headers['access-control-allow-origin']).toBeUndefined();
  });
});
