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

/** A tenant of its own, for specs that count or list complaints. */
async function freshTenant() {
  const own = await createTestTenant(t.tenancy);
  return { own, ownApi: complaintClient(t, own.adminKey) };
}

/** Asserts a complaint was made major and reported up: level 2, escalation, report-up deadline. */
async function expectReportedUp(id: string, reasons: string[]) {
  const complaint = await api.get(id);
  expect(complaint).toMatchObject({ severity: 'major', majorReasons: reasons, escalationLevel: 2 });
  expect(complaint.majorSince).not.toBeNull();
  const escalations = await api.escalations(id);
  expect(escalations.map((e) => [e.trigger, e.level])).toEqual([['major', 2]]);
  const reports = (await api.deadlines(id)).filter((d) => d.kind === 'major_report');
  expect(reports.map((d) => d.status)).toEqual(['pending']);
  return { complaint, escalation: escalations[0]! };
}

describe('major at intake', () => {
  it('makes a complaint in a safety category major, reported up with the reason named', async () => {
    const complaint = await api.create({ category: 'lift_entrapment' });
    expect(complaint).toMatchObject({ severity: 'major', majorReasons: ['safety_category'], version: 1 });
    const { escalation } = await expectReportedUp(complaint.id, ['safety_category']);
    expect(escalation.reason).toBe(
      'Major complaint (safety category): reported up to the department manager.',
    );
    const events = await eventsOf(t, complaint.id);
    expect(events.map((e) => e.type)).toEqual(['complaint.created', 'complaint.escalated']);
    expect(events[0]!.data.complaint).toMatchObject({ severity: 'major', majorReasons: ['safety_category'] });
  });

  it('names every rule that fires, by hand or by flag', async () => {
    expect((await api.create({ severity: 'major' })).majorReasons).toEqual(['manual']);
    expect((await api.create({ mediaExposure: true })).majorReasons).toEqual(['media_exposure']);
    expect((await api.create({ regulatorInvolved: true })).majorReasons).toEqual(['regulator_involved']);
    // A rule makes it major even when the caller said general.
    const all = await api.create({
      severity: 'general',
      category: 'flooding',
      mediaExposure: true,
      regulatorInvolved: true,
    });
    expect(all).toMatchObject({
      severity: 'major',
      majorReasons: ['safety_category', 'media_exposure', 'regulator_involved'],
      mediaExposure: true,
      regulatorInvolved: true,
    });
    const general = await api.create();
    expect(general).toMatchObject({
      severity: 'general',
      majorReasons: [],
      majorSince: null,
      escalationLevel: 0,
    });
  });

  it.each([
    ['premisesBlocked', 'premises_blocked', 'premises blocked'],
    ['highValueReturn', 'high_value_return', 'return of high-value goods'],
    ['negativeMediaCoverage', 'negative_media_coverage', 'negative media coverage'],
  ])('makes a complaint with %s major, reported up, and shows the flag', async (flag, reason, words) => {
    const complaint = await api.create({ [flag]: true });
    expect(complaint).toMatchObject({ severity: 'major', majorReasons: [reason], [flag]: true });
    const { escalation } = await expectReportedUp(complaint.id, [reason]);
    expect(escalation.reason).toBe(`Major complaint (${words}): reported up to the department manager.`);
    const events = await eventsOf(t, complaint.id);
    expect(events[0]!.data.complaint).toMatchObject({ majorReasons: [reason], [flag]: true });
    // Off by default.
    expect((await api.create())[flag]).toBe(false);
  });

  it("follows the tenant's own safety categories", async () => {
    const { ownApi } = await freshTenant();
    await ownApi.settings({ safetyCategories: ['gas_leak'] });
    expect((await ownApi.create({ category: 'gas_leak' })).majorReasons).toEqual(['safety_category']);
    expect((await ownApi.create({ category: 'fire' })).severity).toBe('general');
  });

  it.each([
    [{ mediaExposure: 'yes' }, 'body.mediaExposure'],
    [{ regulatorInvolved: 1 }, 'body.regulatorInvolved'],
    [{ premisesBlocked: 'true' }, 'body.premisesBlocked'],
    [{ highValueReturn: null }, 'body.highValueReturn'],
    [{ negativeMediaCoverage: 0 }, 'body.negativeMediaCoverage'],
    [{ incidentKey: '' }, 'body.incidentKey'],
    [{ incidentKey: 'x'.repeat(201) }, 'body.incidentKey'],
  ])('refuses %o with 400 naming the field', async (overrides, field) => {
    const res = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(overrides),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field);
  });
});

