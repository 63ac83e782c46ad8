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
let readKey: string;
let writeKey: string;

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTestTenant(t.tenancy);
  other = await createTestTenant(t.tenancy);
  // Both see the customer in clear (personal-data.test.ts reads complaints without that).
  readKey = await tenant.keyWith('complaints:read', 'personal_data:read');
  // A CRM's key: it names the agent it acts for in X-On-Behalf-Of.
  writeKey = await tenant.keyWith(
    'complaints:read',
    'complaints:write',
    'actors:impersonate',
    'personal_data:read',
  );
});
afterAll(() => t.close());

async function createComplaint(overrides: Record<string, unknown> = {}, key = writeKey) {
  const res = await call(t.app, key, {
    method: 'POST',
    url: '/v1/complaints',
    json: complaintBody(overrides),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

describe('POST /v1/complaints', () => {
  it('creates a complaint with a reference, Location and ETag', async () => {
    const res = await call(t.app, writeKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody({ metadata: { roomNumber: '3-402' }, tags: ['lift'], severity: 'major' }),
      headers: { 'x-on-behalf-of': 'zhang.wei' },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.reference).toMatch(/^C-\d{6}$/);
    expect(res.headers.location).toBe(`/v1/complaints/${body.id}`);
    expect(res.headers.etag).toBe('"1"');
    expect(body).toMatchObject({
      status: 'received',
      channel: 'web',
      severity: 'major',
      priority: 'normal',
      receivedBy: 'zhang.wei',
      assignee: 'zhang.wei',
      // A major complaint is reported up to the department manager at intake.
      escalationLevel: 2,
      tags: ['lift'],
      metadata: { roomNumber: '3-402' },
      customer: {
        name: 'Wang Fang',
        phone: '+86 138 0013 8000',
        email: 'wang.fang@example.com',
        address: null,
      },
      version: 1,
    });
    expect(new Date(body.receivedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('numbers references per tenant, consecutively', async () => {
    const fresh = await createTestTenant(t.tenancy);
    const first = await createComplaint({}, fresh.adminKey);
    const second = await createComplaint({}, fresh.adminKey);
    expect(first.reference).toBe('C-000001');
    expect(second.reference).toBe('C-000002');
  });

  it('refuses a repeated externalRef with 409 naming the existing complaint, per tenant', async () => {
    const first = await createComplaint({ externalRef: 'crm-42' });
    const res = await call(t.app, writeKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody({ externalRef: 'crm-42' }),
    });
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({
      code: 'external_ref_conflict',
      existingComplaint: { id: first.id, reference: first.reference },
    });
    expect(res.json().detail).toContain(first.reference);
    // Another tenant may use the same externalRef.
    await createComplaint({ externalRef: 'crm-42' }, other.adminKey);
  });

  it.each([
    ['unknown channel', { channel: 'pigeon' }, 'body.channel'],
    ['empty subject', { subject: '' }, 'body.subject'],
    ['oversize subject', { subject: 'x'.repeat(201) }, 'body.subject'],
    ['bad email', { customer: { email: 'not-an-email' } }, 'body.customer.email'],
    ['bad phone', { customer: { phone: 'call me' } }, 'body.customer.phone'],
    ['wrong type', { description: 42 }, 'body.description'],
    ['unknown field', { colour: 'red' }, 'body'],
    ['bad date', { occurredAt: 'yesterday' }, 'body.occurredAt'],
    ['future receivedAt', { receivedAt: new Date(Date.now() + 86_400_000).toISOString() }, 'body.receivedAt'],
    ['oversize metadata', { metadata: { blob: 'x'.repeat(17_000) } }, 'body.metadata'],
    ['repeated tags', { tags: ['a', 'a'] }, 'body.tags'],
    ['unknown severity', { severity: 'apocalyptic' }, 'body.severity'],
  ])('refuses %s with 400 naming the field, writing nothing', async (_label, overrides, field) => {
    const before = await t.database.pool.query(
      'select count(*)::int as n from complaints where tenant_id = $1',
      [tenant.tenantId],
    );
    const res = await call(t.app, writeKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(overrides),
    });
    expect(res.statusCode).toBe(400);
    const problem = res.json();
    expect(problem).toMatchObject({ status: 400, code: 'validation_failed', title: expect.any(String) });
    expect(problem.type).toMatch(/validation_failed$/);
    expect(problem.requestId).toBe(res.headers['x-request-id']);
    // One problem, once: a value that is wrong in one way is not reported twice.
    expect(problem.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    const after = await t.database.pool.query(
      'select count(*)::int as n from complaints where tenant_id = $1',
      [tenant.tenantId],
    );
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('refuses malformed JSON, a wrong content type and an oversize body with 4xx problems', async () => {
    const malformed = await t.app.inject({
      method: 'POST',
      url: '/v1/complaints',
      headers: { authorization: `Bearer ${writeKey}`, 'content-type': 'application/json' },
      payload: '{"channel": "web",',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('malformed_json');

    const wrongType = await t.app.inject({
      method: 'POST',
      url: '/v1/complaints',
      headers: { authorization: `Bearer ${writeKey}`, 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(wrongType.statusCode).toBe(415);
    expect(wrongType.json().code).toBe('unsupported_media_type');

    const huge = await call(t.app, writeKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody({ description: 'x'.repeat(300_000) }),
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().code).toBe('payload_too_large');

    const protoPollution = await t.app.inject({
      method: 'POST',
      url: '/v1/complaints',
      headers: { authorization: `Bearer ${writeKey}`, 'content-type': 'application/json' },
      payload: '{"__proto__": {"admin": true}}',
    });
    expect(protoPollution.statusCode).toBe(400);
  });

  it('needs a key with complaints:write', async () => {
    const noKey = await call(t.app, null, { method: 'POST', url: '/v1/complaints', json: complaintBody() });
    expect(noKey.statusCode).toBe(401);
    expect(noKey.json().code).toBe('unauthenticated');
    expect(noKey.headers['www-authenticate']).toContain('Bearer');
    const readOnly = await call(t.app, readKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(),
    });
    expect(readOnly.statusCode).toBe(403);
    expect(readOnly.json()).toMatchObject({ code: 'insufficient_scope', requiredScope: 'complaints:write' });
  });
});

describe('GET /v1/complaints/{id}', () => {
  it('finds a complaint by id and by reference, with its ETag', async () => {
    const created = await createComplaint();
    const byId = await call(t.app, readKey, { method: 'GET', url: `/v1/complaints/${created.id}` });
    expect(byId.statusCode).toBe(200);
    expect(byId.json()).toEqual(created);
    expect(byId.headers.etag).toBe('"1"');
    const byReference = await call(t.app, readKey, {
      method: 'GET',
      url: `/v1/complaints/${created.reference}`,
    });
    expect(byReference.json().id).toBe(created.id);
  });

  it('answers 400 for an id that is neither a UUID nor a reference, 404 for an unknown one', async () => {
    const bad = await call(t.app, readKey, { method: 'GET', url: '/v1/complaints/not-a-uuid' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('params.id');
    const unknown = await call(t.app, readKey, {
      method: 'GET',
      url: '/v1/complaints/00000000-0000-4000-8000-000000000000',
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({
      code: 'not_found',
      detail: "Complaint '00000000-0000-4000-8000-000000000000' not found.",
    });
  });

  it("answers 404 for another tenant's complaint, by id and by reference", async () => {
    const theirs = await createComplaint({}, other.adminKey);
    for (const key of [theirs.id, theirs.reference]) {
      const res = await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${key}` });
      if (key === theirs.reference) {
        // Our own tenant may have the same reference number; it must then be our complaint, not theirs.
        expect(res.statusCode === 404 || res.json().id !== theirs.id).toBe(true);
      } else {
        expect(res.statusCode).toBe(404);
        expect(res.json().code).toBe('not_found');
      }
    }
  });

  it('answers each tenant with its own complaint when several ask for the same reference at once', async () => {
    // New tenants, so each has a C-000001 and a C-000002: reads asked for together may go in one
    // statement, and each must still find only its own tenant's complaints.
    const tenants = [await createTestTenant(t.tenancy), await createTestTenant(t.tenancy)];
    const own = new Map<string, Array<{ id: string; reference: string }>>();
    for (const owner of tenants)
      own.set(owner.tenantId, [
        await createComplaint({}, owner.adminKey),
        await createComplaint({}, owner.adminKey),
      ]);
    const [first, second] = tenants as [TestTenant, TestTenant];
    // Each asks for its own complaints by reference and by id, and the first asks for the second's
    // ids too, which it must not find, in among them.
    const asks = Array.from({ length: 4 }, () => [
      ...tenants.flatMap((owner) =>
        own.get(owner.tenantId)!.flatMap((complaint) => [
          { asker: owner, key: complaint.reference, found: complaint.id },
          { asker: owner, key: complaint.id, found: complaint.id },
        ]),
      ),
      ...own.get(second.tenantId)!.map((theirs) => ({ asker: first, key: theirs.id, found: null })),
    ]).flat();
    const answers = await Promise.all(
      asks.map(({ asker, key }) =>
        call(t.app, asker.adminKey, { method: 'GET', url: `/v1/complaints/${key}` }),
      ),
    );
    for (const [i, res] of answers.entries()) {
      const { found } = asks[i]!;
      expect(res.statusCode, res.body).toBe(found ? 200 : 404);
      if (found) expect(res.json().id).toBe(found);
    }
  });

  it('needs a key with complaints:read', async () => {
    const created = await createComplaint();
    const policiesOnly = await tenant.keyWith('policies:manage');
    expect((await call(t.app, null, { method: 'GET', url: `/v1/complaints/${created.id}` })).statusCode).toBe(
      401,
    );
    expect(
      (await call(t.app, policiesOnly, { method: 'GET', url: `/v1/complaints/${created.id}` })).statusCode,
    ).toBe(403);
  });
});

describe('GET /v1/complaints', () => {
  it('finds one- and two-character searches in subject, description and customer name, any case', async () => {
    const own = await createTestTenant(t.tenancy);
    const bySubject = await createComplaint(
      { subject: '宽带断网三天', description: 'Line down since Monday.' },
      own.adminKey,
    );
    const byDescription = await createComplaint(
      { subject: 'Refund', description: '申请退款,已等两周', customer: { name: 'Li Lei' } },
      own.adminKey,
    );
    const byName = await createComplaint(
      {
        subject: '5G signal',
        description: 'No 5G at home.',
        customer: { name: '王芳', phone: '+86 139 0000 0001' },
      },
      own.adminKey,
    );
    await createComplaint(
      { subject: 'Other', description: 'Nothing to find.', customer: { name: 'Zhao Min' } },
      own.adminKey,
    );
    const found = async (q: string) => {
      const res = await call(t.app, own.adminKey, {
        method: 'GET',
        url: `/v1/complaints?limit=100&q=${encodeURIComponent(q)}`,
      });
      expect(res.statusCode, res.body).toBe(200);
      return res
        .json()
        .data.map((complaint: { id: string }) => complaint.id)
        .sort();
    };
    expect(await found('断网')).toEqual([bySubject.id]);
    expect(await found('退款')).toEqual([byDescription.id]);
    expect(await found('王')).toEqual([byName.id]);
    expect(await found('王芳')).toEqual([byName.id]);
    // Case-insensitive like longer searches, and the characters must be adjacent and in order.
    expect(await found('5g')).toEqual([byName.id]);
    expect(await found('芳王')).toEqual([]);
    expect(await found('网断')).toEqual([]);
    // LIKE's wildcards are searched for as themselves.
    expect(await found('%')).toEqual([]);
    expect(await found('_')).toEqual([]);
  });

  it('filters, searches and pages without repeats or gaps, stable under concurrent inserts', async () => {
    const own = await createTestTenant(t.tenancy);
    const base = Date.now() - 3_600_000;
    const created = [];
    for (let i = 0; i < 7; i += 1) {
      created.push(
        await createComplaint(
          {
            receivedAt: new Date(base + i * 1000).toISOString(),
            channel: i % 2 === 0 ? 'phone' : 'web',
            subject: i === 3 ? '电梯困人 50% 故障' : `Complaint ${i}`,
          },
          own.adminKey,
        ),
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/complaints?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await call(t.app, own.adminKey, { method: 'GET', url });
      expect(res.statusCode).toBe(200);
      const page = res.json();
      seen.push(...page.data.map((c: { id: string }) => c.id));
      cursor = page.nextCursor;
      pages += 1;
      // A complaint arriving mid-way (received now, so newest) must not shift later pages.
      if (pages === 1) await createComplaint({}, own.adminKey);
    } while (cursor);
    expect(seen).toEqual(created.map((c) => c.id).reverse());
    expect(pages).toBe(3);

    const phone = await call(t.app, own.adminKey, {
      method: 'GET',
      url: '/v1/complaints?channel=phone&limit=100',
    });
    expect(phone.json().data).toHaveLength(4);
    const search = await call(t.app, own.adminKey, {
      method: 'GET',
      url: `/v1/complaints?q=${encodeURIComponent('困人 50%')}`,
    });
    expect(search.json().data.map((c: { id: string }) => c.id)).toEqual([created[3].id]);
    const byCustomer = await call(t.app, own.adminKey, {
      method: 'GET',
      url: '/v1/complaints?q=wang%20fang&limit=100',
    });
    expect(byCustomer.json().data).toHaveLength(8);
    const window = await call(t.app, own.adminKey, {
      method: 'GET',
      url: `/v1/complaints?receivedFrom=${new Date(base + 2000).toISOString()}&receivedTo=${new Date(base + 4000).toISOString()}`,
    });
    expect(window.json().data.map((c: { id: string }) => c.id)).toEqual([created[3].id, created[2].id]);
    const statusFilter = await call(t.app, own.adminKey, {
      method: 'GET',
      url: '/v1/complaints?status=closed',
    });
    expect(statusFilter.json()).toEqual({ data: [], nextCursor: null });
  });

  it('refuses bad filters and cursors with 400', async () => {
    for (const query of [
      'limit=0',
      'limit=101',
      'status=lost',
      'channel=web,pigeon',
      'receivedFrom=monday',
      'sort=x',
    ]) {
      const res = await call(t.app, readKey, { method: 'GET', url: `/v1/complaints?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
    for (const cursor of [
      'garbage',
      Buffer.from('["x","y"]').toString('base64url'),
      Buffer.from('{}').toString('base64url'),
    ]) {
      const res = await call(t.app, readKey, { method: 'GET', url: `/v1/complaints?cursor=${cursor}` });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('invalid_cursor');
    }
  });

  it("never lists another tenant's complaints", async () => {
    const theirs = await createComplaint({ subject: 'Only for the other tenant' }, other.adminKey);
    const res = await call(t.app, readKey, {
      method: 'GET',
      url: '/v1/complaints?q=Only%20for%20the%20other&limit=100',
    });
    expect(res.json().data.map((c: { id: string }) => c.id)).not.toContain(theirs.id);
    expect((await call(t.app, null, { method: 'GET', url: '/v1/complaints' })).statusCode).toBe(401);
    const webhooksOnly = await tenant.keyWith('webhooks:manage');
    expect((await call(t.app, webhooksOnly, { method: 'GET', url: '/v1/complaints' })).statusCode).toBe(403);
  });
});

describe('PATCH /v1/complaints/{id}', () => {
  it('changes the fields sent, bumps the version and records before/after', async () => {
    const created = await createComplaint();
    const res = await call(t.app, writeKey, {
      method: 'PATCH',
      url: `/v1/complaints/${created.reference}`,
      headers: { 'if-match': '"1"' },
      json: { priority: 'urgent', customer: { email: null, address: 'Building 3' }, category: null },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe('"2"');
    expect(res.json()).toMatchObject({
      priority: 'urgent',
      category: null,
      version: 2,
      customer: { name: 'Wang Fang', email: null, address: 'Building 3' },
    });
    const timeline = await call(t.app, readKey, {
      method: 'GET',
      url: `/v1/complaints/${created.id}/timeline`,
    });
    const update = timeline.json().data.find((e: { type: string }) => e.type === 'complaint.updated');
    expect(update.changes).toEqual(
      expect.arrayContaining([
        { field: 'priority', before: 'normal', after: 'urgent' },
        { field: 'customer.email', before: 'wang.fang@example.com', after: null },
        { field: 'customer.address', before: null, after: 'Building 3' },
        { field: 'category', before: 'facilities', after: null },
      ]),
    );
  });

  it('needs If-Match (428) and refuses a stale one (412)', async () => {
    const created = await createComplaint();
    const missing = await call(t.app, writeKey, {
      method: 'PATCH',
      url: `/v1/complaints/${created.id}`,
      json: { priority: 'high' },
    });
    expect(missing.statusCode).toBe(428);
    expect(missing.json().code).toBe('precondition_required');
    const stale = await call(t.app, writeKey, {
      method: 'PATCH',
      url: `/v1/complaints/${created.id}`,
      headers: { 'if-match': '"7"' },
      json: { priority: 'high' },
    });
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ code: 'precondition_failed', currentEtag: '"1"' });
  });

  it('lets exactly one of many concurrent PATCHes with the same ETag succeed', async () => {
    const created = await createComplaint();
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call(t.app, writeKey, {
          method: 'PATCH',
          url: `/v1/complaints/${created.id}`,
          headers: { 'if-match': '"1"' },
          json: { subject: `Edit ${i}` },
        }),
      ),
    );
    const statuses = attempts.map((r) => r.statusCode).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(7);
    const now = await call(t.app, readKey, { method: 'GET', url: `/v1/complaints/${created.id}` });
    expect(now.json().version).toBe(2);
  });

  it('refuses read-only or unknown fields and empty patches', async () => {
    const created = await createComplaint();
    for (const json of [
      { status: 'closed' },
      { reference: 'C-1' },
      {},
      { channel: 'phone' },
      { priority: 'sky-high' },
    ]) {
      const res = await call(t.app, writeKey, {
        method: 'PATCH',
        url: `/v1/complaints/${created.id}`,
        headers: { 'if-match': '"1"' },
        json,
      });
      expect(res.statusCode, JSON.stringify(json)).toBe(400);
    }
  });

  it('accepts application/merge-patch+json', async () => {
    const created = await createComplaint();
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/v1/complaints/${created.id}`,
      headers: {
        authorization: `Bearer ${writeKey}`,
        'content-type': 'application/merge-patch+json',
        'if-match': '"1"',
      },
      payload: JSON.stringify({ tags: ['vip'] }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().tags).toEqual(['vip']);
  });

  it("is 404 for another tenant's complaint and needs complaints:write", async () => {
    const theirs = await createComplaint({}, other.adminKey);
    const res = await call(t.app, writeKey, {
      method: 'PATCH',
      url: `/v1/complaints/${theirs.id}`,
      headers: { 'if-match': '"1"' },
      json: { priority: 'low' },
    });
    expect(res.statusCode).toBe(404);
    const own = await createComplaint();
    const readOnly = await call(t.app, readKey, {
      method: 'PATCH',
      url: `/v1/complaints/${own.id}`,
      headers: { 'if-match': '"1"' },
      json: { priority: 'low' },
    });
    expect(readOnly.statusCode).toBe(403);
    expect(
      (
        await call(t.app, null, {
          method: 'PATCH',
          url: `/v1/complaints/${own.id}`,
          json: { priority: 'low' },
        })
      ).statusCode,
    ).toBe(401);
    const after = await call(t.app, other.adminKey, { method: 'GET', url: `/v1/complaints/${theirs.id}` });
    expect(after.json().priority).toBe('normal');
  });
});

describe('POST /v1/complaints/{id}/transitions', () => {
  const move = (id: string, to: string, reason?: string) =>
    call(t.app, writeKey, { method: 'POST', url: `/v1/complaints/${id}/transitions`, json: { to, reason } });

  it('walks the life cycle, including a reopen', async () => {
    const c = await createComplaint();
    for (const to of [
      'acknowledged',
      'investigating',
      'awaiting_customer',
      'investigating',
      'resolved',
      'closed',
    ]) {
      const res = await move(c.id, to);
      expect(res.statusCode, to).toBe(200);
      expect(res.json().status).toBe(to);
    }
    const reopened = await move(c.id, 'investigating', 'Customer unsatisfied with the repair');
    expect(reopened.json()).toMatchObject({ status: 'investigating', version: 8 });
    const timeline = await call(t.app, readKey, { method: 'GET', url: `/v1/complaints/${c.id}/timeline` });
    const last = timeline.json().data.at(-1);
    expect(last).toMatchObject({
      type: 'complaint.status_changed',
      data: {
        from: 'closed',
        to: 'investigating',
        reopened: true,
        reason: 'Customer unsatisfied with the repair',
      },
    });
  });

  it('refuses an illegal move with 409 naming the current and allowed statuses', async () => {
    const c = await createComplaint();
    const res = await move(c.id, 'resolved');
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({
      code: 'invalid_transition',
      currentStatus: 'received',
      allowedTransitions: ['acknowledged', 'rejected', 'withdrawn'],
    });
    const final = await createComplaint();
    await move(final.id, 'withdrawn', 'Customer withdrew');
    const after = await move(final.id, 'acknowledged');
    expect(after.statusCode).toBe(409);
    expect(after.json().allowedTransitions).toEqual([]);
  });

  it('requires a reason to reject, withdraw or reopen, and refuses unknown statuses', async () => {
    const c = await createComplaint();
    const noReason = await move(c.id, 'rejected');
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().errors[0].field).toBe('body.reason');
    const unknown = await move(c.id, 'teleported');
    expect(unknown.statusCode).toBe(400);
    const unchanged = await call(t.app, readKey, { method: 'GET', url: `/v1/complaints/${c.id}` });
    expect(unchanged.json()).toMatchObject({ status: 'received', version: 1 });
  });

  it("is 404 for another tenant's complaint and needs complaints:write", async () => {
    const theirs = await createComplaint({}, other.adminKey);
    expect((await move(theirs.id, 'acknowledged')).statusCode).toBe(404);
    const own = await createComplaint();
    const readOnly = await call(t.app, readKey, {
      method: 'POST',
      url: `/v1/complaints/${own.id}/transitions`,
      json: { to: 'acknowledged' },
    });
    expect(readOnly.statusCode).toBe(403);
    const noKey = await call(t.app, null, {
      method: 'POST',
      url: `/v1/complaints/${own.id}/transitions`,
      json: { to: 'acknowledged' },
    });
    expect(noKey.statusCode).toBe(401);
  });
});

describe('communications and timeline', () => {
  it('records contact with the customer on the timeline, in order, with the actor', async () => {
    const c = await createComplaint();
    const res = await call(t.app, writeKey, {
      method: 'POST',
      url: `/v1/complaints/${c.id}/communications`,
      headers: { 'x-on-behalf-of': 'li.na' },
      json: { direction: 'outbound', channel: 'phone', body: '已致电客户确认收到投诉', contactMade: true },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      complaintId: c.id,
      direction: 'outbound',
      contactMade: true,
      recordedBy: {
        type: 'api_key',
        name: 'key complaints:read complaints:write actors:impersonate personal_data:read',
        onBehalfOf: 'li.na',
      },
    });
    await call(t.app, writeKey, {
      method: 'POST',
      url: `/v1/complaints/${c.id}/transitions`,
      json: { to: 'acknowledged' },
    });

    const timeline = await call(t.app, readKey, {
      method: 'GET',
      url: `/v1/complaints/${c.id}/timeline?limit=2`,
    });
    expect(timeline.statusCode).toBe(200);
    const page1 = timeline.json();
    expect(page1.data.map((e: { type: string }) => e.type)).toEqual([
      'complaint.created',
      'communication.recorded',
    ]);
    expect(page1.data[1].actor.onBehalfOf).toBe('li.na');
    expect(page1.data[1].data).toMatchObject({
      communicationId: res.json().id,
      body: '已致电客户确认收到投诉',
    });
    const page2 = await call(t.app, readKey, {
      method: 'GET',
      url: `/v1/complaints/${c.id}/timeline?limit=2&cursor=${page1.nextCursor}`,
    });
    // The call made contact: it meets the first contact and the web complaint's online reply.
    expect(page2.json().data.map((e: { type: string }) => e.type)).toEqual(['deadline.met', 'deadline.met']);
    const page3 = await call(t.app, readKey, {
      method: 'GET',
      url: `/v1/complaints/${c.id}/timeline?limit=2&cursor=${page2.json().nextCursor}`,
    });
    expect(page3.json().data.map((e: { type: string }) => e.type)).toEqual(['complaint.status_changed']);
    expect(page3.json().nextCursor).toBeNull();
  });

  it('refuses a bad communication and writes nothing', async () => {
    const c = await createComplaint();
    for (const json of [
      { direction: 'sideways', channel: 'phone', body: 'x', contactMade: true },
      { direction: 'inbound', channel: 'phone', body: '', contactMade: true },
      { direction: 'inbound', channel: 'phone', body: 'x' },
      { direction: 'inbound', channel: 'phone', body: 'x', contactMade: 'yes' },
    ]) {
      const res = await call(t.app, writeKey, {
        method: 'POST',
        url: `/v1/complaints/${c.id}/communications`,
        json,
      });
      expect(res.statusCode).toBe(400);
    }
    const timeline = await call(t.app, readKey, { method: 'GET', url: `/v1/complaints/${c.id}/timeline` });
    expect(timeline.json().data).toHaveLength(1);
    const badCursor = await call(t.app, readKey, {
      method: 'GET',
      url: `/v1/complaints/${c.id}/timeline?cursor=abc`,
    });
    expect(badCursor.statusCode).toBe(400);
  });

  it('keeps other tenants out and needs the right scopes', async () => {
    const theirs = await createComplaint({}, other.adminKey);
    const write = await call(t.app, writeKey, {
      method: 'POST',
      url: `/v1/complaints/${theirs.id}/communications`,
      json: { direction: 'inbound', channel: 'phone', body: 'x', contactMade: true },
    });
    expect(write.statusCode).toBe(404);
    expect(
      (await call(t.app, readKey, { method: 'GET', url: `/v1/complaints/${theirs.id}/timeline` })).statusCode,
    ).toBe(404);
    const own = await createComplaint();
    const readOnly = await call(t.app, readKey, {
      method: 'POST',
      url: `/v1/complaints/${own.id}/communications`,
      json: { direction: 'inbound', channel: 'phone', body: 'x', contactMade: true },
    });
    expect(readOnly.statusCode).toBe(403);
    expect(
      (await call(t.app, null, { method: 'GET', url: `/v1/complaints/${own.id}/timeline` })).statusCode,
    ).toBe(401);
    const reportsOnly = await tenant.keyWith('reports:read');
    expect(
      (await call(t.app, reportsOnly, { method: 'GET', url: `/v1/complaints/${own.id}/timeline` }))
        .statusCode,
    ).toBe(403);
  });

  it('cannot be rewritten, not even with SQL', async () => {
    const c = await createComplaint();
    await expect(
      t.database.pool.query("update complaint_timeline set type = 'forged' where complaint_id = $1", [c.id]),
    ).rejects.toThrow(/append-only/);
    await expect(
      t.database.pool.query('delete from complaint_timeline where complaint_id = $1', [c.id]),
    ).rejects.toThrow(/append-only/);
  });
});
