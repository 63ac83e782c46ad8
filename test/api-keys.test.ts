import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  complaintBody,
  createTestTenant,
  startTestApp,
  type TestApp,
  type TestTenant,
} from './harness.js';

let t: TestApp;
let tenant: TestTenant;
let other: TestTenant;

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTestTenant(t.tenancy);
  other = await createTestTenant(t.tenancy);
});
afterAll(() => t.close());

describe('/v1/api-keys', () => {
  it('creates a key shown once, stored only as a hash, usable at once with its scopes', async () => {
    const res = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/api-keys',
      json: { name: 'CRM production', scopes: ['complaints:read', 'complaints:write'] },
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const created = res.json();
    expect(created.key).toMatch(/^rdk_[0-9A-Za-z]{8}_[0-9A-Za-z]{40}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    expect(res.headers.location).toBe(`/v1/api-keys/${created.id}`);

    const stored = await t.database.pool.query('select * from api_keys where id = $1', [created.id]);
    expect(JSON.stringify(stored.rows[0])).not.toContain(created.key);

    const listed = await call(t.app, tenant.adminKey, { method: 'GET', url: '/v1/api-keys' });
    const entry = listed.json().data.find((k: { id: string }) => k.id === created.id);
    expect(entry).toMatchObject({ name: 'CRM production', prefix: created.prefix, revokedAt: null });
    expect(entry.key).toBeUndefined();

    const use = await call(t.app, created.key, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(),
    });
    expect(use.statusCode).toBe(201);
    const notAdmin = await call(t.app, created.key, { method: 'GET', url: '/v1/api-keys' });
    expect(notAdmin.statusCode).toBe(403);
  });

  it('revokes a key: it answers 401 at once, and revoking again is harmless', async () => {
    const created = (
      await call(t.app, tenant.adminKey, {
        method: 'POST',
        url: '/v1/api-keys',
        json: { name: 'temporary', scopes: ['complaints:read'] },
      })
    ).json();
    expect((await call(t.app, created.key, { method: 'GET', url: '/v1/complaints' })).statusCode).toBe(200);
    const revoke = await call(t.app, tenant.adminKey, {
      method: 'DELETE',
      url: `/v1/api-keys/${created.id}`,
    });
    expect(revoke.statusCode).toBe(204);
    const refused = await call(t.app, created.key, { method: 'GET', url: '/v1/complaints' });
    expect(refused.statusCode).toBe(401);
    expect(refused.json().detail).toContain('revoked');
    expect(
      (await call(t.app, tenant.adminKey, { method: 'DELETE', url: `/v1/api-keys/${created.id}` }))
        .statusCode,
    ).toBe(204);
    const shown = await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/api-keys/${created.id}` });
    expect(shown.json().revokedAt).not.toBeNull();
  });

  it('refuses an expired key', async () => {
    const { plaintextKey, apiKey } = await t.tenancy.createApiKey(tenant.tenantId, {
      name: 'short-lived',
      scopes: ['complaints:read'],
      expiresAt: new Date(Date.now() + 60_000),
    });
    await t.database.pool.query(
      "update api_keys set expires_at = now() - interval '1 second' where id = $1",
      [apiKey.id],
    );
    const res = await call(t.app, plaintextKey, { method: 'GET', url: '/v1/complaints' });
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toContain('expired');
  });

  it('refuses bad input', async () => {
    for (const json of [
      { name: '', scopes: ['admin'] },
      { name: 'x', scopes: [] },
      { name: 'x', scopes: ['root'] },
      { name: 'x', scopes: ['admin'], expiresAt: 'soon' },
      { name: 'x', scopes: ['admin'], extra: true },
    ]) {
      const res = await call(t.app, tenant.adminKey, { method: 'POST', url: '/v1/api-keys', json });
      expect(res.statusCode, JSON.stringify(json)).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
    const past = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/api-keys',
      json: { name: 'x', scopes: ['admin'], expiresAt: '2020-01-01T00:00:00Z' },
    });
    expect(past.statusCode).toBe(400);
    expect(past.json().errors[0].field).toBe('body.expiresAt');
    expect(
      (await call(t.app, tenant.adminKey, { method: 'DELETE', url: '/v1/api-keys/not-a-uuid' })).statusCode,
    ).toBe(400);
  });

  it("keeps other tenants' keys out of sight: 404, never 403", async () => {
    const theirs = (
      await call(t.app, other.adminKey, {
        method: 'POST',
        url: '/v1/api-keys',
        json: { name: 'theirs', scopes: ['admin'] },
      })
    ).json();
    expect(
      (await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/api-keys/${theirs.id}` })).statusCode,
    ).toBe(404);
    expect(
      (await call(t.app, tenant.adminKey, { method: 'DELETE', url: `/v1/api-keys/${theirs.id}` })).statusCode,
    ).toBe(404);
    const list = await call(t.app, tenant.adminKey, { method: 'GET', url: '/v1/api-keys' });
    expect(list.json().data.map((k: { id: string }) => k.id)).not.toContain(theirs.id);
    // Still works for its own tenant.
    expect((await call(t.app, theirs.key, { method: 'GET', url: '/v1/api-keys' })).statusCode).toBe(200);
  });

  it('needs an admin key', async () => {
    const writer = await tenant.keyWith(
      'complaints:write',
      'policies:manage',
      'webhooks:manage',
      'reports:read',
    );
    for (const [method, url] of [
      ['GET', '/v1/api-keys'],
      ['POST', '/v1/api-keys'],
      ['DELETE', '/v1/api-keys/00000000-0000-4000-8000-000000000000'],
    ] as const) {
      const json = method === 'POST' ? { name: 'x', scopes: ['admin'] } : undefined;
      expect((await call(t.app, null, { method, url, json })).statusCode).toBe(401);
      const res = await call(t.app, writer, { method, url, json });
      expect(res.statusCode).toBe(403);
      expect(res.json().requiredScope).toBe('admin');
    }
  });

  it.each([
    ['no header', undefined],
    ['not bearer', 'Basic dXNlcjpwYXNz'],
    ['not a Redress key', 'Bearer hello'],
    ['unknown key', `Bearer rdk_AAAAAAAA_${'A'.repeat(40)}`],
  ])('answers 401 with a problem document for %s', async (_label, authorization) => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/complaints',
      headers: authorization ? { authorization } : {},
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().code).toBe('unauthenticated');
  });
});