describe('repeat complaints', () => {
  it('makes a second complaint of the same customer in the same category major', async () => {
    const customer = { name: 'Chen Jie', externalId: `crm-repeat-${Date.now()}` };
    const first = await api.create({ customer, category: 'billing' });
    expect(first.severity).toBe('general');
    const second = await api.create({ customer, category: 'billing' });
    expect(second.majorReasons).toEqual(['repeat']);
    await expectReportedUp(second.id, ['repeat']);
    // The first complaint is what the second repeats; it stays as it was.
    expect((await api.get(first.id)).severity).toBe('general');
    // Another category, or another customer, is no repeat.
    expect((await api.create({ customer, category: 'facilities' })).severity).toBe('general');
    expect(
      (await api.create({ customer: { externalId: `${customer.externalId}-other` }, category: 'billing' }))
        .severity,
    ).toBe('general');
  });

  it('knows a customer by phone digits or email when there is no external id', async () => {
    const { ownApi } = await freshTenant();
    await ownApi.create({ customer: { phone: '+86 139 1111 2222' }, category: 'billing' });
    const byPhone = await ownApi.create({ customer: { phone: '+86-139-1111-2222' }, category: 'billing' });
    expect(byPhone.majorReasons).toEqual(['repeat']);
    await ownApi.create({ customer: { email: 'Zhou.Min@example.com' }, category: 'contract' });
    const byEmail = await ownApi.create({
      customer: { email: 'zhou.min@example.com' },
      category: 'contract',
    });
    expect(byEmail.majorReasons).toEqual(['repeat']);
    // Anonymous complaints and complaints without a category have no repeats.
    await ownApi.create({ customer: {}, category: 'billing' });
    expect((await ownApi.create({ customer: {}, category: 'billing' })).severity).toBe('general');
    await ownApi.create({ customer: { phone: '+86 139 3333 4444' }, category: undefined });
    expect(
      (await ownApi.create({ customer: { phone: '+86 139 3333 4444' }, category: undefined })).severity,
    ).toBe('general');
  });

  it('finds a repeat when an edit gives the complaint its category or its customer', async () => {
    const { ownApi } = await freshTenant();
    await ownApi.create({ customer: { phone: '+86 139 5555 6666' }, category: 'network' });
    // Recorded first, classified later (DOMAIN §4).
    const unclassified = await ownApi.create({
      customer: { phone: '+86 139 5555 6666' },
      category: undefined,
    });
    expect(unclassified.severity).toBe('general');
    const classified = (await ownApi.patch(unclassified.id, { category: 'network' })).json();
    expect(classified).toMatchObject({ severity: 'major', majorReasons: ['repeat'], escalationLevel: 2 });
    // The customer named later, in a category they complained in before.
    const nameless = await ownApi.create({ customer: {}, category: 'network' });
    expect(nameless.severity).toBe('general');
    const named = (await ownApi.patch(nameless.id, { customer: { phone: '+86-139-5555-6666' } })).json();
    expect(named).toMatchObject({ severity: 'major', majorReasons: ['repeat'] });
    // A complaint is no repeat of itself, and another category is none either.
    const alone = await ownApi.create({ customer: { phone: '+86 139 7777 8888' }, category: undefined });
    expect((await ownApi.patch(alone.id, { category: 'network' })).json().severity).toBe('general');
    expect((await ownApi.patch(alone.id, { category: 'billing' })).json().severity).toBe('general');
  });

  it("counts only within the tenant's repeat window", async () => {
    const { ownApi } = await freshTenant();
    const customer = { externalId: 'crm-window' };
    await ownApi.create({ customer, category: 'billing', receivedAt: daysAgo(40) });
    expect((await ownApi.create({ customer, category: 'billing' })).severity).toBe('general');
    await ownApi.settings({ repeatWindowDays: 60 });
    expect((await ownApi.create({ customer, category: 'billing' })).majorReasons).toEqual(['repeat']);
  });
});

