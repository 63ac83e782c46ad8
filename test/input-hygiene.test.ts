import { gzipSync } from 'node:zlib';
import type { LightMyRequestResponse } from 'fastify';
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

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTestTenant(t.tenancy);
});
afterAll(async () => {
  await t?.close();
});

/** JSON that nests `depth` arrays. */
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('values no column can store', () => {
  it('are refused as 400 naming the field, and nothing is written', async () => {
    const before = await t.database.pool.query(
      'select count(*)::int as n from complaints where tenant_id = $1',
      [tenant.tenantId],
    );
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['NUL in a string', { subject: 'Lift\u0000stopped' }, 'body.subject'],
      ['unpaired surrogate', { subject: 'Lift \ud800 stopped' }, 'body.subject'],
      ['NUL in a metadata key', { metadata: { 'room\u0000': '3-402' } }, 'body.metadata.room\u0000'],
      ['NUL in a tag', { tags: ['a\u0000b'] }, 'body.tags.0'],
      ['year 0', { receivedAt: '0000-01-01T00:00:00Z' }, 'body.receivedAt'],
      ['year 10000', { occurredAt: '+010000-01-01T00:00:00Z' }, 'body.occurredAt'],
    ];
    for (const [label, overrides, field] of cases) {
      const res = await call(t.app, tenant.adminKey, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody(overrides),
      });
      expect(res.statusCode, label).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().code, label).toBe('validation_failed');
      expect(
        res.json().errors.map((e: { field: string }) => e.field),
        label,
      ).toContain(field);
    }
    const deep = await t.app.inject({
      method: 'POST',
      url: '/v1/complaints',
      headers: { authorization: `Bearer ${tenant.adminKey}`, 'content-type': 'application/json' },
      payload: `${JSON.stringify(complaintBody()).slice(0, -1)},"metadata":{"x":${nested(5_000)}}}`,
    });
    expect(deep.statusCode).toBe(400);
    expect(deep.json().errors[0].message).toContain('must not nest deeper');
    const after = await t.database.pool.query(
      'select count(*)::int as n from complaints where tenant_id = $1',
      [tenant.tenantId],
    );
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('are refused in query strings and on every write', async () => {
    for (const url of [
      '/v1/complaints?q=a%00b',
      '/v1/complaints?category=a%00b',
      '/v1/deadlines?assignee=x%00',
    ]) {
      const res = await call(t.app, tenant.adminKey, { method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
    const complaint = (
      await call(t.app, tenant.adminKey, { method: 'POST', url: '/v1/complaints', json: complaintBody() })
    ).json();
    const writes = [
      {
        method: 'PATCH' as const,
        url: `/v1/complaints/${complaint.id}`,
        json: { subject: 'a\u0000' },
        headers: { 'if-match': '"1"' },
      },
      {
        method: 'POST' as const,
        url: `/v1/complaints/${complaint.id}/communications`,
        json: { direction: 'inbound', channel: 'phone', body: 'x\u0000', contactMade: true },
      },
      {
        method: 'POST' as const,
        url: '/v1/calendars',
        json: { name: 'x\ud800', timeZone: 'UTC', weeklyHours: {} },
      },
      { method: 'POST' as const, url: '/v1/sla-policies', json: { name: 'p\u0000', priority: 1 } },
    ];
    for (const write of writes) {
      const res = await call(t.app, tenant.adminKey, write);
      expect(res.statusCode, write.url).toBe(400);
    }
    expect(
      (await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}` })).json()
        .subject,
    ).toBe(complaint.subject);
  });
});

/** How many complaints a tenant has: what a refused request must leave as it was. */
async function complaintCount(tenantId: string): Promise<number> {
  const { rows } = await t.database.pool.query<{ n: number }>(
    'select count(*)::int as n from complaints where tenant_id = $1',
    [tenantId],
  );
  return rows[0]!.n;
}

/** A JSON body as bytes, with `bytes` put where `marker` stands in its text. */
function jsonWithBytes(value: unknown, marker: string, bytes: number[]): Buffer {
  const [before, after] = JSON.stringify(value).split(marker);
  return Buffer.concat([Buffer.from(before!), Buffer.from(bytes), Buffer.from(after!)]);
}

const CREATE_COMPLAINT = /* GraphQL */ `mutation ($input: ComplaintInput!) {
  createComplaint(input: $input) { id subject }
}`;

function expectUnsupportedEncoding(res: LightMyRequestResponse, label: string) {
  expect(res.statusCode, `${label}: ${res.body}`).toBe(415);
  expect(res.headers['content-type'], label).toContain('application/problem+json');
  expect(res.json(), label).toMatchObject({ status: 415, code: 'unsupported_content_encoding' });
  expect(res.headers['accept-encoding'], label).toBe('identity');
}

describe('request bodies in a content coding', () => {
  it('are refused with 415 and Accept-Encoding: identity, before anything is written', async () => {
    const own = await createTestTenant(t.tenancy);
    const before = await complaintCount(own.tenantId);
    const plain = JSON.stringify(complaintBody());
    const cases: Array<[string, string, string | Buffer]> = [
      ['gzip label on plain JSON', 'gzip', plain],
      ['a real gzip body', 'gzip', gzipSync(plain)],
      ['upper case', 'GZIP', gzipSync(plain)],
      ['a list ending in identity', 'gzip, identity', gzipSync(plain)],
      ['a list starting with identity', 'identity, br', plain],
      ['deflate', 'deflate', plain],
    ];
    for (const [label, contentEncoding, payload] of cases) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/complaints',
        headers: {
          authorization: `Bearer ${own.adminKey}`,
          'content-type': 'application/json',
          'content-encoding': contentEncoding,
          // The refusal comes before the key is claimed, so the caller can retry with it.
          'idempotency-key': 'coded-body',
        },
        payload,
      });
      expectUnsupportedEncoding(res, label);
    }
    expect(await complaintCount(own.tenantId)).toBe(before);

    const retried = await call(t.app, own.adminKey, {
      method: 'POST',
      url: '/v1/complaints',
      headers: { 'idempotency-key': 'coded-body' },
      json: JSON.parse(plain),
    });
    expect(retried.statusCode, retried.body).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
  });

  it('is no refusal when the coding is identity, or when there is no body to code', async () => {
    const own = await createTestTenant(t.tenancy);
    for (const contentEncoding of ['identity', 'Identity']) {
      const res = await call(t.app, own.adminKey, {
        method: 'POST',
        url: '/v1/complaints',
        headers: { 'content-encoding': contentEncoding },
        json: complaintBody(),
      });
      expect(res.statusCode, `${contentEncoding}: ${res.body}`).toBe(201);
    }
    // The header describes a body; a request without one has nothing coded, and is answered.
    const list = await call(t.app, own.adminKey, {
      method: 'GET',
      url: '/v1/complaints',
      headers: { 'content-encoding': 'gzip' },
    });
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().data).toHaveLength(2);
  });

  it('are refused on merge-patch PATCHes and on POST /graphql', async () => {
    const own = await createTestTenant(t.tenancy);
    const complaint = (
      await call(t.app, own.adminKey, { method: 'POST', url: '/v1/complaints', json: complaintBody() })
    ).json();
    const patch = await t.app.inject({
      method: 'PATCH',
      url: `/v1/complaints/${complaint.id}`,
      headers: {
        authorization: `Bearer ${own.adminKey}`,
        'content-type': 'application/merge-patch+json',
        'content-encoding': 'gzip',
        'if-match': '"1"',
      },
      payload: gzipSync(JSON.stringify({ subject: 'Edited' })),
    });
    expectUnsupportedEncoding(patch, 'merge-patch');
    const read = await call(t.app, own.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}` });
    expect(read.json()).toMatchObject({ subject: complaint.subject, version: 1 });

    const graphql = await t.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: {
        authorization: `Bearer ${own.adminKey}`,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      payload: gzipSync(JSON.stringify({ query: CREATE_COMPLAINT, variables: { input: complaintBody() } })),
    });
    // GraphQL answers in its own shape, with REST's code and status in `extensions`.
    expect(graphql.statusCode, graphql.body).toBe(415);
    expect(graphql.headers['accept-encoding']).toBe('identity');
    expect(graphql.json()).toMatchObject({
      data: null,
      errors: [{ extensions: { code: 'unsupported_content_encoding', status: 415 } }],
    });
    expect(await complaintCount(own.tenantId)).toBe(1);
  });
});