describe('key cache across API processes', () => {
  it('refuses a key revoked through another API process as soon as the revocation commits', async () => {
    const second = await startTestApp();
    try {
      const created = (
        await call(t.app, tenant.adminKey, {
          method: 'POST',
          url: '/v1/api-keys',
          json: { name: 'shared', scopes: ['complaints:read'] },
        })
      ).json();
      // Both processes have now looked the key up (and cached it).
      expect((await call(t.app, created.key, { method: 'GET', url: '/v1/complaints' })).statusCode).toBe(200);
      expect((await call(second.app, created.key, { method: 'GET', url: '/v1/complaints' })).statusCode).toBe(
        200,
      );
      expect(
        (await call(second.app, tenant.adminKey, { method: 'DELETE', url: `/v1/api-keys/${created.id}` }))
          .statusCode,
      ).toBe(204);
      expect((await call(second.app, created.key, { method: 'GET', url: '/v1/complaints' })).statusCode).toBe(
        401,
      );
      const deadline = Date.now() + 2_000;
      let status = 200;
      while (status !== 401 && Date.now() < deadline) {
        status = (await call(t.app, created.key, { method: 'GET', url: '/v1/complaints' })).statusCode;
        if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(status).toBe(401);
    } finally {
      await second.close();
    }
  });
});

describe('creating tenants', () => {
  it('refuses a name that is empty, longer than 200 characters or not text, writing nothing', async () => {
    const refused = ['', '   ', 'x'.repeat(201), 'Acme\u0000', 'Acme \ud800'];
    for (const name of refused) {
      await expect(t.tenancy.createTenant(name), JSON.stringify(name)).rejects.toMatchObject({
        code: 'validation_failed',
        errors: [{ field: 'name', message: expect.any(String) }],
      });
    }
    // Other test files make tenants meanwhile, so this looks for the names refused, not a count.
    const written = await t.database.pool.query(
      `select name from tenants where name = any($1::text[]) or trim(name) = '' or length(name) > 200`,
      [refused.filter((name) => !name.includes('\u0000')).map((name) => name.trim())],
    );
    expect(written.rows).toEqual([]);
    const { tenant } = await t.tenancy.createTenant(`  ${'y'.repeat(200)}  `);
    expect(tenant.name).toBe('y'.repeat(200));
  });

  it('answers not found for a key of a tenant id that is no UUID', async () => {
    await expect(t.tenancy.createApiKey('nope', { name: 'x', scopes: ['admin'] })).rejects.toMatchObject({
      code: 'not_found',
      message: "Tenant 'nope' not found.",
    });
  });
});
