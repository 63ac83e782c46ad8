import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGraphql } from './graphql-client.js';
import { call, complaintBody, createTestTenant, startTestApp, type TestApp } from './harness.js';
import { complaintClient, eventsOf } from './intake-helpers.js';

/**
 * Quality vs non-quality and the cause of a complaint (DOMAIN §2 and §6, seeds 000 and 003): set
 * at intake or when found, a root-cause note at resolution, filtered by in the list.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

async function freshTenant() {
  const tenant = await createTestTenant(t.tenancy);
  return { tenant, api: complaintClient(t, tenant.adminKey) };
}

describe('quality class and cause', () => {
  it('are recorded at intake, shown, and sent in the created event', async () => {
    const { api } = await freshTenant();
    const complaint = await api.create({ qualityClass: 'quality', cause: 'product_defect_maker' });
    expect(complaint).toMatchObject({
      qualityClass: 'quality',
      cause: 'product_defect_maker',
      rootCauseNote: null,
    });
    const [created] = await eventsOf(t, complaint.id);
    expect(created!.data.complaint).toMatchObject({ qualityClass: 'quality', cause: 'product_defect_maker' });
    // Neither is needed: a complaint is classified when the cause is found.
    expect(await api.create()).toMatchObject({ qualityClass: null, cause: null, rootCauseNote: null });
  });

  it('records the cause when found and the root-cause note at resolution, each on the timeline', async () => {
    const { api } = await freshTenant();
    const complaint = await api.create();
    const found = await api.patch(complaint.id, { cause: 'broken_promise', qualityClass: 'non_quality' });
    expect(found.statusCode, found.body).toBe(200);
    const noted = await api.patch(complaint.id, {
      rootCauseNote: 'Callbacks were promised without a booking; the desk now books them at once.',
    });
    expect(noted.statusCode, noted.body).toBe(200);
    expect(noted.json()).toMatchObject({
      cause: 'broken_promise',
      qualityClass: 'non_quality',
      rootCauseNote: 'Callbacks were promised without a booking; the desk now books them at once.',
    });
    const changes = (await api.timeline(complaint.id)).flatMap(
      (entry) => (entry.changes as Array<{ field: string; before: unknown; after: unknown }> | null) ?? [],
    );
    expect(changes).toEqual(
      expect.arrayContaining([
        { field: 'cause', before: null, after: 'broken_promise' },
        { field: 'qualityClass', before: null, after: 'non_quality' },
        expect.objectContaining({ field: 'rootCauseNote', before: null }),
      ]),
    );
    // Announced as a classification, as responsibility and need type are.
    const classified = (await eventsOf(t, complaint.id)).filter((e) => e.type === 'complaint.classified');
    expect(classified).toHaveLength(2);
    // Cleared with null, as any classification.
    const cleared = await api.patch(complaint.id, { cause: null });
    expect(cleared.json().cause).toBeNull();
  });

  it("refuses a cause that is not one of the tenant's, naming the field, and writes nothing", async () => {
    const { tenant, api } = await freshTenant();
    const refused = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody({ cause: 'bad_luck', externalRef: 'refused-cause' }),
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json().code).toBe('validation_failed');
    expect(refused.json().errors.map((e: { field: string }) => e.field)).toEqual(['body.cause']);
    const { rows } = await t.database.pool.query(
      'select count(*)::int as n from complaints where tenant_id = $1 and external_ref = $2',
      [tenant.tenantId, 'refused-cause'],
    );
    expect(rows[0].n).toBe(0);

    const complaint = await api.create();
    const patched = await api.patch(complaint.id, { cause: 'bad_luck' });
    expect(patched.statusCode).toBe(400);
    expect(patched.json().errors.map((e: { field: string }) => e.field)).toEqual(['body.cause']);
    for (const [body, field] of [
      [{ qualityClass: 'quality_issue' }, 'body.qualityClass'],
      [{ cause: 'Broken Promise' }, 'body.cause'],
      [{ cause: 'x'.repeat(65) }, 'body.cause'],
    ] as const) {
      const res = await call(t.app, tenant.adminKey, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody(body),
      });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    }
  });

  it("follows the tenant's own causes; complaints keep a cause the tenant later drops", async () => {
    const { tenant, api } = await freshTenant();
    const kept = await api.create({ cause: 'delivery' });
    await api.settings({
      causes: [
        {
          code: 'network_outage',
          group: 'service_failure',
          labels: { zh: '网络中断', en: 'Network outage' },
        },
        { code: 'billing_error', group: 'other', labels: { zh: '计费错误', en: 'Billing error' } },
      ],
    });
    expect((await api.create({ cause: 'network_outage' })).cause).toBe('network_outage');
    const dropped = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody({ cause: 'delivery' }),
    });
    expect(dropped.statusCode).toBe(400);
    expect((await api.get(kept.id)).cause).toBe('delivery');

    const twice = await call(t.app, tenant.adminKey, {
      method: 'PUT',
      url: '/v1/settings/workflow',
      headers: { 'if-match': '*' },
      json: {
        causes: [
          { code: 'same', group: 'other', labels: { zh: '一', en: 'One' } },
          { code: 'same', group: 'other', labels: { zh: '二', en: 'Two' } },
        ],
      },
    });
    expect(twice.statusCode).toBe(400);
    expect(twice.json().errors.map((e: { field: string }) => e.field)).toContain('body.causes.1.code');
  });

  it('filters the list by cause and by quality class, over REST and GraphQL, within the tenant', async () => {
    const { tenant, api } = await freshTenant();
    const packaging = await api.create({ cause: 'packaging', qualityClass: 'non_quality' });
    const defect = await api.create({ cause: 'product_defect_seller', qualityClass: 'quality' });
    await api.create();
    // Another tenant's complaint with the same cause is never listed.
    await complaintClient(t, (await createTestTenant(t.tenancy)).adminKey).create({ cause: 'packaging' });

    const list = async (query: string) => {
      const res = await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints?${query}` });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().data.map((c: { id: string }) => c.id);
    };
    expect(await list('cause=packaging')).toEqual([packaging.id]);
    expect(await list('qualityClass=quality')).toEqual([defect.id]);
    expect(await list('qualityClass=non_quality&cause=product_defect_seller')).toEqual([]);
    const bad = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url: '/v1/complaints?qualityClass=both',
    });
    expect(bad.statusCode).toBe(400);

    const gql = await postGraphql(
      t.app,
      tenant.adminKey,
      'query ($filter: ComplaintFilter) { complaints(first: 10, filter: $filter) { nodes { id cause qualityClass } } }',
      { filter: { cause: 'product_defect_seller', qualityClass: 'quality' } },
    );
    expect(gql.errors).toEqual([]);
    expect(gql.data.complaints.nodes).toEqual([
      { id: defect.id, cause: 'product_defect_seller', qualityClass: 'quality' },
    ]);
  });
});
