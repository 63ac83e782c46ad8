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
