import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  complaintBody,
  createTestTenant,
  startTestApp,
  type TestApp,
  type TestTenant,
} from './harness.js';
import { complaintClient, daysAgo, eventsOf, type Json } from './intake-helpers.js';

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

const post = (key: string | null, json: unknown) =>
  call(t.app, key, { method: 'POST', url: '/v1/complaints', json });
const override = (id: string, json: unknown, key: string | null = tenant.adminKey) =>
  call(t.app, key, { method: 'POST', url: `/v1/complaints/${id}/acceptance-override`, json });

describe('acceptance windows', () => {
  it('takes in a complaint about an event older than its window and declines it at once, saying why', async () => {
    const complaint = await api.create({ category: 'billing', occurredAt: daysAgo(200) });
    expect(complaint).toMatchObject({
      status: 'rejected',
      category: 'billing',
      rejection: { code: 'outside_acceptance_window' },
      acceptanceOverride: null,
      nextDeadline: null,
      version: 2,
    });
    expect(complaint.rejection.detail).toContain("P5M acceptance window for 'billing' complaints");
    // Declined, not dropped: it is on record, numbered and findable.
    expect((await api.get(complaint.reference)).id).toBe(complaint.id);
    // No deadline of a declined complaint waits to breach.
    expect(await api.deadlines(complaint.id)).toEqual([]);

    const timeline = await api.timeline(complaint.id);
    expect(timeline.map((entry) => entry.type)).toEqual(['complaint.created', 'complaint.status_changed']);
    expect(timeline[1]).toMatchObject({
      changes: [{ field: 'status', before: 'received', after: 'rejected' }],
      data: {
        from: 'received',
        to: 'rejected',
        reasonCode: 'outside_acceptance_window',
        reason: complaint.rejection.detail,
      },
    });
    const events = await eventsOf(t, complaint.id);
    expect(events.map((e) => [e.type, e.sequence])).toEqual([
      ['complaint.created', 1],
      ['complaint.status_changed', 2],
    ]);
    expect(events[0]!.data.complaint.status).toBe('received');
    expect(events[1]!.data).toMatchObject({
      from: 'received',
      to: 'rejected',
      reasonCode: 'outside_acceptance_window',
      complaint: { status: 'rejected', rejection: complaint.rejection },
    });
  });

  it('accepts an event inside its window, one without occurredAt, and categories without a window', async () => {
    for (const overrides of [
      { category: 'billing', occurredAt: daysAgo(100) },
      { category: 'billing' },
      { category: 'contract', occurredAt: daysAgo(600) },
      { category: 'facilities', occurredAt: daysAgo(5_000) },
    ]) {
      const complaint = await api.create(overrides);
      expect(complaint, JSON.stringify(overrides)).toMatchObject({ status: 'received', rejection: null });
      expect(complaint.nextDeadline).not.toBeNull();
    }
    expect((await api.create({ category: 'contract', occurredAt: daysAgo(800) })).status).toBe('rejected');
  });

  it("follows the tenant's own windows", async () => {
    const own = await createTestTenant(t.tenancy);
    const ownApi = complaintClient(t, own.adminKey);
    await ownApi.settings({ acceptanceWindows: { facilities: 'P1M' } });
    expect((await ownApi.create({ category: 'facilities', occurredAt: daysAgo(45) })).status).toBe(
      'rejected',
    );
    // Billing has no window of its own any more.
    expect((await ownApi.create({ category: 'billing', occurredAt: daysAgo(400) })).status).toBe('received');
    // Another tenant keeps the seed values.
    expect((await api.create({ category: 'facilities', occurredAt: daysAgo(45) })).status).toBe('received');
  });
});

