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

const post = (url: string, json: unknown, key = tenant.adminKey) =>
  call(t.app, key, { method: 'POST', url, json });
const get = (url: string, key = tenant.adminKey) => call(t.app, key, { method: 'GET', url });

/** A complaint taken through to resolved by the plain status changes. */
async function resolved(overrides: Record<string, unknown> = {}, key = tenant.adminKey) {
  const res = await post('/v1/complaints', complaintBody({ channel: 'phone', ...overrides }), key);
  expect(res.statusCode, res.body).toBe(201);
  const complaint = res.json();
  for (const to of ['acknowledged', 'investigating', 'resolved']) {
    expect((await post(`/v1/complaints/${complaint.id}/transitions`, { to }, key)).statusCode).toBe(200);
  }
  return complaint;
}

async function pendingFollowUp(complaintId: string, key = tenant.adminKey) {
  const page = (await get('/v1/follow-ups?limit=100', key)).json().data;
  return page.find((f: { complaintId: string }) => f.complaintId === complaintId);
}

const timelineOf = async (id: string) =>
  (await get(`/v1/complaints/${id}/timeline?limit=100`)).json().data as Array<{
    type: string;
    data: Record<string, unknown>;
  }>;

describe('follow-up visits', () => {
  it('are scheduled on resolution by the followUp target, and a satisfied customer closes the complaint', async () => {
    const complaint = await resolved({ assignee: 'li.na' });
    const followUp = await pendingFollowUp(complaint.id);
    expect(followUp).toMatchObject({
      attempt: 1,
      status: 'pending',
      assignee: 'li.na',
      overdue: false,
      outcome: null,
    });
    const deadline = (await get(`/v1/complaints/${complaint.id}/deadlines`))
      .json()
      .data.find((d: { id: string }) => d.id === followUp.deadlineId);
    expect(deadline).toMatchObject({ kind: 'follow_up', targetDuration: 'PT24H', dueAt: followUp.dueAt });
    expect((await get(`/v1/follow-ups?assignee=li.na`)).json().data.map((f: { id: string }) => f.id)).toEqual(
      [followUp.id],
    );
    expect((await get(`/v1/follow-ups/${followUp.id}`)).json()).toEqual(followUp);

    const res = await post(`/v1/follow-ups/${followUp.id}/outcome`, {
      outcome: 'satisfied',
      score: 5,
      comment: '很满意',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      followUp: { status: 'completed', outcome: 'satisfied', score: 5, comment: '很满意' },
      nextAttempt: null,
      attemptsExhausted: false,
    });
    expect((await get(`/v1/complaints/${complaint.id}`)).json().status).toBe('closed');
    const met = (await get(`/v1/complaints/${complaint.id}/deadlines`))
      .json()
      .data.find((d: { id: string }) => d.id === followUp.deadlineId);
    expect(met.status).toBe('met');
    const again = await post(`/v1/follow-ups/${followUp.id}/outcome`, { outcome: 'satisfied' });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'follow_up_not_pending', currentStatus: 'completed' });
    const { rows } = await t.database.pool.query(
      'select type, data from events where complaint_id = $1 order by sequence',
      [complaint.id],
    );
    const types = rows.map((row) => row.type);
    expect(types).toContain('follow_up.due');
    expect(types.indexOf('follow_up.completed')).toBeLessThan(types.lastIndexOf('complaint.status_changed'));
    expect(rows.find((row) => row.type === 'follow_up.due').data.followUp.id).toBe(followUp.id);
  });

  it('reopens and escalates the complaint of an unsatisfied customer', async () => {
    const complaint = await resolved();
    const followUp = await pendingFollowUp(complaint.id);
    const res = await post(`/v1/follow-ups/${followUp.id}/outcome`, {
      outcome: 'unsatisfied',
      score: 1,
      comment: 'The lift broke again',
    });
    expect(res.statusCode, res.body).toBe(200);
    const after = (await get(`/v1/complaints/${complaint.id}`)).json();
    expect(after).toMatchObject({ status: 'investigating', escalationLevel: 1 });
    const [escalation] = (await get(`/v1/complaints/${complaint.id}/escalations`)).json().data;
    expect(escalation).toMatchObject({ trigger: 'unsatisfied', level: 1, targets: [{ role: 'team_lead' }] });
    expect(escalation.reason).toContain('The lift broke again');
    const deadlines = (await get(`/v1/complaints/${complaint.id}/deadlines`)).json().data;
    expect(
      deadlines.filter(
        (d: { kind: string; status: string }) => d.kind === 'resolution' && d.status === 'pending',
      ),
    ).toHaveLength(1);
    const types = (await timelineOf(complaint.id)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['follow_up.completed', 'complaint.escalated']));
  });

  it('tries an unreachable customer again, up to followUpMaxAttempts', async () => {
    const own = await createTestTenant(t.tenancy);
    const put = await call(t.app, own.adminKey, {
      method: 'PUT',
      url: '/v1/settings/workflow',
      headers: { 'if-match': '"1"' },
      json: { followUpMaxAttempts: 2 },
    });
    expect(put.statusCode, put.body).toBe(200);
    const complaint = await resolved({}, own.adminKey);
    const first = await pendingFollowUp(complaint.id, own.adminKey);
    const one = await post(`/v1/follow-ups/${first.id}/outcome`, { outcome: 'unreachable' }, own.adminKey);
    expect(one.statusCode, one.body).toBe(200);
    const next = one.json().nextAttempt;
    expect(next).toMatchObject({ attempt: 2, status: 'pending', complaintId: complaint.id });
    expect(one.json().attemptsExhausted).toBe(false);
    const two = await post(`/v1/follow-ups/${next.id}/outcome`, { outcome: 'unreachable' }, own.adminKey);
    expect(two.json()).toMatchObject({ nextAttempt: null, attemptsExhausted: true });
    expect(await pendingFollowUp(complaint.id, own.adminKey)).toBeUndefined();
    expect((await get(`/v1/complaints/${complaint.id}`, own.adminKey)).json().status).toBe('resolved');
    const withScore = await post(
      `/v1/follow-ups/${next.id}/outcome`,
      { outcome: 'unreachable', score: 3 },
      own.adminKey,
    );
    expect(withScore.statusCode).toBe(400);
  });

  it('remembers a customer who declined, so no visit is scheduled for them again', async () => {
    const customer = { name: 'Liu Yang', phone: '+86 139 1111 2222' };
    const complaint = await resolved({ customer });
    const followUp = await pendingFollowUp(complaint.id);
    await post(`/v1/follow-ups/${followUp.id}/outcome`, {
      outcome: 'declined',
      comment: 'Please do not call',
    });
    // The same phone number, written differently, on a later complaint.
    const later = await resolved({ customer: { name: 'Liu Yang', phone: '+86-139-1111-2222' } });
    expect(await pendingFollowUp(later.id)).toBeUndefined();
    const exempted = (await timelineOf(later.id)).find((e) => e.type === 'follow_up.exempted');
    expect(exempted?.data).toMatchObject({ reason: 'customer_declined' });
    expect(
      (await get(`/v1/complaints/${later.id}/deadlines`)).json().data.map((d: { kind: string }) => d.kind),
    ).not.toContain('follow_up');
  });

  it.each([
    ['anonymous', { customer: { phone: '+86 138 0000 0001' } }, 'anonymous'],
    ['without contact details', { customer: { name: 'Zhou Min' } }, 'no_contact_details'],
    ['tagged sensitive', { tags: ['sensitive'] }, 'sensitive'],
  ])('are not scheduled for a complaint %s', async (_label, overrides, reason) => {
    const complaint = await resolved(overrides);
    expect(await pendingFollowUp(complaint.id)).toBeUndefined();
    expect((await timelineOf(complaint.id)).find((e) => e.type === 'follow_up.exempted')?.data).toMatchObject(
      { reason },
    );
    const { rows } = await t.database.pool.query(
      "select data from events where complaint_id = $1 and type = 'follow_up.exempted'",
      [complaint.id],
    );
    expect(rows[0].data.exemption).toEqual({ reason, resolutionId: null });
  });

  it('are not scheduled when settled on the spot with the customer’s confirmation', async () => {
    const res = await post('/v1/complaints', complaintBody({ channel: 'walk_in' }));
    const complaint = res.json();
    for (const to of ['acknowledged', 'investigating'])
      await post(`/v1/complaints/${complaint.id}/transitions`, { to });
    const base = `/v1/complaints/${complaint.id}/resolutions`;
    const resolution = (
      await post(base, {
        proposedBy: { name: 'Zhang Wei', role: 'handler' },
        options: [{ kind: 'apology', description: 'Sorry' }],
      })
    ).json();
    await post(`${base}/${resolution.id}/choice`, { optionId: resolution.options[0].id });
    const executed = await post(`${base}/${resolution.id}/execute`, {
      notice: {
        channel: 'walk_in',
        measures: 'Apologised',
        reasons: 'Rude staff',
        followUpPlan: 'None needed',
        body: 'Sorry',
      },
      followUp: { onTheSpot: true, customerConfirmed: true },
    });
    expect(executed.statusCode, executed.body).toBe(200);
    expect(await pendingFollowUp(complaint.id)).toBeUndefined();
    expect((await timelineOf(complaint.id)).find((e) => e.type === 'follow_up.exempted')?.data).toMatchObject(
      {
        reason: 'settled_on_the_spot',
        resolutionId: resolution.id,
      },
    );
  });

  it('cancels a pending visit when the complaint is reopened', async () => {
    const complaint = await resolved();
    const followUp = await pendingFollowUp(complaint.id);
    await post(`/v1/complaints/${complaint.id}/transitions`, { to: 'investigating', reason: 'New facts' });
    expect((await get(`/v1/follow-ups/${followUp.id}`)).json().status).toBe('cancelled');
    expect((await post(`/v1/follow-ups/${followUp.id}/outcome`, { outcome: 'satisfied' })).json().code).toBe(
      'follow_up_not_pending',
    );
  });

  it('lists overdue visits and pages the work list', async () => {
    const own = await createTestTenant(t.tenancy);
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await resolved({}, own.adminKey)).id);
    const all = (await get('/v1/follow-ups?limit=2', own.adminKey)).json();
    expect(all.data).toHaveLength(2);
    const rest = (await get(`/v1/follow-ups?limit=2&cursor=${all.nextCursor}`, own.adminKey)).json();
    expect(rest.data).toHaveLength(1);
    expect(rest.nextCursor).toBeNull();
    expect((await get('/v1/follow-ups?overdue=true', own.adminKey)).json().data).toEqual([]);
    await t.database.pool.query(
      "update follow_ups set due_at = now() - interval '1 hour' where complaint_id = $1",
      [ids[0]],
    );
    const overdue = (await get('/v1/follow-ups?overdue=true', own.adminKey)).json().data;
    expect(overdue.map((f: { complaintId: string; overdue: boolean }) => [f.complaintId, f.overdue])).toEqual(
      [[ids[0], true]],
    );
    const completed = (await get('/v1/follow-ups?status=completed', own.adminKey)).json().data;
    expect(completed).toEqual([]);
  });

  it('refuses bad input, other tenants and missing scopes', async () => {
    const complaint = await resolved();
    const followUp = await pendingFollowUp(complaint.id);
    for (const json of [
      {},
      { outcome: 'happy' },
      { outcome: 'satisfied', score: 6 },
      { outcome: 'satisfied', score: 0 },
      { outcome: 'declined', score: 2 },
    ]) {
      const res = await post(`/v1/follow-ups/${followUp.id}/outcome`, json);
      expect(res.statusCode, JSON.stringify(json)).toBe(400);
    }
    for (const query of ['status=lost', 'overdue=maybe', 'limit=0', 'cursor=zzz', 'dueBefore=soon']) {
      expect((await get(`/v1/follow-ups?${query}`)).statusCode, query).toBe(400);
    }
    const other = await createTestTenant(t.tenancy);
    expect((await get(`/v1/follow-ups/${followUp.id}`, other.adminKey)).statusCode).toBe(404);
    expect(
      (await post(`/v1/follow-ups/${followUp.id}/outcome`, { outcome: 'satisfied' }, other.adminKey))
        .statusCode,
    ).toBe(404);
    expect((await get('/v1/follow-ups', other.adminKey)).json().data).toEqual([]);
    expect((await get('/v1/follow-ups', null as unknown as string)).statusCode).toBe(401);
    const reader = await tenant.keyWith('complaints:read');
    expect(
      (await post(`/v1/follow-ups/${followUp.id}/outcome`, { outcome: 'satisfied' }, reader)).statusCode,
    ).toBe(403);
    const reports = await tenant.keyWith('reports:read');
    expect((await get('/v1/follow-ups', reports)).statusCode).toBe(403);
    expect((await get(`/v1/follow-ups/${followUp.id}`)).json().status).toBe('pending');
  });
});
