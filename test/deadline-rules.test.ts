import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadlineView } from '../src/modules/deadlines/deadline-views.js';
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

async function create(overrides: Record<string, unknown> = {}) {
  const res = await call(t.app, tenant.adminKey, {
    method: 'POST',
    url: '/v1/complaints',
    json: complaintBody(overrides),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}
const post = (url: string, json: unknown) => call(t.app, tenant.adminKey, { method: 'POST', url, json });
async function deadlinesOf(id: string): Promise<DeadlineView[]> {
  return (await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${id}/deadlines` })).json()
    .data;
}
const ofKind = (all: DeadlineView[], kind: string) => all.filter((d) => d.kind === kind);

async function moveTo(id: string, ...statuses: string[]) {
  for (const to of statuses) {
    const res = await post(`/v1/complaints/${id}/transitions`, { to, reason: 'test' });
    expect(res.statusCode, res.body).toBe(200);
  }
}

describe('deadline rules', () => {
  it('resolving meets what the resolution answers, and leaves met deadlines met', async () => {
    const complaint = await create({ channel: 'web', severity: 'major' });
    // A promised update is met by the outbound contact below; resolving must not cancel it afterwards.
    await post(`/v1/complaints/${complaint.id}/communications`, {
      direction: 'outbound',
      channel: 'phone',
      body: 'We will call back by tomorrow',
      contactMade: false,
      nextUpdateBy: new Date(Date.now() + 86_400_000).toISOString(),
    });
    await moveTo(complaint.id, 'acknowledged', 'investigating', 'resolved');
    const all = await deadlinesOf(complaint.id);
    for (const kind of ['first_contact', 'online_reply', 'resolution']) {
      expect(
        ofKind(all, kind).map((d) => d.status),
        kind,
      ).toEqual(['met']);
    }
    // The promise replaced the standing progress update; the promised one is met by resolving,
    // and no deadline ends both met and cancelled.
    expect(ofKind(all, 'progress_update').map((d) => d.status)).toEqual(['cancelled', 'met']);
    expect(all.filter((d) => d.metAt !== null && d.cancelledAt !== null)).toEqual([]);
    expect(ofKind(all, 'follow_up').map((d) => d.status)).toEqual(['pending']);
  });

  it('opens no deadline on a finished complaint', async () => {
    const complaint = await create({ channel: 'email' });
    await moveTo(complaint.id, 'withdrawn');
    const res = await post(`/v1/complaints/${complaint.id}/communications`, {
      direction: 'inbound',
      channel: 'email',
      body: 'One more thing',
      contactMade: true,
    });
    expect(res.statusCode).toBe(201);
    expect((await deadlinesOf(complaint.id)).filter((d) => d.status === 'pending')).toEqual([]);
    const read = await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}` });
    expect(read.json().nextDeadline).toBeNull();
  });

  it('meets a deadline when the contact happened, not when it was logged', async () => {
    const receivedAt = new Date(Date.now() - 30 * 3_600_000);
    const complaint = await create({ channel: 'phone', receivedAt: receivedAt.toISOString() });
    const [firstContact] = ofKind(await deadlinesOf(complaint.id), 'first_contact');
    // Logged 30 hours after receipt, but the call was made two hours in: met on time.
    const calledAt = new Date(receivedAt.getTime() + 2 * 3_600_000);
    await post(`/v1/complaints/${complaint.id}/communications`, {
      direction: 'outbound',
      channel: 'phone',
      body: 'Called the customer',
      contactMade: true,
      occurredAt: calledAt.toISOString(),
    });
    const [met] = ofKind(await deadlinesOf(complaint.id), 'first_contact');
    expect(met).toMatchObject({
      id: firstContact!.id,
      status: 'met',
      metAt: calledAt.toISOString(),
      metLate: false,
    });

    const late = await create({ channel: 'phone', receivedAt: receivedAt.toISOString() });
    await post(`/v1/complaints/${late.id}/communications`, {
      direction: 'outbound',
      channel: 'phone',
      body: 'Called the customer',
      contactMade: true,
    });
    expect(ofKind(await deadlinesOf(late.id), 'first_contact')[0]).toMatchObject({
      status: 'met',
      metLate: true,
    });
  });

  it('refuses contact dated before the complaint was received, and event dates after it', async () => {
    const complaint = await create({ receivedAt: new Date(Date.now() - 3_600_000).toISOString() });
    const early = await post(`/v1/complaints/${complaint.id}/communications`, {
      direction: 'outbound',
      channel: 'phone',
      body: 'x',
      contactMade: true,
      occurredAt: '1990-01-01T00:00:00Z',
    });
    expect(early.statusCode).toBe(400);
    expect(early.json().errors[0].field).toBe('body.occurredAt');
    const future = await call(t.app, tenant.adminKey, {
      method: 'PATCH',
      url: `/v1/complaints/${complaint.id}`,
      headers: { 'if-match': '"1"' },
      json: { occurredAt: '2999-01-01T00:00:00Z' },
    });
    expect(future.statusCode).toBe(400);
    expect(future.json().errors[0].field).toBe('body.occurredAt');
  });

  it('keeps one major report however often severity flips', async () => {
    const complaint = await create();
    let etag = '"1"';
    for (const severity of ['major', 'general', 'major', 'general', 'major']) {
      const res = await call(t.app, tenant.adminKey, {
        method: 'PATCH',
        url: `/v1/complaints/${complaint.id}`,
        headers: { 'if-match': etag },
        json: { severity },
      });
      expect(res.statusCode, res.body).toBe(200);
      etag = res.headers.etag as string;
      const reports = ofKind(await deadlinesOf(complaint.id), 'major_report');
      const open = reports.filter((d) => d.status === 'pending');
      expect(open, severity).toHaveLength(severity === 'major' ? 1 : 0);
      expect(
        ofKind(await deadlinesOf(complaint.id), 'progress_update').filter((d) => d.status === 'pending')
          .length,
      ).toBeLessThanOrEqual(1);
    }
  });
});
