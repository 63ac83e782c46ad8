import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  complaintBody,
  createTestTenant,
  startTestApp,
  type TestApp,
  type TestTenant,
} from './harness.js';
import { complaintClient, eventsOf, type Json } from './intake-helpers.js';

let t: TestApp;
let tenant: TestTenant;
let api: ReturnType<typeof complaintClient>;

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTestTenant(t.tenancy);
  api = complaintClient(t, tenant.adminKey);
});
afterAll(async () => {
  await t?.close();
});

const handover = (id: string, json: unknown, key: string | null = tenant.adminKey, headers = {}) =>
  call(t.app, key, { method: 'POST', url: `/v1/complaints/${id}/handover`, json, headers });
const declare = (id: string, json: unknown, key: string | null = tenant.adminKey) =>
  call(t.app, key, { method: 'POST', url: `/v1/complaints/${id}/conflicts`, json });
const conflictsOf = (id: string, key: string | null = tenant.adminKey) =>
  call(t.app, key, { method: 'GET', url: `/v1/complaints/${id}/conflicts` });

describe('first-receiver ownership and handover', () => {
  it('keeps the first receiver as owner until the complaint is handed over to a named person', async () => {
    const complaint = await api.create({}, { 'x-on-behalf-of': 'front.desk' });
    expect(complaint).toMatchObject({ receivedBy: 'front.desk', assignee: 'front.desk' });

    const res = await handover(complaint.reference, { to: 'li.na', reason: 'Billing specialist' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ receivedBy: 'front.desk', assignee: 'li.na', version: 2 });
    expect(res.headers.etag).toBe('"2"');

    const entry = (await api.timeline(complaint.id)).at(-1)!;
    expect(entry).toMatchObject({
      type: 'complaint.handed_over',
      changes: [{ field: 'assignee', before: 'front.desk', after: 'li.na' }],
      data: { from: 'front.desk', to: 'li.na', reason: 'Billing specialist' },
    });
    const events = (await eventsOf(t, complaint.id)).slice(1);
    expect(events.map((e) => e.type)).toEqual(['complaint.handed_over', 'complaint.assigned']);
    expect(events[0]!.data).toMatchObject({
      from: 'front.desk',
      to: 'li.na',
      reason: 'Billing specialist',
      complaint: { assignee: 'li.na' },
    });
    expect(events[1]!.data.previousAssignee).toBe('front.desk');

    const same = await handover(complaint.id, { to: 'LI.NA', reason: 'Again' });
    expect(same.statusCode).toBe(409);
    expect(same.json()).toMatchObject({ code: 'already_owner', assignee: 'li.na' });
    const stale = await handover(complaint.id, { to: 'wang.wu', reason: 'Leave' }, tenant.adminKey, {
      'if-match': '"1"',
    });
    expect(stale.statusCode).toBe(412);
    const fresh = await handover(complaint.id, { to: 'wang.wu', reason: 'Leave' }, tenant.adminKey, {
      'if-match': '"2"',
    });
    expect(fresh.statusCode).toBe(200);
  });

  it('refuses to leave a complaint without an owner', async () => {
    const complaint = await api.create();
    const res = await api.patch(complaint.id, { assignee: null });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: Json) => e.field)).toContain('body.assignee');
  });

  it('refuses bad handover bodies with 400', async () => {
    const complaint = await api.create();
    for (const body of [
      {},
      { to: 'li.na' },
      { reason: 'Leave' },
      { to: '', reason: 'Leave' },
      { to: 'li.na', reason: 'x'.repeat(2_001) },
      { to: 'li.na', reason: 'Leave', assignee: 'li.na' },
    ]) {
      const res = await handover(complaint.id, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
    expect((await api.get(complaint.id)).version).toBe(1);
  });

  it('needs complaints:write and keeps to the tenant', async () => {
    const complaint = await api.create();
    const body = { to: 'li.na', reason: 'Specialist' };
    expect((await handover(complaint.id, body, null)).statusCode).toBe(401);
    const reader = await tenant.keyWith('complaints:read');
    const readOnly = await handover(complaint.id, body, reader);
    expect(readOnly.statusCode).toBe(403);
    expect(readOnly.json().requiredScope).toBe('complaints:write');
    const other = await createTestTenant(t.tenancy);
    expect((await handover(complaint.id, body, other.adminKey)).statusCode).toBe(404);
    expect((await handover(complaint.reference, body, other.adminKey)).statusCode).toBe(404);
    expect((await api.get(complaint.id)).assignee).not.toBe('li.na');
  });
});

