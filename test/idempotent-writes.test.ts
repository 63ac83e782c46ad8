import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  complaintBody,
  createTestTenant,
  startTestApp,
  type TestApp,
  type TestTenant,
} from './harness.js';
import { daysAgo } from './intake-helpers.js';

let t: TestApp;
let tenant: TestTenant;

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTestTenant(t.tenancy);
});
afterAll(async () => {
  await t?.close();
});

async function newComplaint(overrides: Record<string, unknown> = {}, moves: string[] = []) {
  const res = await call(t.app, tenant.adminKey, {
    method: 'POST',
    url: '/v1/complaints',
    json: complaintBody(overrides),
  });
  expect(res.statusCode, res.body).toBe(201);
  const complaint = res.json() as { id: string };
  for (const to of moves) {
    const moved = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${complaint.id}/transitions`,
      json: { to },
    });
    expect(moved.statusCode, moved.body).toBe(200);
  }
  return complaint;
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

async function rowsIn(table: string, complaintId: string): Promise<number> {
  const { rows } = await t.database.pool.query(
    `select count(*)::int as n from ${table} where tenant_id = $1 and complaint_id = $2`,
    [tenant.tenantId, complaintId],
  );
  return rows[0].n;
}

/**
 * Puts a key back as a first attempt leaves it when it dies after its write committed and before
 * its answer was stored: still in progress, no answer, its lease run out.
 */
async function dieBeforeAnswering(key: string) {
  const { rowCount } = await t.database.pool.query(
    `update idempotency_keys set state = 'in_progress', response_status = null, response_body = null,
       response_headers = null, locked_until = now() - interval '1 second'
     where tenant_id = $1 and key = $2`,
    [tenant.tenantId, key],
  );
  expect(rowCount).toBe(1);
}

const handler = { name: 'Zhang Wei', role: 'handler' };

interface IdempotentWrite {
  name: string;
  /** Makes a complaint the write applies to; returns the URL to send it to. */
  target(): Promise<{ complaintId: string; url: string }>;
  body: unknown;
  other: unknown;
  /** The timeline entry the write adds once. */
  entry: string;
  /** The table whose rows it adds, counted per complaint. */
  table?: string;
  /** The resource the answer is about, which a retry must answer with again. */
  resourceOf(answer: Record<string, unknown>): unknown;
}

/** A complaint taken to resolved, and the follow-up visit that schedules. */
async function dueFollowUp() {
  const complaint = await newComplaint({ channel: 'phone' }, ['acknowledged', 'investigating', 'resolved']);
  const { rows } = await t.database.pool.query(
    `select id from follow_ups where complaint_id = $1 and status = 'pending'`,
    [complaint.id],
  );
  expect(rows).toHaveLength(1);
  return { complaintId: complaint.id, url: `/v1/follow-ups/${rows[0].id}/outcome` };
}

const onComplaint =
  (path: string, overrides: Record<string, unknown> = {}, moves: string[] = []) =>
  async () => {
    const complaint = await newComplaint(overrides, moves);
    return { complaintId: complaint.id, url: `/v1/complaints/${complaint.id}/${path}` };
  };

const writes: IdempotentWrite[] = [
  {
    name: 'recording a communication',
    target: onComplaint('communications'),
    body: { direction: 'outbound', channel: 'phone', body: 'Called back', contactMade: true },
    other: { direction: 'outbound', channel: 'phone', body: 'Called again', contactMade: true },
    entry: 'communication.recorded',
    table: 'communications',
    resourceOf: (answer) => answer.id,
  },
  {
    name: 'a status change',
    target: onComplaint('transitions'),
    body: { to: 'acknowledged' },
    other: { to: 'withdrawn', reason: 'Changed mind' },
    entry: 'complaint.status_changed',
    resourceOf: (answer) => [answer.id, answer.status, answer.version],
  },
  {
    name: 'an escalation',
    target: onComplaint('escalations'),
    body: { level: 1, reason: 'Supervisor asked for' },
    other: { level: 2, reason: 'Manager asked for' },
    entry: 'complaint.escalated',
    table: 'escalations',
    resourceOf: (answer) => answer.id,
  },
  {
    name: 'an acceptance override',
    target: onComplaint('acceptance-override', { category: 'billing', occurredAt: daysAgo(200) }),
    body: { reason: 'The customer only learnt of the charge last week', supervisor: 'li.na' },
    other: { reason: 'Another reason', supervisor: 'li.na' },
    entry: 'complaint.acceptance_overridden',
    resourceOf: (answer) => [answer.id, answer.status, answer.version],
  },
  {
    name: 'proposing a resolution',
    target: onComplaint('resolutions', { channel: 'phone' }, ['acknowledged', 'investigating']),
    body: { proposedBy: handler, options: [{ kind: 'apology', description: 'A written apology' }] },
    other: { proposedBy: handler, options: [{ kind: 'apology', description: 'A phone apology' }] },
    entry: 'resolution.proposed',
    table: 'resolutions',
    resourceOf: (answer) => answer.id,
  },
  {
    name: 'a pre-refund',
    target: onComplaint('pre-refunds'),
    body: { amount: 199, currency: 'CNY', refundedBy: handler, paymentReference: 'PAY-001' },
    other: { amount: 99, currency: 'CNY', refundedBy: handler, paymentReference: 'PAY-001' },
    entry: 'pre_refund.issued',
    table: 'pre_refunds',
    resourceOf: (answer) => answer.id,
  },
  {
    name: 'a promise to the customer',
    target: onComplaint('promises'),
    body: {
      description: 'Call back with the report',
      dueAt: new Date(Date.now() + 86_400_000).toISOString(),
    },
    other: { description: 'Visit on Monday', dueAt: new Date(Date.now() + 86_400_000).toISOString() },
    entry: 'promise.made',
    table: 'promises',
    resourceOf: (answer) => answer.id,
  },
  {
    name: 'a satisfaction survey',
    target: onComplaint('surveys'),
    body: { channel: 'phone' },
    other: { channel: 'email' },
    entry: 'survey.sent',
    table: 'satisfaction_surveys',
    resourceOf: (answer) => answer.id,
  },
  {
    // Unreachable: the answer names the next attempt it scheduled, which a recovery must find again.
    name: 'a follow-up outcome',
    target: dueFollowUp,
    body: { outcome: 'unreachable', comment: 'No answer' },
    other: { outcome: 'satisfied' },
    entry: 'follow_up.completed',
    table: 'follow_ups',
    resourceOf: (answer) => {
      const { followUp, nextAttempt } = answer as { followUp: { id: string }; nextAttempt: { id: string } };
      return [followUp.id, nextAttempt.id];
    },
  },
];

/**
 * A caller that times out and retries a write must not do it twice: each of these writes takes an
 * Idempotency-Key, replays its first answer for the same key and body, refuses another body, and
 * answers from what it wrote when the first attempt committed but never answered.
 */
describe.each(writes)('Idempotency-Key on $name', ({ target, body, other, entry, table, resourceOf }) => {
  it('replays the first answer and writes once', async () => {
    const { complaintId, url } = await target();
    const key = `retry-${complaintId}`;
    const first = await send(url, body, key);
    expect(first.statusCode, first.body).toBeLessThan(300);
    const retry = await send(url, body, key);
    expect(retry.statusCode).toBe(first.statusCode);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toBe(first.body);
    expect((await timelineTypes(complaintId)).filter((type) => type === entry)).toHaveLength(1);
  });

  it('refuses the same key with another request', async () => {
    const { complaintId, url } = await target();
    const key = `reuse-${complaintId}`;
    expect((await send(url, body, key)).statusCode).toBeLessThan(300);
    const reused = await send(url, other, key);
    expect(reused.statusCode).toBe(422);
    expect(reused.json().code).toBe('idempotency_key_reused');
  });

  it('recovers when the first attempt committed but died before answering', async () => {
    const { complaintId, url } = await target();
    const key = `crash-${complaintId}`;
    const first = await send(url, body, key);
    expect(first.statusCode, first.body).toBeLessThan(300);
    const rowsBefore = table ? await rowsIn(table, complaintId) : 0;
    await dieBeforeAnswering(key);

    const retry = await send(url, body, key);
    expect(retry.statusCode, retry.body).toBe(first.statusCode);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(resourceOf(retry.json())).toEqual(resourceOf(first.json()));
    expect(retry.json()).toEqual(first.json());
    expect(retry.headers.location).toBe(first.headers.location);
    expect(retry.headers.etag).toBe(first.headers.etag);
    expect((await timelineTypes(complaintId)).filter((type) => type === entry)).toHaveLength(1);
    if (table) expect(await rowsIn(table, complaintId)).toBe(rowsBefore);

    const replay = await send(url, body, key);
    expect(replay.statusCode).toBe(first.statusCode);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toBe(retry.body);
  });
});

describe('a retry that took over the key while the first attempt still ran', () => {
  it('writes nothing once the first attempt bound the key, and leaves the key to it', async () => {
    const complaint = await newComplaint();
    const key = `race-${complaint.id}`;
    const input = {
      direction: 'outbound',
      channel: 'phone',
      body: 'Called back',
      contactMade: true,
    } as const;
    // Both attempts hold the key; the first commits its communication and binds the key first.
    await t.services.repositories.idempotency.claim({
      tenantId: tenant.tenantId,
      key,
      requestFingerprint: 'f',
      lockedUntil: new Date(Date.now() + 60_000),
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    const first = '00000000-0000-4000-8000-000000000001';
    await t.database.pool.query(
      'update idempotency_keys set resource_id = $3 where tenant_id = $1 and key = $2',
      [tenant.tenantId, key, first],
    );

    const acting = {
      tenantId: tenant.tenantId,
      actor: { type: 'api_key' as const, id: null, name: 'test', onBehalfOf: null },
    };
    await expect(
      t.services.complaints.recordCommunication(acting, complaint.id, input, {
        key,
        recoveredResourceId: null,
      }),
    ).rejects.toMatchObject({ code: 'idempotency_request_in_progress', status: 409 });
    expect(await rowsIn('communications', complaint.id)).toBe(0);
    expect(await timelineTypes(complaint.id)).not.toContain('communication.recorded');

    // Its refusal is not stored over the first attempt's key, which still answers for itself.
    await t.services.idempotency.complete(tenant.tenantId, key, { status: 409, headers: {}, body: '{}' });
    const { rows } = await t.database.pool.query(
      'select state, resource_id from idempotency_keys where tenant_id = $1 and key = $2',
      [tenant.tenantId, key],
    );
    expect(rows[0]).toEqual({ state: 'in_progress', resource_id: first });
  });
});