describe('request bodies that are not UTF-8', () => {
  /** Byte sequences a strict UTF-8 decoder refuses, which a lenient one turns into U+FFFD. */
  const invalid: Array<[string, number[]]> = [
    ['a lead byte without its continuation (C3 28)', [0xc3, 0x28]],
    ['a byte UTF-8 never uses (FF)', [0xff]],
    ['a UTF-16 surrogate encoded in UTF-8 (ED A0 80)', [0xed, 0xa0, 0x80]],
    ['an overlong encoding of "/" (C0 AF)', [0xc0, 0xaf]],
    ['a truncated four-byte sequence (F0 9F 98)', [0xf0, 0x9f, 0x98]],
  ];

  it('are refused as 400 naming the body, and nothing is written; Chinese text is taken', async () => {
    const own = await createTestTenant(t.tenancy);
    const before = await complaintCount(own.tenantId);
    const bodies: Array<[string, Buffer]> = invalid.map(([label, bytes]) => [
      label,
      jsonWithBytes(complaintBody({ subject: 'Lift @@ stopped' }), '@@', bytes),
    ]);
    for (const [label, payload] of bodies) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/complaints',
        headers: { authorization: `Bearer ${own.adminKey}`, 'content-type': 'application/json' },
        payload,
      });
      expect(res.statusCode, `${label}: ${res.body}`).toBe(400);
      expect(res.headers['content-type'], label).toContain('application/problem+json');
      expect(res.json(), label).toMatchObject({ code: 'validation_failed', errors: [{ field: 'body' }] });
    }
    expect(await complaintCount(own.tenantId)).toBe(before);

    const chinese = await t.app.inject({
      method: 'POST',
      url: '/v1/complaints',
      headers: { authorization: `Bearer ${own.adminKey}`, 'content-type': 'application/json; charset=utf-8' },
      payload: Buffer.from(JSON.stringify(complaintBody({ subject: '电梯困人 30 分钟 😡' })), 'utf8'),
    });
    expect(chinese.statusCode, chinese.body).toBe(201);
    expect(chinese.json().subject).toBe('电梯困人 30 分钟 😡');

    // A leading byte order mark is UTF-8 and ignored (RFC 8259 §8.1 allows it): .NET sends one.
    const withMark = await t.app.inject({
      method: 'POST',
      url: '/v1/complaints',
      headers: { authorization: `Bearer ${own.adminKey}`, 'content-type': 'application/json' },
      payload: Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from(JSON.stringify(complaintBody({ subject: '标记' }))),
      ]),
    });
    expect(withMark.statusCode, withMark.body).toBe(201);
    expect(withMark.json().subject).toBe('标记');
  });

  it('are refused on merge-patch PATCHes and on POST /graphql', async () => {
    const own = await createTestTenant(t.tenancy);
    const complaint = (
      await call(t.app, own.adminKey, { method: 'POST', url: '/v1/complaints', json: complaintBody() })
    ).json();
    for (const [label, bytes] of invalid) {
      const patch = await t.app.inject({
        method: 'PATCH',
        url: `/v1/complaints/${complaint.id}`,
        headers: {
          authorization: `Bearer ${own.adminKey}`,
          'content-type': 'application/merge-patch+json',
          'if-match': '"1"',
        },
        payload: jsonWithBytes({ subject: 'Edited @@' }, '@@', bytes),
      });
      expect(patch.statusCode, `${label}: ${patch.body}`).toBe(400);
      expect(patch.json(), label).toMatchObject({ code: 'validation_failed', errors: [{ field: 'body' }] });

      const graphql = await t.app.inject({
        method: 'POST',
        url: '/graphql',
        headers: { authorization: `Bearer ${own.adminKey}`, 'content-type': 'application/json' },
        payload: jsonWithBytes(
          { query: CREATE_COMPLAINT, variables: { input: complaintBody({ subject: 'Lift @@' }) } },
          '@@',
          bytes,
        ),
      });
      expect(graphql.statusCode, `${label}: ${graphql.body}`).toBe(400);
      expect(graphql.json().errors[0].extensions, label).toMatchObject({ code: 'validation_failed' });
    }
    const read = await call(t.app, own.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}` });
    expect(read.json()).toMatchObject({ subject: complaint.subject, version: 1 });
    expect(await complaintCount(own.tenantId)).toBe(1);

    const chinese = await t.app.inject({
      method: 'PATCH',
      url: `/v1/complaints/${complaint.id}`,
      headers: {
        authorization: `Bearer ${own.adminKey}`,
        'content-type': 'application/merge-patch+json',
        'if-match': '"1"',
      },
      payload: Buffer.from(JSON.stringify({ subject: '电梯又坏了' }), 'utf8'),
    });
    expect(chinese.statusCode, chinese.body).toBe(200);
    expect(chinese.json().subject).toBe('电梯又坏了');
  });
});