describe('recusal: the staff a complaint is about', () => {
  it('never lets them own it: not at intake, by handover or by assignment', async () => {
    const complaint = await api.create({ subjectStaff: ['Wang.Wu'] });
    expect(complaint.subjectStaff).toEqual(['Wang.Wu']);
    const res = await handover(complaint.id, { to: 'wang.wu', reason: 'Knows the case' });
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({
      code: 'conflict_of_interest',
      staff: 'wang.wu',
      basis: 'subject_of_complaint',
      detail: `Complaint '${complaint.reference}' is about 'wang.wu', who therefore may not handle it.`,
    });
    const assigned = await api.patch(complaint.id, { assignee: 'WANG.WU' });
    expect(assigned.statusCode).toBe(409);
    expect(assigned.json()).toMatchObject({ code: 'conflict_of_interest', staff: 'WANG.WU' });
    expect((await api.get(complaint.id)).version).toBe(1);

    for (const overrides of [{ assignee: 'wang.wu' }, {}]) {
      const intake = await call(t.app, tenant.adminKey, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody({ subjectStaff: ['wang.wu'], ...overrides }),
        headers: { 'x-on-behalf-of': 'wang.wu' },
      });
      expect(intake.statusCode, JSON.stringify(overrides)).toBe(409);
      expect(intake.json()).toMatchObject({ code: 'conflict_of_interest', staff: 'wang.wu' });
    }
    // Received by them, it is taken in when someone else owns it.
    const elsewhere = await api.create(
      { subjectStaff: ['wang.wu'], assignee: 'li.na' },
      { 'x-on-behalf-of': 'wang.wu' },
    );
    expect(elsewhere).toMatchObject({ receivedBy: 'wang.wu', assignee: 'li.na' });
  });

  it('refuses naming the owner as a subject unless the same change hands the complaint over', async () => {
    const complaint = await api.create({ assignee: 'zhao.lei' });
    const refused = await api.patch(complaint.id, { subjectStaff: ['zhao.lei'] });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'conflict_of_interest', staff: 'zhao.lei' });
    const moved = await api.patch(complaint.id, { subjectStaff: ['zhao.lei'], assignee: 'li.na' });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json()).toMatchObject({ subjectStaff: ['zhao.lei'], assignee: 'li.na' });
  });

  it.each([
    [{ subjectStaff: 'wang.wu' }],
    [{ subjectStaff: ['wang.wu', 'Wang.Wu'] }],
    [{ subjectStaff: [''] }],
    [{ subjectStaff: Array.from({ length: 21 }, (_, i) => `staff-${i}`) }],
  ])('refuses subjectStaff %o with 400', async (overrides) => {
    const res = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(overrides),
    });
    expect(res.statusCode).toBe(400);
    expect(
      res
        .json()
        .errors.map((e: Json) => e.field)
        .join(),
    ).toContain('body.subjectStaff');
  });
});

