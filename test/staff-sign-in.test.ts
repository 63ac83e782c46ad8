import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGraphql } from './graphql-client.js';
import {
  call,
  complaintBody,
  createTestTenant,
  startTestApp,
  type TestApp,
  type TestTenant,
} from './harness.js';

/**
 * Staff sign-in with OIDC access tokens, against identity providers served by this test on
 * 127.0.0.1: each has a discovery document and a JWKS, and signs its tokens with keys jose made.
 */
interface SigningKey {
  kid: string;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  publicJwk: JWK;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

/** One provider at `${base}/${name}`: its JWKS publishes `published`, and fails while `down`. */
interface Provider {
  name: string;
  published: SigningKey[];
  down: boolean;
  jwksFetches: number;
}

let server: Server;
let base: string;
const providers = new Map<string, Provider>();
const issuerOf = (provider: Provider) => `${base}/${provider.name}`;

async function provider(name: string, keys: SigningKey[]): Promise<Provider> {
  const made: Provider = { name, published: keys, down: false, jwksFetches: 0 };
  providers.set(name, made);
  return made;
}

async function startIdentityServer(): Promise<void> {
  server = createServer((request, response) => {
    const [, name, ...rest] = (request.url ?? '').split('/');
    const found = providers.get(name ?? '');
    const path = `/${rest.join('/')}`;
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (!found || found.down) return send(503, { error: 'unavailable' });
    if (path === '/.well-known/openid-configuration') {
      return send(200, { issuer: issuerOf(found), jwks_uri: `${issuerOf(found)}/jwks` });
    }
    if (path === '/jwks') {
      found.jwksFetches += 1;
      return send(200, { keys: found.published.map((key) => key.publicJwk) });
    }
    send(404, {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface TokenOptions {
  key: SigningKey;
  issuer: string;
  audience: string | string[];
  subject?: string;
  claims?: Record<string, unknown>;
  /** Seconds from now; negative for a token that has expired. */
  expiresIn?: number;
  kid?: string;
}

async function token(options: TokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ name: 'Ana Agent', roles: ['agent'], ...options.claims })
    .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? options.key.kid, typ: 'JWT' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(options.subject ?? 'agent-0042')
    .setIssuedAt(now - 60)
    .setExpirationTime(now + (options.expiresIn ?? 300))
    .sign(options.key.privateKey);
}

let t: TestApp;
let tenantA: TestTenant;
let tenantB: TestTenant;
let idpA: Provider;
let idpB: Provider;
let keyA1: SigningKey;
let keyB: SigningKey;

const SCOPE_MAP = {
  agent: ['complaints:read', 'complaints:write'],
  viewer: ['complaints:read'],
  'customer-data': ['personal_data:read'],
  'redress-admin': ['admin'],
};

async function registerProvider(tenant: TestTenant, body: Record<string, unknown>) {
  const res = await call(t.app, tenant.adminKey, {
    method: 'POST',
    url: '/v1/identity-providers',
    json: body,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** A token of tenant A's provider: an agent, unless the options say otherwise. */
const tokenA = (options: Partial<TokenOptions> = {}) =>
  token({ key: keyA1, issuer: issuerOf(idpA), audience: 'redress-a', ...options });

beforeAll(async () => {
  await startIdentityServer();
  keyA1 = await signingKey('a-1');
  keyB = await signingKey('b-1');
  idpA = await provider('tenant-a', [keyA1]);
  idpB = await provider('tenant-b', [keyB]);
  // A cooldown of 0: a token with a key id the cached JWKS lacks refetches it at once.
  t = await startTestApp({ OIDC_ALLOW_PRIVATE: 'true', OIDC_JWKS_COOLDOWN_SECONDS: '0' });
  tenantA = await createTestTenant(t.tenancy);
  tenantB = await createTestTenant(t.tenancy);
  // Tenant A's JWKS is discovered; tenant B names it.
  await registerProvider(tenantA, {
    name: 'Staff directory',
    issuer: issuerOf(idpA),
    audience: 'redress-a',
    scopeClaim: 'roles',
    scopeMap: SCOPE_MAP,
  });
  await registerProvider(tenantB, {
    name: 'Partner directory',
    issuer: issuerOf(idpB),
    audience: 'redress-b',
    jwksUri: `${issuerOf(idpB)}/jwks`,
    scopeClaim: 'scope',
    scopeMap: { 'complaints.manage': ['complaints:read', 'complaints:write'] },
  });
});
afterAll(async () => {
  await t?.close();
  await new Promise((resolve) => server?.close(resolve));
});

function expectTokenRefused(
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  code: string,
) {
  expect(res.statusCode).toBe(401);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.headers['www-authenticate']).toBe('Bearer realm="redress", error="invalid_token"');
  expect(res.json()).toMatchObject({ code, status: 401 });
}

describe('access tokens', () => {
  it('signs a person in: their complaint records them, by subject and name, as the actor', async () => {
    const res = await call(t.app, await tokenA(), {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(),
    });
    expect(res.statusCode, res.body).toBe(201);
    const complaint = res.json();
    expect(complaint.receivedBy).toBe('Ana Agent');
    const timeline = await call(t.app, await tokenA(), {
      method: 'GET',
      url: `/v1/complaints/${complaint.id}/timeline`,
    });
    expect(timeline.statusCode, timeline.body).toBe(200);
    expect(timeline.json().data[0].actor).toEqual({
      type: 'user',
      id: 'agent-0042',
      name: 'Ana Agent',
      onBehalfOf: null,
    });
    const stored = await t.database.pool.query(
      'select actor_type, actor_id, actor_subject from complaint_timeline where complaint_id = $1',
      [complaint.id],
    );
    expect(stored.rows[0]).toEqual({ actor_type: 'user', actor_id: null, actor_subject: 'agent-0042' });
  });

  it('records a person who escalates by hand (escalate_complaint) as the actor too', async () => {
    const created = await call(t.app, await tokenA(), {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(),
    });
    const id = created.json().id;
    const escalated = await call(t.app, await tokenA({ subject: 'lead-7', claims: { name: 'Li Lead' } }), {
      method: 'POST',
      url: `/v1/complaints/${id}/escalations`,
      json: { level: 1, reason: 'Customer called twice' },
    });
    expect(escalated.statusCode, escalated.body).toBe(201);
    const timeline = await call(t.app, tenantA.adminKey, {
      method: 'GET',
      url: `/v1/complaints/${id}/timeline`,
    });
    const entry = timeline.json().data.find((e: { type: string }) => e.type === 'complaint.escalated');
    expect(entry.actor).toEqual({ type: 'user', id: 'lead-7', name: 'Li Lead', onBehalfOf: null });
  });

  it('refuses an expired token with token_expired, and takes one within the clock tolerance', async () => {
    expectTokenRefused(
      await call(t.app, await tokenA({ expiresIn: -600 }), { method: 'GET', url: '/v1/complaints' }),
      'token_expired',
    );
    const justExpired = await call(t.app, await tokenA({ expiresIn: -5 }), {
      method: 'GET',
      url: '/v1/complaints',
    });
    expect(justExpired.statusCode, justExpired.body).toBe(200);
  });

  it('refuses a token for another audience, or from an issuer no tenant registered', async () => {
    expectTokenRefused(
      await call(t.app, await tokenA({ audience: 'someone-else' }), { method: 'GET', url: '/v1/complaints' }),
      'invalid_token',
    );
    expectTokenRefused(
      await call(t.app, await tokenA({ issuer: `${base}/nobody` }), { method: 'GET', url: '/v1/complaints' }),
      'invalid_token',
    );
    // Tenant B's audience on tenant A's issuer: neither tenant's provider.
    expectTokenRefused(
      await call(t.app, await tokenA({ audience: 'redress-b' }), { method: 'GET', url: '/v1/complaints' }),
      'invalid_token',
    );
  });

  it('refuses a token signed by a key the JWKS does not publish, under a new key id or the real one', async () => {
    const rogue = await signingKey('rogue');
    expectTokenRefused(
      await call(t.app, await tokenA({ key: rogue }), { method: 'GET', url: '/v1/complaints' }),
      'invalid_token',
    );
    expectTokenRefused(
      await call(t.app, await tokenA({ key: rogue, kid: keyA1.kid }), {
        method: 'GET',
        url: '/v1/complaints',
      }),
      'invalid_token',
    );
  });

  it('refuses tokens that are no JWT, unsigned, or signed with a shared secret', async () => {
    const [header, payload] = (await tokenA()).split('.');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
    const hmac = await new SignJWT({ roles: ['agent'] })
      .setProtectedHeader({ alg: 'HS256', kid: keyA1.kid })
      .setIssuer(issuerOf(idpA))
      .setAudience('redress-a')
      .setSubject('forger')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('a-secret-anyone-could-guess-0123456789'));
    for (const bad of [`${header}.${payload}.c2ln`, `${unsigned}x`, hmac, 'aaa.bbb.ccc']) {
      expectTokenRefused(await call(t.app, bad, { method: 'GET', url: '/v1/complaints' }), 'invalid_token');
    }
  });

  it('follows a key rotation: a token with the new key id verifies once the JWKS publishes it', async () => {
    const keyA2 = await signingKey('a-2');
    const before = await call(t.app, await tokenA({ key: keyA2 }), { method: 'GET', url: '/v1/complaints' });
    expectTokenRefused(before, 'invalid_token');
    const fetches = idpA.jwksFetches;
    idpA.published = [keyA2];
    const after = await call(t.app, await tokenA({ key: keyA2 }), { method: 'GET', url: '/v1/complaints' });
    expect(after.statusCode, after.body).toBe(200);
    expect(idpA.jwksFetches).toBe(fetches + 1);
    // The retired key is gone from the JWKS: its tokens no longer verify.
    expectTokenRefused(
      await call(t.app, await tokenA(), { method: 'GET', url: '/v1/complaints' }),
      'invalid_token',
    );
    keyA1 = keyA2;
  });

  it('grants the scopes the claims map to, and no more', async () => {
    const viewer = await tokenA({ claims: { roles: ['viewer', 'unmapped'] } });
    expect((await call(t.app, viewer, { method: 'GET', url: '/v1/complaints' })).statusCode).toBe(200);
    const write = await call(t.app, viewer, { method: 'POST', url: '/v1/complaints', json: complaintBody() });
    expect(write.statusCode).toBe(403);
    expect(write.json()).toMatchObject({ code: 'insufficient_scope', requiredScope: 'complaints:write' });
    const nobody = await tokenA({ claims: { roles: [] } });
    expect((await call(t.app, nobody, { method: 'GET', url: '/v1/complaints' })).statusCode).toBe(403);
    // Tenant B maps a space-separated `scope` claim.
    const partner = await token({
      key: keyB,
      issuer: issuerOf(idpB),
      audience: 'redress-b',
      claims: { scope: 'openid complaints.manage' },
    });
    const created = await call(t.app, partner, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(),
    });
    expect(created.statusCode, created.body).toBe(201);
  });

  it('shows a person the customer in clear only when a claim grants personal_data:read', async () => {
    const created = await call(t.app, tenantA.adminKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody({ customer: { name: 'Wang Fang', email: 'wangfang@example.com' } }),
    });
    expect(created.statusCode, created.body).toBe(201);
    const url = `/v1/complaints/${created.json().id}`;
    const viewer = await tokenA({ claims: { roles: ['viewer'] } });
    const masked = await call(t.app, viewer, { method: 'GET', url });
    expect(masked.json().customer).toMatchObject({ name: 'Wang F***', email: 'w***@example.com' });
    const trusted = await tokenA({ claims: { roles: ['viewer', 'customer-data'] } });
    const clear = await call(t.app, trusted, { method: 'GET', url });
    expect(clear.json().customer).toMatchObject({ name: 'Wang Fang', email: 'wangfang@example.com' });
  });

  it("keeps a tenant's complaints from another tenant's issuer: 404", async () => {
    const ours = await call(t.app, await tokenA(), {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(),
    });
    const theirToken = await token({
      key: keyB,
      issuer: issuerOf(idpB),
      audience: 'redress-b',
      claims: { scope: 'complaints.manage' },
    });
    const read = await call(t.app, theirToken, { method: 'GET', url: `/v1/complaints/${ours.json().id}` });
    expect(read.statusCode).toBe(404);
    expect(read.json().code).toBe('not_found');
    // Tenant A's issuer with tenant A's audience signed by tenant B's key: not A's key, refused.
    expectTokenRefused(
      await call(t.app, await tokenA({ key: keyB }), {
        method: 'GET',
        url: `/v1/complaints/${ours.json().id}`,
      }),
      'invalid_token',
    );
  });

  it('answers 503 service_unavailable when the JWKS cannot be fetched', async () => {
    const keyC = await signingKey('c-1');
    const idpC = await provider('tenant-c', [keyC]);
    const tenantC = await createTestTenant(t.tenancy);
    await registerProvider(tenantC, {
      name: 'Down',
      issuer: issuerOf(idpC),
      audience: 'redress-c',
      scopeMap: { read: ['complaints:read'] },
    });
    idpC.down = true;
    const res = await call(t.app, await token({ key: keyC, issuer: issuerOf(idpC), audience: 'redress-c' }), {
      method: 'GET',
      url: '/v1/complaints',
    });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'service_unavailable' });
    idpC.down = false;
    const back = await call(
      t.app,
      await token({ key: keyC, issuer: issuerOf(idpC), audience: 'redress-c', claims: { scope: 'read' } }),
      { method: 'GET', url: '/v1/complaints' },
    );
    expect(back.statusCode, back.body).toBe(200);
  });

  it('works over GraphQL with the same token and scopes', async () => {
    const created = await call(t.app, await tokenA(), {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(),
    });
    const answer = await postGraphql(
      t.app,
      await tokenA(),
      'query ($id: ID!) { complaint(id: $id) { id timeline(first: 1) { nodes { actor { type id name } } } } }',
      { id: created.json().id },
    );
    expect(answer.errors).toEqual([]);
    expect(answer.data.complaint.timeline.nodes[0].actor).toEqual({
      type: 'user',
      id: 'agent-0042',
      name: 'Ana Agent',
    });
    const viewer = await postGraphql(
      t.app,
      await tokenA({ claims: { roles: ['viewer'] } }),
      '{ identityProviders { id } }',
    );
    expect(viewer.errors[0]!.extensions).toMatchObject({ code: 'insufficient_scope' });
    const expired = await postGraphql(
      t.app,
      await tokenA({ expiresIn: -600 }),
      '{ identityProviders { id } }',
    );
    expect(expired.status).toBe(401);
  });
});

describe('X-On-Behalf-Of', () => {
  it('is refused from a person signed in with a token', async () => {
    const res = await call(t.app, await tokenA(), {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(),
      headers: { 'x-on-behalf-of': 'someone.else' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'on_behalf_of_not_allowed' });
  });

  it('needs actors:impersonate on an API key, and is recorded with it', async () => {
    const plain = await tenantA.keyWith('complaints:read', 'complaints:write');
    const refused = await call(t.app, plain, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(),
      headers: { 'x-on-behalf-of': 'zhang.wei' },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'insufficient_scope', requiredScope: 'actors:impersonate' });
    const without = await call(t.app, plain, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(),
    });
    expect(without.statusCode).toBe(201);

    const crm = await tenantA.keyWith('complaints:read', 'complaints:write', 'actors:impersonate');
    const allowed = await call(t.app, crm, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(),
      headers: { 'x-on-behalf-of': 'zhang.wei' },
    });
    expect(allowed.statusCode, allowed.body).toBe(201);
    expect(allowed.json().receivedBy).toBe('zhang.wei');
    const viaGraphql = await postGraphql(
      t.app,
      plain,
      'mutation ($input: ComplaintInput!) { createComplaint(input: $input) { id } }',
      { input: complaintBody() },
      { 'x-on-behalf-of': 'zhang.wei' },
    );
    expect(viaGraphql.status).toBe(403);
    expect(viaGraphql.errors[0]!.extensions).toMatchObject({ code: 'insufficient_scope' });
  });
});

