import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGraphql } from './graphql-client.js';
import { call, createTestTenant, startTestApp, type TestApp, type TestTenant } from './harness.js';
import { complaintClient, eventsOf } from './intake-helpers.js';

/**
 * Feedback of a resolution to the central service desk within 24 hours (seed 000): a deadline the
 * resolution opens, met by recording the feedback.
 */
let t: TestApp;
let tenant: TestTenant;
beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTestTenant(t.tenancy);
});
afterAll(async () => {
  await t?.close();
});

const post = (url: string, json: unknown, headers: Record<string, string> = {}) =>
  call(t.app, tenant.adminKey, { method: 'POST', url, json, headers });

async function resolvedComplaint() {
  const complaint = await complaintClient(t, tenant.adminKey).create();
  for (const to of ['acknowledged', 'investigating', 'resolved']) {
    const res = await post(`/v1/complaints/${complaint.id}/transitions`, { to });
    expect(res.statusCode, res.body).toBe(200);
  }
  return complaint.id as string;
}

const deskFeedbackDeadlines = async (id: string) =>
  (await complaintClient(t, tenant.adminKey).deadlines(id)).filter((d) => d.kind === 'desk_feedback');

describe('desk feedback', () => {
  it('is owed within 24 hours of the resolution, and met by recording it', async () => {
    const id = await resolvedComplaint();
    const [owed] = await deskFeedbackDeadlines(id);
    expect(owed).toMatchObject({ status: 'pending', clock: 'calendar' });
    expect(new Date(owed!.dueAt as string).getTime() - new Date(owed!.startsAt as string).getTime()).toBe(
      24 * 3_600_000,
    );

    const res = await post(`/v1/complaints/${id}/desk-feedback`, {
      summary: 'Refunded the double charge; the customer accepted.',
      desk: 'Central service desk, Shanghai',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: owed!.id, kind: 'desk_feedback', status: 'met' });
    const types = (await eventsOf(t, id)).map((e) => e.type);
    expect(types.slice(-2)).toEqual(['deadline.met', 'complaint.desk_feedback_recorded']);
    const recorded = (await eventsOf(t, id)).at(-1)!;
    expect(recorded.data).toMatchObject({
      deskFeedback: {
        summary: 'Refunded the double charge; the customer accepted.',
        desk: 'Central service desk, Shanghai',
        deadlineId: owed!.id,
      },
      deadline: { id: owed!.id, status: 'met' },
    });
    const timeline = await complaintClient(t, tenant.adminKey).timeline(id);
    expect(timeline.at(-1)).toMatchObject({
      type: 'complaint.desk_feedback_recorded',
      data: { deadlineId: owed!.id, desk: 'Central service desk, Shanghai' },
    });

    // Given once: a second is not owed.
    const again = await post(`/v1/complaints/${id}/desk-feedback`, { summary: 'Again' });
    expect(again.statusCode).toBe(409);
    expect(again.headers['content-type']).toContain('application/problem+json');
    expect(again.json()).toMatchObject({ code: 'desk_feedback_not_owed', currentStatus: 'resolved' });
  });

  it('is not owed before the resolution; outlives the closing; a reopening takes it away', async () => {
    const open = await complaintClient(t, tenant.adminKey).create();
    const early = await post(`/v1/complaints/${open.id}/desk-feedback`, { summary: 'Too soon' });
    expect(early.statusCode).toBe(409);
    expect(early.json().code).toBe('desk_feedback_not_owed');

    const closed = await resolvedComplaint();
    expect((await post(`/v1/complaints/${closed}/transitions`, { to: 'closed' })).statusCode).toBe(200);
    expect((await deskFeedbackDeadlines(closed)).map((d) => d.status)).toEqual(['pending']);
    expect(
      (await post(`/v1/complaints/${closed}/desk-feedback`, { summary: 'After closing' })).statusCode,
    ).toBe(200);

    const reopened = await resolvedComplaint();
    const back = await post(`/v1/complaints/${reopened}/transitions`, {
      to: 'investigating',
      reason: 'The refund did not arrive',
    });
    expect(back.statusCode, back.body).toBe(200);
    expect((await deskFeedbackDeadlines(reopened)).map((d) => d.status)).toEqual(['cancelled']);
  });

  it('replays a retry with the same Idempotency-Key, refuses bad input, and hides other tenants', async () => {
    const id = await resolvedComplaint();
    const first = await post(
      `/v1/complaints/${id}/desk-feedback`,
      { summary: 'Fed back' },
      {
        'idempotency-key': `desk-${id}`,
      },
    );
    expect(first.statusCode, first.body).toBe(200);
    const retry = await post(
      `/v1/complaints/${id}/desk-feedback`,
      { summary: 'Fed back' },
      {
        'idempotency-key': `desk-${id}`,
      },
    );
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toEqual(first.json());
    expect(retry.headers['idempotent-replayed']).toBe('true');

    for (const body of [{}, { summary: '' }, { summary: 'x'.repeat(2_001) }, { summary: 'ok', extra: 1 }]) {
      const res = await post(`/v1/complaints/${id}/desk-feedback`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
    const other = await createTestTenant(t.tenancy);
    const foreign = await call(t.app, other.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${id}/desk-feedback`,
      json: { summary: 'Not mine' },
    });
    expect(foreign.statusCode).toBe(404);
  });

  it('is recorded over GraphQL too', async () => {
    const id = await resolvedComplaint();
    const res = await postGraphql(
      t.app,
      tenant.adminKey,
      'mutation ($id: ID!) { recordDeskFeedback(complaintId: $id, summary: "Fed back by phone") { kind status } }',
      { id },
    );
    expect(res.errors).toEqual([]);
    expect(res.data.recordDeskFeedback).toEqual({ kind: 'desk_feedback', status: 'met' });
  });
});