describe('complainant relation', () => {
  it('declines a complainant who is not a stakeholder unless authorised', async () => {
    const declined = await api.create({ complainantRelation: 'other' });
    expect(declined).toMatchObject({
      status: 'rejected',
      complainantRelation: 'other',
      complainantAuthorised: false,
      rejection: { code: 'not_a_stakeholder' },
    });
    expect(await api.deadlines(declined.id)).toEqual([]);
    const authorised = await api.create({ complainantRelation: 'other', complainantAuthorised: true });
    expect(authorised).toMatchObject({ status: 'received', complainantAuthorised: true, rejection: null });
    for (const relation of ['self', 'immediate_family']) {
      expect((await api.create({ complainantRelation: relation })).status).toBe('received');
    }
    expect((await api.create()).complainantRelation).toBe('self');
  });

  it('declines a proxy complaint whose representative shows no authority, and takes in one who does', async () => {
    const declined = await api.create({ complainantRelation: 'representative' });
    expect(declined).toMatchObject({
      status: 'rejected',
      complainantRelation: 'representative',
      complainantAuthorised: false,
      rejection: { code: 'representative_not_authorised' },
    });
    expect(await api.deadlines(declined.id)).toEqual([]);
    const authorised = await api.create({
      complainantRelation: 'representative',
      complainantAuthorised: true,
    });
    expect(authorised).toMatchObject({ status: 'received', rejection: null });
    expect((await api.deadlines(authorised.id)).length).toBeGreaterThan(0);
    // A supervisor takes the declined one in, as any rejection at intake.
    const res = await override(declined.id, {
      reason: 'The power of attorney arrived by post',
      supervisor: 'li.na',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'received',
      acceptanceOverride: { rejectionCode: 'representative_not_authorised' },
    });
  });

  it.each([
    [{ complainantRelation: 'stranger' }, 'body.complainantRelation'],
    [{ complainantRelation: null }, 'body.complainantRelation'],
    [{ complainantAuthorised: 'yes' }, 'body.complainantAuthorised'],
  ])('refuses %o with 400 naming the field', async (overrides, field) => {
    const res = await post(tenant.adminKey, complaintBody(overrides));
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().code).toBe('validation_failed');
    expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field);
  });
});