describe('/v1/identity-providers', () => {
  it('lists, shows and removes a provider; its tokens stop working at once', async () => {
    const keyD = await signingKey('d-1');
    const idpD = await provider('tenant-d', [keyD]);
    const tenantD = await createTestTenant(t.tenancy);
    const created = await registerProvider(tenantD, {
      name: 'Temporary',
      issuer: issuerOf(idpD),
      audience: 'redress-d',
      scopeMap: { staff: ['complaints:read'] },
    });
    expect(created).toMatchObject({ scopeClaim: 'scope', nameClaim: 'name', jwksUri: null });
    const list = await call(t.app, tenantD.adminKey, { method: 'GET', url: '/v1/identity-providers' });
    expect(list.json().data.map((p: { id: string }) => p.id)).toEqual([created.id]);
    const other = await call(t.app, tenantA.adminKey, {
      method: 'GET',
      url: `/v1/identity-providers/${created.id}`,
    });
    expect(other.statusCode).toBe(404);
    const staffToken = await token({
      key: keyD,
      issuer: issuerOf(idpD),
      audience: 'redress-d',
      claims: { scope: 'staff' },
    });
    expect((await call(t.app, staffToken, { method: 'GET', url: '/v1/complaints' })).statusCode).toBe(200);
    const removed = await call(t.app, tenantD.adminKey, {
      method: 'DELETE',
      url: `/v1/identity-providers/${created.id}`,
    });
    expect(removed.statusCode).toBe(204);
    expectTokenRefused(
      await call(t.app, staffToken, { method: 'GET', url: '/v1/complaints' }),
      'invalid_token',
    );
  });

  it('refuses bad input with validation_failed, and an issuer and audience taken by another tenant with 409', async () => {
    const bad = await call(t.app, tenantB.adminKey, {
      method: 'POST',
      url: '/v1/identity-providers',
      json: { name: 'x', issuer: 'not a url', audience: 'a', scopeMap: { r: ['root'] } },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(
      bad
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort(),
    ).toEqual(['body.issuer', 'body.scopeMap.r.0']);
    const taken = await call(t.app, tenantB.adminKey, {
      method: 'POST',
      url: '/v1/identity-providers',
      json: { name: 'Hijack', issuer: issuerOf(idpA), audience: 'redress-a', scopeMap: { agent: ['admin'] } },
    });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe('identity_provider_exists');
  });

  it('takes only https issuers on public addresses unless OIDC_ALLOW_PRIVATE', async () => {
    // t.services is built with the defaults, as a production API is.
    await expect(
      t.services.identity.createProvider(tenantB.tenantId, {
        name: 'Local',
        issuer: issuerOf(idpB),
        audience: 'elsewhere',
        scopeClaim: 'scope',
        scopeMap: {},
        nameClaim: 'name',
      }),
    ).rejects.toMatchObject({
      code: 'validation_failed',
      errors: [{ field: 'body.issuer', message: 'must use https' }],
    });
    await expect(
      t.services.identity.createProvider(tenantB.tenantId, {
        name: 'Loopback',
        issuer: 'https://127.0.0.1/realms/staff',
        audience: 'elsewhere',
        scopeClaim: 'scope',
        scopeMap: {},
        nameClaim: 'name',
      }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('is managed over GraphQL too', async () => {
    const tenantE = await createTestTenant(t.tenancy);
    const created = await postGraphql(
      t.app,
      tenantE.adminKey,
      'mutation ($input: IdentityProviderInput!) { createIdentityProvider(input: $input) { id issuer scopeClaim } }',
      {
        input: {
          name: 'E',
          issuer: `${base}/tenant-e`,
          audience: 'redress-e',
          scopeMap: { r: ['complaints:read'] },
        },
      },
    );
    expect(created.errors).toEqual([]);
    expect(created.data.createIdentityProvider).toMatchObject({
      issuer: `${base}/tenant-e`,
      scopeClaim: 'scope',
    });
    const listed = await postGraphql(t.app, tenantE.adminKey, '{ identityProviders { id } }');
    expect(listed.data.identityProviders).toEqual([{ id: created.data.createIdentityProvider.id }]);
    const bad = await postGraphql(
      t.app,
      tenantE.adminKey,
      'mutation ($input: IdentityProviderInput!) { createIdentityProvider(input: $input) { id } }',
      { input: { name: 'E', issuer: 'ftp://x', audience: 'e', scopeMap: {} } },
    );
    expect(bad.errors[0]!.extensions).toMatchObject({ code: 'validation_failed' });
    const deleted = await postGraphql(
      t.app,
      tenantE.adminKey,
      'mutation ($id: ID!) { deleteIdentityProvider(id: $id) }',
      {
        id: created.data.createIdentityProvider.id,
      },
    );
    expect(deleted.data.deleteIdentityProvider).toBe(true);
  });
});
