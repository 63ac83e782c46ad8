import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGraphql } from './graphql-client.js';
import { call, createTestTenant, startTestApp, type TestApp, type TestTenant } from './harness.js';
import { complaintClient } from './intake-helpers.js';

/**
 * Immediate needs first (需求分类, seed 004): the work queues filter by need type and put the
 * complaints needing an immediate fix first, each part in the list's own order, page by page.
 */
let t: TestApp;
let tenant: TestTenant;
/** The tenant's complaints by need type, as made. */
const made: Array<{ id: string; needType: string | null; receivedAt: string }> = [];

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTestTenant(t.tenancy);
  const api = complaintClient(t, tenant.adminKey);
  const needs = ['immediate', 'long_term', null, 'immediate', 'emotional', null, 'immediate', 'long_term'];
  for (const [index, needType] of needs.entries()) {
    const receivedAt = new Date(Date.now() - (index + 1) * 60_000).toISOString();
    const complaint = await api.create({ receivedAt, ...(needType ? { needType } : {}) });
    made.push({ id: complaint.id, needType, receivedAt });
  }
});
afterAll(async () => {
  await t?.close();
});

const get = (url: string) => call(t.app, tenant.adminKey, { method: 'GET', url });

/** Every page of `url` (which has a query string), `limit` at a time, as the API pages it. */
async function allPages<T>(url: string, limit: number): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 50; pages += 1) {
    const res = await get(`${url}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.statusCode, res.body).toBe(200);
    items.push(...(res.json().data as T[]));
    cursor = res.json().nextCursor;
    if (!cursor) return items;
  }
  throw new Error('the pages do not end');
}

const newestFirst = (rows: typeof made) => [...rows].sort((a, b) => b.receivedAt.localeCompare(a.receivedAt));

describe('complaints, immediate needs first', () => {
  it('lists those needing an immediate fix first, then the rest, each newest first, across pages', async () => {
    const expected = [
      ...newestFirst(made.filter((c) => c.needType === 'immediate')),
      ...newestFirst(made.filter((c) => c.needType !== 'immediate')),
    ].map((c) => c.id);
    for (const limit of [1, 2, 3, 8, 20]) {
      const listed = await allPages<{ id: string }>('/v1/complaints?order=immediate_first', limit);
      expect(
        listed.map((c) => c.id),
        `limit ${limit}`,
      ).toEqual(expected);
    }
    // The default order is unchanged: newest received first.
    const plain = await allPages<{ id: string }>('/v1/complaints?order=received', 3);
    expect(plain.map((c) => c.id)).toEqual(newestFirst(made).map((c) => c.id));
  });

  it('filters by need type, alone or with the order', async () => {
    const ids = async (query: string) =>
      (await allPages<{ id: string }>(`/v1/complaints?${query}`, 25)).map((c) => c.id);
    expect(await ids('needType=emotional')).toEqual(
      made.filter((c) => c.needType === 'emotional').map((c) => c.id),
    );
    expect(await ids('needType=long_term&order=immediate_first')).toEqual(
      newestFirst(made.filter((c) => c.needType === 'long_term')).map((c) => c.id),
    );
    expect(await ids('needType=immediate,emotional&order=immediate_first')).toEqual([
      ...newestFirst(made.filter((c) => c.needType === 'immediate')).map((c) => c.id),
      ...made.filter((c) => c.needType === 'emotional').map((c) => c.id),
    ]);
    const bad = await get('/v1/complaints?needType=urgent');
    expect(bad.statusCode).toBe(400);
    // A cursor of one order is no cursor of the other.
    const first = await get('/v1/complaints?order=received&limit=1');
    const mixed = await get(`/v1/complaints?order=immediate_first&cursor=${first.json().nextCursor}`);
    expect(mixed.statusCode).toBe(400);
    expect(mixed.json().code).toBe('invalid_cursor');
  });

  it('pages the same over GraphQL, from any edge', async () => {
    const query = `query ($after: String) {
      complaints(order: immediate_first, first: 3, after: $after) {
        edges { cursor node { id needType } } pageInfo { hasNextPage endCursor } } }`;
    const page = await postGraphql(t.app, tenant.adminKey, query, {});
    expect(page.errors).toEqual([]);
    const edges = page.data.complaints.edges as Array<{ cursor: string; node: { id: string } }>;
    expect(edges.map((edge) => edge.node.id)).toEqual(
      newestFirst(made.filter((c) => c.needType === 'immediate')).map((c) => c.id),
    );
    // Going on after the second edge gives the third and then the rest.
    const after = await postGraphql(t.app, tenant.adminKey, query, { after: edges[1]!.cursor });
    expect(after.errors).toEqual([]);
    expect(after.data.complaints.edges[0].node.id).toBe(edges[2]!.node.id);
    expect(after.data.complaints.edges[1].node.id).toBe(
      newestFirst(made.filter((c) => c.needType !== 'immediate'))[0]!.id,
    );
  });
});

describe('deadlines, immediate needs first', () => {
  it("puts the deadlines of immediate needs first, each part soonest due first, and filters by the complaint's need", async () => {
    type Deadline = { id: string; complaintId: string; dueAt: string };
    const all = await allPages<Deadline>('/v1/deadlines?status=pending', 100);
    const needOf = new Map(made.map((c) => [c.id, c.needType]));
    const mine = all.filter((d) => needOf.has(d.complaintId));
    const immediate = mine.filter((d) => needOf.get(d.complaintId) === 'immediate');
    expect(immediate.length).toBeGreaterThan(0);
    const queued = await allPages<Deadline>('/v1/deadlines?status=pending&order=immediate_first', 2);
    expect(queued.map((d) => d.id)).toEqual([
      ...immediate.map((d) => d.id),
      ...mine.filter((d) => needOf.get(d.complaintId) !== 'immediate').map((d) => d.id),
    ]);
    const filtered = await allPages<Deadline>('/v1/deadlines?status=pending&needType=immediate', 100);
    expect(filtered.map((d) => d.id)).toEqual(immediate.map((d) => d.id));

    const gql = await postGraphql(
      t.app,
      tenant.adminKey,
      '{ deadlines(order: immediate_first, filter: { status: [pending] }, first: 100) { nodes { id } } }',
    );
    expect(gql.errors).toEqual([]);
    expect(gql.data.deadlines.nodes.map((d: { id: string }) => d.id)).toEqual(queued.map((d) => d.id));
  });
});