describe('recusal: declared conflicts of interest', () => {
  it('records a declaration, lists it, and refuses that person afterwards', async () => {
    const complaint = await api.create({ assignee: 'li.na' });
    const res = await declare(complaint.id, { staff: 'Zhao.Lei', reason: 'Neighbour of the customer' });
    expect(res.statusCode, res.body).toBe(201);
    const conflict = res.json();
    expect(conflict).toMatchObject({
      complaintId: complaint.id,
      staff: 'Zhao.Lei',
      reason: 'Neighbour of the customer',
      declaredBy: { type: 'api_key' },
    });
    expect(res.headers.location).toBe(`/v1/complaints/${complaint.id}/conflicts`);
    expect((await conflictsOf(complaint.reference)).json()).toEqual({ data: [conflict] });

    const refused = await handover(complaint.id, { to: 'zhao.lei', reason: 'Free today' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      code: 'conflict_of_interest',
      staff: 'zhao.lei',
      basis: 'declared_conflict',
    });
    expect(refused.json().detail).toContain('Neighbour of the customer');
    expect((await api.patch(complaint.id, { assignee: 'zhao.lei' })).json().code).toBe(
      'conflict_of_interest',
    );

    const again = await declare(complaint.id, { staff: 'zhao.lei', reason: 'Twice' });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('conflict_already_declared');

    const entry = (await api.timeline(complaint.id)).find((e) => e.type === 'complaint.conflict_declared');
    expect(entry?.data).toEqual({
      conflictId: conflict.id,
      staff: 'Zhao.Lei',
      reason: 'Neighbour of the customer',
    });
    const [event] = (await eventsOf(t, complaint.id)).filter((e) => e.type === 'complaint.conflict_declared');
    expect(event!.data).toMatchObject({ conflict, complaint: { id: complaint.id } });
    // Declaring a conflict records it beside the complaint; the complaint itself is unchanged.
    expect((await api.get(complaint.id)).version).toBe(1);
  });

  it('makes a conflicted owner hand the complaint over in the same step', async () => {
    const complaint = await api.create({ assignee: 'li.na' });
    const alone = await declare(complaint.id, { staff: 'li.na', reason: 'Her cousin complains' });
    expect(alone.statusCode).toBe(409);
    expect(alone.json()).toMatchObject({ code: 'conflict_of_interest', staff: 'li.na' });
    expect(alone.json().detail).toContain('handoverTo');
    expect((await conflictsOf(complaint.id)).json().data).toEqual([]);

    // Handing over to someone else with a conflict is refused just the same.
    await declare(complaint.id, { staff: 'zhao.lei', reason: 'Neighbour' });
    const toConflicted = await declare(complaint.id, {
      staff: 'li.na',
      reason: 'Her cousin complains',
      handoverTo: 'zhao.lei',
    });
    expect(toConflicted.json().code).toBe('conflict_of_interest');

    const res = await declare(complaint.id, {
      staff: 'li.na',
      reason: 'Her cousin complains',
      handoverTo: 'wang.wu',
    });
    expect(res.statusCode, res.body).toBe(201);
    const after = await api.get(complaint.id);
    expect(after.assignee).toBe('wang.wu');
    expect((await conflictsOf(complaint.id)).json().data.map((c: Json) => c.staff)).toEqual([
      'zhao.lei',
      'li.na',
    ]);
    const handedOver = (await api.timeline(complaint.id)).find((e) => e.type === 'complaint.handed_over');
    expect(handedOver?.data).toMatchObject({ from: 'li.na', to: 'wang.wu' });
    expect(handedOver?.data.reason).toContain('Her cousin complains');
  });

  it('refuses bad declarations with 400', async () => {
    const complaint = await api.create();
    for (const body of [
      {},
      { staff: 'zhao.lei' },
      { reason: 'Neighbour' },
      { staff: '', reason: 'Neighbour' },
      { staff: 'zhao.lei', reason: 'Neighbour', handoverTo: '' },
      { staff: 'zhao.lei', reason: 'Neighbour', severity: 'major' },
    ]) {
      const res = await declare(complaint.id, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
    expect((await conflictsOf(complaint.id)).json().data).toEqual([]);
  });

  it('keeps declarations to their tenant and to the right scopes', async () => {
    const complaint = await api.create();
    const body = { staff: 'zhao.lei', reason: 'Neighbour' };
    expect((await declare(complaint.id, body, null)).statusCode).toBe(401);
    expect((await conflictsOf(complaint.id, null)).statusCode).toBe(401);
    const reader = await tenant.keyWith('complaints:read');
    expect((await declare(complaint.id, body, reader)).statusCode).toBe(403);
    expect((await conflictsOf(complaint.id, reader)).statusCode).toBe(200);
    const policies = await tenant.keyWith('policies:manage');
    expect((await conflictsOf(complaint.id, policies)).statusCode).toBe(403);
    const other = await createTestTenant(t.tenancy);
    const foreign = await declare(complaint.id, body, other.adminKey);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().code).toBe('not_found');
    expect((await conflictsOf(complaint.id, other.adminKey)).statusCode).toBe(404);
    expect((await conflictsOf(complaint.id)).json().data).toEqual([]);
  });
});
