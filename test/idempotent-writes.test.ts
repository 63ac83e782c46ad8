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

async function newComplaint() {
  const res = await call(t.app, tenant.adminKey, {
    method: 'POST',
    url: '/v1/complaints',
    json: complaintBody(),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const send = (url: string, json: unknown, key: string) =>
  call(t.app, tenant.adminKey, { method: 'POST', url, json, headers: { 'idempotency-key': key } });

async function timelineTypes(complaintId: string): Promise<string[]> {
  const res = await call(t.app, tenant.adminKey, {
    method: 'GET',
    url: `/v1/complaints/${complaintId}/timeline?limit=100`,
  });
  return res.json().data.map((entry: { type: string }) => entry.type);
}

/**
 * A caller that times out and retries a write must not do it twice: each of these writes takes an
 * Idempotency-Key, replays its first answer for the same key and body, and refuses another body.
 */
describe.each([
  {
    name: 'recording a communication',
    path: (id: string) => `/v1/complaints/${id}/communications`,
    body: { direction: 'outbound', channel: 'phone', body: 'Called back', contactMade: true },
    other: { direction: 'outbound', channel: 'phone', body: 'Called again', contactMade: true },
    entry: 'communication.recorded',
  },
  {
    name: 'a status change',
    path: (id: string) => `/v1/complaints/${id}/transitions`,
    body: { to: 'acknowledged' },
    other: { to: 'withdrawn', reason: 'Changed mind' },
    entry: 'complaint.status_changed',
  },
  {
    name: 'an escalation',
    path: (id: string) => `/v1/complaints/${id}/escalations`,
    body: { level: 1, reason: 'Supervisor asked for' },
    other: { level: 2, reason: 'Manager asked for' },
    entry: 'complaint.escalated',
  },
])('Idempotency-Key on $name', ({ path, body, other, entry }) => {
  it('replays the first answer and writes once', async () => {
    const complaint = await newComplaint();
    const key = `retry-${complaint.id}`;
    const first = await send(path(complaint.id), body, key);
    expect(first.statusCode, first.body).toBeLessThan(300);
    const retry = await send(path(complaint.id), body, key);
    expect(retry.statusCode).toBe(first.statusCode);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toBe(first.body);
    expect((await timelineTypes(complaint.id)).filter((type) => type === entry)).toHaveLength(1);
  });

  it('refuses the same key with another request', async () => {
    const complaint = await newComplaint();
    const key = `reuse-${complaint.id}`;
    expect((await send(path(complaint.id), body, key)).statusCode).toBeLessThan(300);
    const reused = await send(path(complaint.id), other, key);
    expect(reused.statusCode).toBe(422);
    expect(reused.json().code).toBe('idempotency_key_reused');
  });
});