describe('collective complaints', () => {
  it('counts complainants, not complaints: one customer complaining three times is no collective', async () => {
    const incidentKey = `outage-street-7-${Date.now()}`;
    const customer = { name: 'Sun Li', externalId: `crm-collective-${Date.now()}` };
    for (let i = 0; i < 3; i += 1) {
      // The second and third are repeats of the first, but none is a collective complaint.
      const complaint = await api.create({ incidentKey, customer });
      expect(complaint.majorReasons, `complaint ${i + 1}`).not.toContain('collective');
    }
    // A complaint without any identity counts as a complainant of its own, and a third one tips it.
    await api.create({ incidentKey, customer: {} });
    const third = await api.create({ incidentKey });
    expect(third).toMatchObject({ severity: 'major', majorReasons: ['collective'] });
  });

  it('makes every complaint linked to an incident major once the threshold is reached', async () => {
    const incidentKey = `flood-building-3-${Date.now()}`;
    const first = await api.create({ incidentKey });
    const second = await api.create({ incidentKey });
    expect([first.severity, second.severity]).toEqual(['general', 'general']);
    const third = await api.create({ incidentKey });
    expect(third).toMatchObject({ severity: 'major', majorReasons: ['collective'], incidentKey });
    for (const complaint of [first, second, third]) await expectReportedUp(complaint.id, ['collective']);

    // The earlier ones were made major by the rule: the system acted, naming what tipped it.
    const madeMajor = (await eventsOf(t, first.id)).filter((e) => e.type === 'complaint.made_major');
    expect(madeMajor).toHaveLength(1);
    expect(madeMajor[0]!.data).toMatchObject({
      reasons: ['collective'],
      incidentKey,
      linkedComplaints: 3,
      triggeredBy: third.reference,
      actor: { type: 'system' },
      complaint: { severity: 'major', majorReasons: ['collective'] },
    });
    const entry = (await api.timeline(first.id)).find((e) => e.type === 'complaint.made_major');
    expect(entry).toMatchObject({
      changes: [
        { field: 'severity', before: 'general', after: 'major' },
        { field: 'majorReasons', before: [], after: ['collective'] },
      ],
    });

    // Later complaints about the matter arrive major; the earlier ones are not marked again.
    const fourth = await api.create({ incidentKey });
    expect(fourth.majorReasons).toEqual(['collective']);
    expect((await eventsOf(t, first.id)).filter((e) => e.type === 'complaint.made_major')).toHaveLength(1);
    const listed = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url: `/v1/complaints?incidentKey=${incidentKey}`,
    });
    expect(listed.json().data).toHaveLength(4);
  });

  it('adds the reason to a complaint already major, without a second escalation', async () => {
    const incidentKey = `outage-${Date.now()}`;
    const manual = await api.create({ incidentKey, severity: 'major' });
    await api.create({ incidentKey });
    await api.create({ incidentKey });
    const after = await api.get(manual.id);
    expect(after.majorReasons).toEqual(['manual', 'collective']);
    expect((await api.escalations(manual.id)).map((e) => e.trigger)).toEqual(['major']);
  });

  it('does not count declined complaints, until a supervisor takes one in', async () => {
    const incidentKey = `noise-${Date.now()}`;
    const first = await api.create({ incidentKey });
    const declined = await api.create({ incidentKey, complainantRelation: 'other' });
    const third = await api.create({ incidentKey });
    expect([first, declined, third].map((c) => c.severity)).toEqual(['general', 'general', 'general']);
    const taken = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${declined.id}/acceptance-override`,
      json: { reason: 'A neighbour with the owner’s letter', supervisor: 'li.na' },
    });
    expect(taken.statusCode, taken.body).toBe(200);
    expect(taken.json()).toMatchObject({
      severity: 'major',
      majorReasons: ['collective'],
      escalationLevel: 2,
    });
    for (const complaint of [first, declined, third]) await expectReportedUp(complaint.id, ['collective']);
  });

  it('counts complaints arriving at the same moment without missing any', async () => {
    const { own } = await freshTenant();
    const incidentKey = 'explosion-gas-main';
    const created = await Promise.all(
      Array.from({ length: 6 }, () =>
        call(t.app, own.adminKey, {
          method: 'POST',
          url: '/v1/complaints',
          json: complaintBody({ incidentKey }),
        }),
      ),
    );
    expect(created.map((res) => res.statusCode)).toEqual([201, 201, 201, 201, 201, 201]);
    const { rows } = await t.database.pool.query(
      `select severity, major_reasons::text[] as reasons, escalation_level from complaints where tenant_id = $1`,
      [own.tenantId],
    );
    expect(rows).toHaveLength(6);
    for (const row of rows)
      expect(row).toEqual({ severity: 'major', reasons: ['collective'], escalation_level: 2 });
  });

  it("follows the tenant's threshold", async () => {
    const { ownApi } = await freshTenant();
    await ownApi.settings({ collectiveThreshold: 2 });
    const first = await ownApi.create({ incidentKey: 'lift-2' });
    expect((await ownApi.create({ incidentKey: 'lift-2' })).majorReasons).toEqual(['collective']);
    expect((await ownApi.get(first.id)).majorReasons).toEqual(['collective']);
  });
});

describe('becoming major by an edit', () => {
  it('makes a complaint major when a flag is set or it moves to a safety category', async () => {
    const flagged = await api.create();
    const res = await api.patch(flagged.id, { mediaExposure: true });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      severity: 'major',
      majorReasons: ['media_exposure'],
      escalationLevel: 2,
    });
    await expectReportedUp(flagged.id, ['media_exposure']);
    const events = (await eventsOf(t, flagged.id)).map((e) => e.type);
    expect(events).toEqual([
      'complaint.created',
      'complaint.updated',
      'complaint.made_major',
      'complaint.escalated',
    ]);

    const moved = await api.create();
    const fire = await api.patch(moved.id, { category: 'fire' });
    expect(fire.json()).toMatchObject({ severity: 'major', majorReasons: ['safety_category'] });
    // Another reason joins a major complaint without a second escalation.
    const regulator = await api.patch(moved.id, { regulatorInvolved: true });
    expect(regulator.json().majorReasons).toEqual(['safety_category', 'regulator_involved']);
    expect((await api.escalations(moved.id)).map((e) => e.trigger)).toEqual(['major']);

    // The handbook's other triggers, by an edit: each on the timeline as the field it is.
    const blocked = await api.create();
    const res2 = await api.patch(blocked.id, { premisesBlocked: true });
    expect(res2.statusCode, res2.body).toBe(200);
    expect(res2.json()).toMatchObject({
      severity: 'major',
      majorReasons: ['premises_blocked'],
      premisesBlocked: true,
    });
    await expectReportedUp(blocked.id, ['premises_blocked']);
    const more = await api.patch(blocked.id, { highValueReturn: true, negativeMediaCoverage: true });
    expect(more.json().majorReasons).toEqual([
      'premises_blocked',
      'high_value_return',
      'negative_media_coverage',
    ]);
    const timeline = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url: `/v1/complaints/${blocked.id}/timeline`,
    });
    const fields = timeline
      .json()
      .data.flatMap((entry: { changes?: Array<{ field: string }> | null }) =>
        (entry.changes ?? []).map((c) => c.field),
      );
    expect(fields).toEqual(
      expect.arrayContaining(['premisesBlocked', 'highValueReturn', 'negativeMediaCoverage']),
    );
  });

  it('links an edited complaint to an incident and makes the matter collective', async () => {
    const incidentKey = `leak-${Date.now()}`;
    const first = await api.create({ incidentKey });
    const second = await api.create({ incidentKey });
    const unlinked = await api.create();
    const res = await api.patch(unlinked.id, { incidentKey });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ incidentKey, severity: 'major', majorReasons: ['collective'] });
    expect(res.headers.etag).toBe(`"${res.json().version}"`);
    for (const complaint of [first, second, unlinked]) await expectReportedUp(complaint.id, ['collective']);
  });

  it('makes a major complaint general again by hand, and refuses to in an edit that makes it major', async () => {
    const complaint = await api.create({ mediaExposure: true });
    const contradictory = await api.patch(complaint.id, { severity: 'general', regulatorInvolved: true });
    expect(contradictory.statusCode).toBe(400);
    expect(contradictory.json().errors).toEqual([
      {
        field: 'body.severity',
        message: "cannot be 'general' in an edit that makes the complaint major (regulator involved)",
      },
    ]);
    const general = await api.patch(complaint.id, { severity: 'general' });
    expect(general.json()).toMatchObject({ severity: 'general', majorReasons: [], majorSince: null });
    expect((await api.deadlines(complaint.id)).find((d) => d.kind === 'major_report')?.status).toBe(
      'cancelled',
    );
    const update = (await api.timeline(complaint.id)).at(-1)!;
    expect(update.changes).toEqual([
      { field: 'severity', before: 'major', after: 'general' },
      { field: 'majorReasons', before: ['media_exposure'], after: [] },
    ]);
  });
});

describe('GET /v1/major-complaints', () => {
  it('lists major complaints only, most recently major first, with their reasons, in pages', async () => {
    const { own, ownApi } = await freshTenant();
    const fire = await ownApi.create({ category: 'fire' });
    await ownApi.create();
    const media = await ownApi.create({ mediaExposure: true });
    const later = await ownApi.create();
    await ownApi.patch(later.id, { severity: 'major' });
    const list = (query: string, key = own.adminKey) =>
      call(t.app, key, { method: 'GET', url: `/v1/major-complaints${query}` });

    const all = await list('');
    expect(all.statusCode).toBe(200);
    expect(all.json().data.map((c: Json) => [c.id, c.majorReasons])).toEqual([
      [later.id, ['manual']],
      [media.id, ['media_exposure']],
      [fire.id, ['safety_category']],
    ]);
    expect(all.json().nextCursor).toBeNull();

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...res.json().data.map((c: Json) => c.id));
      cursor = res.json().nextCursor;
    } while (cursor);
    expect(seen).toEqual([later.id, media.id, fire.id]);

    expect((await list('?reason=safety_category')).json().data.map((c: Json) => c.id)).toEqual([fire.id]);
    await call(t.app, own.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${media.id}/transitions`,
      json: { to: 'withdrawn', reason: 'Settled' },
    });
    expect((await list('?status=withdrawn')).json().data.map((c: Json) => c.id)).toEqual([media.id]);

    // Made general again, it leaves the file.
    await ownApi.patch(fire.id, { severity: 'general' });
    expect((await list('')).json().data.map((c: Json) => c.id)).toEqual([later.id, media.id]);
  });

  it('refuses bad queries with 400', async () => {
    for (const query of ['reason=scary', 'limit=0', 'limit=101', 'status=lost', 'page=2']) {
      const res = await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/major-complaints?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
    const cursor = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url: '/v1/major-complaints?cursor=nope',
    });
    expect(cursor.statusCode).toBe(400);
    expect(cursor.json().code).toBe('invalid_cursor');
  });

  it('needs complaints:read and shows only the tenant’s own', async () => {
    const mine = await api.create({ category: 'fire' });
    expect((await call(t.app, null, { method: 'GET', url: '/v1/major-complaints' })).statusCode).toBe(401);
    const policies = await tenant.keyWith('policies:manage');
    const forbidden = await call(t.app, policies, { method: 'GET', url: '/v1/major-complaints' });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ code: 'insufficient_scope', requiredScope: 'complaints:read' });
    const reader = await tenant.keyWith('complaints:read');
    const ours = await call(t.app, reader, { method: 'GET', url: '/v1/major-complaints?limit=100' });
    expect(ours.json().data.map((c: Json) => c.id)).toContain(mine.id);
    const { own } = await freshTenant();
    const theirs = await call(t.app, own.adminKey, { method: 'GET', url: '/v1/major-complaints' });
    expect(theirs.json()).toEqual({ data: [], nextCursor: null });
  });
});