describe('POST /v1/complaints/{id}/acceptance-override', () => {
  it('takes a declined complaint in: received, with its deadlines from now, on the timeline and evented', async () => {
    const declined = await api.create({ category: 'billing', occurredAt: daysAgo(200) });
    const before = Date.now();
    const res = await override(declined.id, {
      reason: 'The customer only learnt of the charge last week',
      supervisor: 'li.na',
    });
    expect(res.statusCode, res.body).toBe(200);
    const taken = res.json();
    expect(res.headers.etag).toBe(`"${taken.version}"`);
    expect(taken).toMatchObject({
      status: 'received',
      rejection: null,
      acceptanceOverride: {
        rejectionCode: 'outside_acceptance_window',
        reason: 'The customer only learnt of the charge last week',
        supervisor: 'li.na',
      },
      version: 3,
    });
    expect(Date.parse(taken.acceptanceOverride.overriddenAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(taken.nextDeadline).toMatchObject({ kind: 'online_reply' });
    const deadlines = await api.deadlines(declined.id);
    expect(deadlines.map((d) => [d.kind, d.status]).sort()).toEqual([
      ['first_contact', 'pending'],
      ['online_reply', 'pending'],
      ['resolution', 'pending'],
    ]);
    // The clocks start when the complaint is taken in, not when it was first declined.
    for (const deadline of deadlines)
      expect(Date.parse(deadline.startsAt)).toBeGreaterThanOrEqual(before - 1000);

    const entry = (await api.timeline(declined.id)).at(-1)!;
    expect(entry).toMatchObject({
      type: 'complaint.acceptance_overridden',
      changes: [
        { field: 'status', before: 'rejected', after: 'received' },
        { field: 'rejection', before: declined.rejection, after: null },
      ],
      data: { rejectionCode: 'outside_acceptance_window', supervisor: 'li.na' },
    });
    const events = (await eventsOf(t, declined.id)).slice(2);
    expect(events.map((e) => e.type)).toEqual([
      'complaint.status_changed',
      'complaint.acceptance_overridden',
    ]);
    expect(events[0]!.data).toMatchObject({ from: 'rejected', to: 'received' });
    expect(events[1]!.data).toMatchObject({
      rejection: declined.rejection,
      supervisor: 'li.na',
      complaint: { status: 'received', acceptanceOverride: { supervisor: 'li.na' } },
    });

    // Taken in, it follows the normal life cycle.
    const ack = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${declined.id}/transitions`,
      json: { to: 'acknowledged' },
    });
    expect(ack.statusCode, ack.body).toBe(200);
  });

  it('reports a major complaint up once it is taken in, not while declined', async () => {
    const declined = await api.create({ category: 'fire', complainantRelation: 'other' });
    expect(declined).toMatchObject({
      status: 'rejected',
      severity: 'major',
      majorReasons: ['safety_category'],
      escalationLevel: 0,
    });
    expect(await api.escalations(declined.id)).toEqual([]);
    const taken = (
      await override(declined.id, { reason: 'Authority shown in person', supervisor: 'li.na' })
    ).json();
    expect(taken).toMatchObject({ status: 'received', escalationLevel: 2 });
    expect((await api.escalations(declined.id)).map((e) => e.trigger)).toEqual(['major']);
    expect((await api.deadlines(declined.id)).map((d) => d.kind)).toContain('major_report');
  });

  it('refuses complaints the acceptance checks did not decline', async () => {
    const declined = await api.create({ complainantRelation: 'other' });
    const body = { reason: 'Checked', supervisor: 'li.na' };
    expect((await override(declined.id, body)).statusCode).toBe(200);
    const again = await override(declined.id, body);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'not_rejected_at_intake', currentStatus: 'received' });

    const accepted = await api.create();
    expect((await override(accepted.id, body)).json().code).toBe('not_rejected_at_intake');
    // A complaint rejected by a handler was not declined at intake: its rejection stands.
    await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${accepted.id}/transitions`,
      json: { to: 'rejected', reason: 'Duplicate of C-000001' },
    });
    const handRejected = await override(accepted.id, body);
    expect(handRejected.statusCode).toBe(409);
    expect(handRejected.json()).toMatchObject({ code: 'not_rejected_at_intake', currentStatus: 'rejected' });
  });

  it('refuses bad bodies with 400, writing nothing', async () => {
    const declined = await api.create({ complainantRelation: 'other' });
    for (const body of [
      {},
      { reason: 'Checked' },
      { supervisor: 'li.na' },
      { reason: '', supervisor: 'li.na' },
      { reason: 'Checked', supervisor: 'x'.repeat(201) },
      { reason: 'Checked', supervisor: 'li.na', status: 'received' },
    ]) {
      const res = await override(declined.id, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
    expect((await api.get(declined.id)).status).toBe('rejected');
  });

  it('needs complaints:write and keeps to the tenant', async () => {
    const declined = await api.create({ complainantRelation: 'other' });
    const body = { reason: 'Checked', supervisor: 'li.na' };
    const noKey = await override(declined.id, body, null);
    expect(noKey.statusCode).toBe(401);
    expect(noKey.json().code).toBe('unauthenticated');
    const reader = await tenant.keyWith('complaints:read');
    const readOnly = await override(declined.id, body, reader);
    expect(readOnly.statusCode).toBe(403);
    expect(readOnly.json()).toMatchObject({ code: 'insufficient_scope', requiredScope: 'complaints:write' });
    const other = await createTestTenant(t.tenancy);
    const foreign = await override(declined.id, body, other.adminKey);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().code).toBe('not_found');
    expect((await api.get(declined.id)).status).toBe('rejected');
  });
});

describe('classification', () => {
  it('is recorded at intake', async () => {
    const complaint = await api.create({
      responsibility: 'upstream',
      upstreamParty: 'Otis Elevators',
      needType: 'immediate',
      liability: { finding: 'not_liable', reason: 'third_party', note: 'The lift maker’s part failed' },
    });
    expect(complaint).toMatchObject({
      responsibility: 'upstream',
      upstreamParty: 'Otis Elevators',
      needType: 'immediate',
      liability: { finding: 'not_liable', reason: 'third_party', note: 'The lift maker’s part failed' },
    });
    const plain = await api.create();
    expect(plain).toMatchObject({
      responsibility: null,
      upstreamParty: null,
      needType: null,
      liability: null,
    });
    const liable = await api.create({ responsibility: 'own', liability: { finding: 'liable' } });
    expect(liable.liability).toEqual({ finding: 'liable', reason: null, note: null });
  });

  it.each([
    ['upstream without a party', { responsibility: 'upstream' }, 'body.upstreamParty'],
    ['a party of our own complaint', { responsibility: 'own', upstreamParty: 'Otis' }, 'body.upstreamParty'],
    ['a party without responsibility', { upstreamParty: 'Otis' }, 'body.upstreamParty'],
    ['an unknown responsibility', { responsibility: 'theirs' }, 'body.responsibility'],
    ['an unknown need', { needType: 'urgent' }, 'body.needType'],
    [
      'not liable without a reason',
      { liability: { finding: 'not_liable', note: 'x' } },
      'body.liability.reason',
    ],
    [
      'not liable without a note',
      { liability: { finding: 'not_liable', reason: 'force_majeure' } },
      'body.liability.note',
    ],
    [
      'an unknown reason',
      { liability: { finding: 'not_liable', reason: 'bad_luck', note: 'x' } },
      'body.liability.reason',
    ],
    ['a reason for liable', { liability: { finding: 'liable', reason: 'third_party' } }, 'body.liability'],
    ['an unknown finding', { liability: { finding: 'maybe' } }, 'body.liability.finding'],
  ])('refuses %s with 400 naming the field', async (_label, overrides, field) => {
    const res = await post(tenant.adminKey, complaintBody(overrides));
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().code).toBe('validation_failed');
    const fields: string[] = res.json().errors.map((e: { field: string }) => e.field);
    expect(
      fields.some((f) => f === field || f.startsWith(`${field}.`)),
      fields.join(),
    ).toBe(true);
  });

  it('changes by PATCH with If-Match, checked as it will stand, and announced as complaint.classified', async () => {
    const complaint = await api.create();
    const upstream = await api.patch(complaint.id, {
      responsibility: 'upstream',
      upstreamParty: 'Otis Elevators',
      needType: 'long_term',
    });
    expect(upstream.statusCode, upstream.body).toBe(200);
    expect(upstream.json()).toMatchObject({ responsibility: 'upstream', upstreamParty: 'Otis Elevators' });

    // Moving away from upstream clears the party it was forwarded to.
    const own = await api.patch(complaint.id, { responsibility: 'own' });
    expect(own.json()).toMatchObject({ responsibility: 'own', upstreamParty: null, needType: 'long_term' });

    for (const body of [{ responsibility: 'upstream' }, { upstreamParty: 'Otis' }]) {
      const res = await api.patch(complaint.id, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toMatchObject({
        code: 'validation_failed',
        errors: [{ field: 'body.upstreamParty' }],
      });
    }

    const finding = { finding: 'not_liable', reason: 'customer_intent', note: 'CCTV shows the damage' };
    const liability = await api.patch(complaint.id, { liability: finding });
    expect(liability.json().liability).toEqual(finding);
    const cleared = await api.patch(complaint.id, { liability: null });
    expect(cleared.json().liability).toBeNull();
    const priority = await api.patch(complaint.id, { priority: 'high' });
    expect(priority.statusCode).toBe(200);

    const classified = (await eventsOf(t, complaint.id)).filter((e) => e.type === 'complaint.classified');
    expect(classified.map((e) => e.data.changes.map((c: Json) => c.field))).toEqual([
      ['responsibility', 'upstreamParty', 'needType'],
      ['responsibility', 'upstreamParty'],
      ['liability'],
      ['liability'],
    ]);
    expect(classified[2]!.data.changes[0]).toEqual({ field: 'liability', before: null, after: finding });
    expect(classified[0]!.data.complaint).toMatchObject({ upstreamParty: 'Otis Elevators' });

    const stale = await call(t.app, tenant.adminKey, {
      method: 'PATCH',
      url: `/v1/complaints/${complaint.id}`,
      headers: { 'if-match': '"1"' },
      json: { needType: 'emotional' },
    });
    expect(stale.statusCode).toBe(412);
  });
});
