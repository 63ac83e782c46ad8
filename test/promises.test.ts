import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGraphql } from './graphql-client.js';
import { call, createTestTenant, type TestApp, type TestTenant } from './harness.js';
import { complaintClient, eventsOf } from './intake-helpers.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';
import { testRedisEnv } from './redis-keys.js';
import { eventually, startWorkerProcess, type WorkerProcess } from './worker-process.js';

/**
 * Every promise tracked (seeds 000, 002): a promise to the customer is a deadline, kept, broken by
 * a real worker when it falls due unmet, or withdrawn with a reason; listed per complaint and in
 * the deadline work queue, and counted in the SLA compliance report.
 */
let isolated: IsolatedTestApp;
let t: TestApp;
let worker: WorkerProcess;
let tenant: TestTenant;

beforeAll(async () => {
  isolated = await startIsolatedTestApp('promises');
  t = isolated.app;
  worker = await startWorkerProcess({
    DATABASE_URL: isolated.databaseUrl,
    ...testRedisEnv(),
    REDIS_PREFIX: isolated.redisPrefix,
    SLA_RECONCILE_INTERVAL: '1',
  });
  tenant = await createTestTenant(t.tenancy);
});
afterAll(async () => {
  await worker?.stop();
  await isolated?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Json = Record<string, any>;
const post = (url: string, json: unknown, headers: Record<string, string> = {}, key = tenant.adminKey) =>
  call(t.app, key, { method: 'POST', url, json, headers });
const get = async (url: string, key = tenant.adminKey) => {
  const res = await call(t.app, key, { method: 'GET', url });
  return res;
};
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

async function newComplaint(): Promise<string> {
  return (await complaintClient(t, tenant.adminKey).create()).id as string;
}

async function makePromise(id: string, body: Json, headers: Record<string, string> = {}): Promise<Json> {
  const res = await post(`/v1/complaints/${id}/promises`, body, headers);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

describe('promises to the customer', () => {
  it('are recorded as a promise deadline, kept by the handler, and listed per complaint', async () => {
    const id = await newComplaint();
    const dueAt = inMs(3_600_000);
    const promise = await makePromise(id, {
      description: 'Call back with the engineer’s report',
      dueAt,
      madeBy: 'Zhang Wei',
    });
    expect(promise).toMatchObject({
      complaintId: id,
      description: 'Call back with the engineer’s report',
      madeBy: 'Zhang Wei',
      dueAt,
      status: 'open',
      keptAt: null,
      deadline: { kind: 'promise', status: 'pending', dueAt, targetDuration: null, clock: 'calendar' },
    });
    const deadlines = await complaintClient(t, tenant.adminKey).deadlines(id);
    expect(deadlines.filter((d) => d.kind === 'promise').map((d) => d.id)).toEqual([promise.deadline.id]);

    // The deadline work queue shows open promises, soonest due first.
    const queue = await get('/v1/deadlines?kind=promise&status=pending&limit=100');
    expect(queue.statusCode, queue.body).toBe(200);
    expect(queue.json().data.map((d: Json) => d.id)).toContain(promise.deadline.id);

    // A promise is met by keeping it, not by completing its deadline by hand.
    const byHand = await post(`/v1/complaints/${id}/deadlines/${promise.deadline.id}/complete`, {});
    expect([404, 409]).toContain(byHand.statusCode);

    const kept = await post(`/v1/complaints/${id}/promises/${promise.id}/kept`, { note: 'Called at 15:00' });
    expect(kept.statusCode, kept.body).toBe(200);
    expect(kept.json()).toMatchObject({
      status: 'kept',
      keptLate: false,
      keptNote: 'Called at 15:00',
      deadline: { status: 'met', metLate: false },
    });
    const again = await post(`/v1/complaints/${id}/promises/${promise.id}/kept`, {});
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'promise_not_open', currentStatus: 'kept' });
    const withdrawKept = await post(`/v1/complaints/${id}/promises/${promise.id}/withdrawal`, {
      reason: 'x',
    });
    expect(withdrawKept.json()).toMatchObject({ code: 'promise_not_open', currentStatus: 'kept' });

    const list = await get(`/v1/complaints/${id}/promises`);
    expect(list.statusCode).toBe(200);
    expect(list.json().data).toEqual([kept.json()]);
    const one = await get(`/v1/complaints/${id}/promises/${promise.id}`);
    expect(one.json()).toEqual(kept.json());

    const types = (await eventsOf(t, id)).map((event) => event.type);
    expect(types).toContain('promise.made');
    expect(types.slice(-2)).toEqual(['deadline.met', 'promise.kept']);
    const timeline = await complaintClient(t, tenant.adminKey).timeline(id);
    expect(timeline.map((entry) => entry.type)).toEqual(
      expect.arrayContaining(['promise.made', 'deadline.met', 'promise.kept']),
    );
    expect(timeline.find((entry) => entry.type === 'promise.made')).toMatchObject({
      data: { promiseId: promise.id, dueAt, madeBy: 'Zhang Wei' },
    });
  });

  it('is broken by the worker when due unmet, counted in the compliance report, and may be kept late', async () => {
    const id = await newComplaint();
    const promise = await makePromise(id, { description: 'Refund by Friday', dueAt: inMs(2_000) });
    const broken = await eventually<Json>(async () => {
      const res = await get(`/v1/complaints/${id}/promises/${promise.id}`);
      return res.json().status === 'broken' ? res.json() : undefined;
    }, 20_000);
    expect(broken).toMatchObject({ deadline: { status: 'breached' }, keptAt: null });
    expect(broken.brokenAt).not.toBeNull();
    const breach = (await eventsOf(t, id)).find(
      (event) => event.type === 'deadline.breached' && event.data.deadline.kind === 'promise',
    );
    expect(breach?.data.deadline.id).toBe(promise.deadline.id);

    // A broken promise cannot be withdrawn: it was broken.
    const withdrawn = await post(`/v1/complaints/${id}/promises/${promise.id}/withdrawal`, {
      reason: 'Too late',
    });
    expect(withdrawn.json()).toMatchObject({ code: 'promise_not_open', currentStatus: 'broken' });

    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    const report = await eventually(async () => {
      const res = await get(`/v1/reports/sla-compliance?from=${day(-1)}&to=${day(1)}`);
      expect(res.statusCode, res.body).toBe(200);
      const row = res.json().deadlines.find((r: Json) => r.kind === 'promise');
      return row && row.breached >= 1 ? row : undefined;
    }, 10_000);
    expect(report).toMatchObject({ kind: 'promise', breached: 1 });

    // Kept late: it shows as kept, and the breach still stands.
    const late = await post(`/v1/complaints/${id}/promises/${promise.id}/kept`, {});
    expect(late.statusCode, late.body).toBe(200);
    expect(late.json()).toMatchObject({ status: 'kept', keptLate: true, brokenAt: broken.brokenAt });
  });

  it('is withdrawn with a reason, and outlives the complaint being closed', async () => {
    const id = await newComplaint();
    const first = await makePromise(id, { description: 'Send a replacement', dueAt: inMs(86_400_000) });
    const second = await makePromise(id, { description: 'Visit on Monday', dueAt: inMs(2 * 86_400_000) });
    const withdrawn = await post(`/v1/complaints/${id}/promises/${first.id}/withdrawal`, {
      reason: 'Customer chose a refund instead',
    });
    expect(withdrawn.statusCode, withdrawn.body).toBe(200);
    expect(withdrawn.json()).toMatchObject({
      status: 'withdrawn',
      withdrawalReason: 'Customer chose a refund instead',
      deadline: { status: 'cancelled' },
    });
    expect((await eventsOf(t, id)).at(-1)).toMatchObject({
      type: 'promise.withdrawn',
      data: { promise: { id: first.id, status: 'withdrawn' } },
    });

    const closed = await post(`/v1/complaints/${id}/transitions`, {
      to: 'withdrawn',
      reason: 'Customer withdrew',
    });
    expect(closed.statusCode, closed.body).toBe(200);
    const stillOwed = await get(`/v1/complaints/${id}/promises/${second.id}`);
    expect(stillOwed.json()).toMatchObject({ status: 'open', deadline: { status: 'pending' } });
    // No new promise on a finished complaint.
    const late = await post(`/v1/complaints/${id}/promises`, { description: 'More', dueAt: inMs(60_000) });
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe('complaint_finished');
    // The one owed can still be kept.
    const kept = await post(`/v1/complaints/${id}/promises/${second.id}/kept`, {});
    expect(kept.json().status).toBe('kept');
  });

  it('replays a retry with the same Idempotency-Key, refuses bad input, and hides other tenants', async () => {
    const id = await newComplaint();
    const body = { description: 'Call back tomorrow', dueAt: inMs(86_400_000) };
    const first = await post(`/v1/complaints/${id}/promises`, body, { 'idempotency-key': `promise-${id}` });
    expect(first.statusCode, first.body).toBe(201);
    const retry = await post(`/v1/complaints/${id}/promises`, body, { 'idempotency-key': `promise-${id}` });
    expect(retry.statusCode).toBe(201);
    expect(retry.json()).toEqual(first.json());
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect((await get(`/v1/complaints/${id}/promises`)).json().data).toHaveLength(1);

    for (const bad of [
      {},
      { description: 'x', dueAt: 'tomorrow' },
      { description: '', dueAt: inMs(60_000) },
      { description: 'x'.repeat(2_001), dueAt: inMs(60_000) },
      { description: 'x', dueAt: inMs(-60_000) },
      { description: 'x', dueAt: inMs(60_000), extra: 1 },
    ]) {
      const res = await post(`/v1/complaints/${id}/promises`, bad);
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
    const promiseId = first.json().id;
    const noReason = await post(`/v1/complaints/${id}/promises/${promiseId}/withdrawal`, {});
    expect(noReason.statusCode).toBe(400);
    const unknown = await post(`/v1/complaints/${id}/promises/${crypto.randomUUID()}/kept`, {});
    expect(unknown.statusCode).toBe(404);

    const other = await createTestTenant(t.tenancy);
    const foreign = [
      await post(`/v1/complaints/${id}/promises`, body, {}, other.adminKey),
      await get(`/v1/complaints/${id}/promises`, other.adminKey),
      await get(`/v1/complaints/${id}/promises/${promiseId}`, other.adminKey),
      await post(`/v1/complaints/${id}/promises/${promiseId}/kept`, {}, {}, other.adminKey),
      await post(
        `/v1/complaints/${id}/promises/${promiseId}/withdrawal`,
        { reason: 'x' },
        {},
        other.adminKey,
      ),
    ];
    expect(foreign.map((res) => res.statusCode)).toEqual([404, 404, 404, 404, 404]);
  });

  it('are made, kept, withdrawn and listed over GraphQL too', async () => {
    const id = await newComplaint();
    const fields = 'id status description dueAt withdrawalReason deadline { kind status }';
    const made = await postGraphql(
      t.app,
      tenant.adminKey,
      `mutation ($c: ID!, $input: PromiseInput!, $key: String) {
        makePromise(complaintId: $c, input: $input, idempotencyKey: $key) { ${fields} } }`,
      { c: id, input: { description: 'Email the invoice', dueAt: inMs(3_600_000) }, key: `gql-${id}` },
    );
    expect(made.errors).toEqual([]);
    expect(made.data.makePromise).toMatchObject({
      status: 'open',
      deadline: { kind: 'promise', status: 'pending' },
    });
    const other = await postGraphql(
      t.app,
      tenant.adminKey,
      `mutation ($c: ID!, $input: PromiseInput!) { makePromise(complaintId: $c, input: $input) { id } }`,
      { c: id, input: { description: 'Call back', dueAt: inMs(3_600_000) } },
    );
    const kept = await postGraphql(
      t.app,
      tenant.adminKey,
      `mutation ($c: ID!, $p: ID!) { keepPromise(complaintId: $c, promiseId: $p) { ${fields} } }`,
      { c: id, p: made.data.makePromise.id },
    );
    expect(kept.errors).toEqual([]);
    expect(kept.data.keepPromise.status).toBe('kept');
    const withdrawn = await postGraphql(
      t.app,
      tenant.adminKey,
      `mutation ($c: ID!, $p: ID!) {
        withdrawPromise(complaintId: $c, promiseId: $p, input: { reason: "Not needed" }) { ${fields} } }`,
      { c: id, p: other.data.makePromise.id },
    );
    expect(withdrawn.errors).toEqual([]);
    expect(withdrawn.data.withdrawPromise).toMatchObject({
      status: 'withdrawn',
      withdrawalReason: 'Not needed',
    });
    const again = await postGraphql(
      t.app,
      tenant.adminKey,
      `mutation ($c: ID!, $p: ID!) { keepPromise(complaintId: $c, promiseId: $p) { id } }`,
      { c: id, p: other.data.makePromise.id },
    );
    expect(again.errors[0]?.extensions?.code).toBe('promise_not_open');
    const read = await postGraphql(
      t.app,
      tenant.adminKey,
      `query ($id: ID!) { complaint(id: $id) { promises { id status } } }`,
      { id },
    );
    expect(read.errors).toEqual([]);
    expect(read.data.complaint.promises).toEqual([
      { id: made.data.makePromise.id, status: 'kept' },
      { id: other.data.makePromise.id, status: 'withdrawn' },
    ]);
  });
});
