import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  complaintBody,
  createTestTenant,
  startTestApp,
  type TestApp,
  type TestTenant,
} from './harness.js';
import { viewsInSql } from './sql-views.js';

let t: TestApp;
let tenant: TestTenant;
let other: TestTenant;
let manager: string;
let writer: string;

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTestTenant(t.tenancy);
  other = await createTestTenant(t.tenancy);
  manager = await tenant.keyWith('policies:manage');
  writer = await tenant.keyWith('complaints:read', 'complaints:write');
});
afterAll(() => t.close());

const shanghai = {
  name: 'Shanghai office',
  timeZone: 'Asia/Shanghai',
  weeklyHours: Object.fromEntries(
    ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => [
      day,
      [
        { start: '09:00', end: '12:00' },
        { start: '13:00', end: '18:00' },
      ],
    ]),
  ),
  holidays: [{ date: '2026-10-01', name: '国庆节' }],
  extraWorkingDays: [{ date: '2026-09-27', name: '调休' }],
};

describe('/v1/calendars', () => {
  it('creates, reads, replaces with If-Match and deletes a calendar', async () => {
    const created = await call(t.app, manager, { method: 'POST', url: '/v1/calendars', json: shanghai });
    expect(created.statusCode, created.body).toBe(201);
    const calendar = created.json();
    expect(calendar).toMatchObject({ name: 'Shanghai office', timeZone: 'Asia/Shanghai', version: 1 });
    expect(created.headers.location).toBe(`/v1/calendars/${calendar.id}`);
    expect(
      (await call(t.app, manager, { method: 'GET', url: `/v1/calendars/${calendar.id}` })).json(),
    ).toEqual(calendar);
    const listed = await call(t.app, manager, { method: 'GET', url: '/v1/calendars' });
    expect(listed.json().data.map((c: { id: string }) => c.id)).toContain(calendar.id);

    const noMatch = await call(t.app, manager, {
      method: 'PUT',
      url: `/v1/calendars/${calendar.id}`,
      json: shanghai,
    });
    expect(noMatch.statusCode).toBe(428);
    const replaced = await call(t.app, manager, {
      method: 'PUT',
      url: `/v1/calendars/${calendar.id}`,
      headers: { 'if-match': '"1"' },
      json: { ...shanghai, name: 'Renamed' },
    });
    expect(replaced.json()).toMatchObject({ name: 'Renamed', version: 2 });
    const stale = await call(t.app, manager, {
      method: 'PUT',
      url: `/v1/calendars/${calendar.id}`,
      headers: { 'if-match': '"1"' },
      json: shanghai,
    });
    expect(stale.statusCode).toBe(412);
    expect(
      (await call(t.app, manager, { method: 'DELETE', url: `/v1/calendars/${calendar.id}` })).statusCode,
    ).toBe(204);
    expect(
      (await call(t.app, manager, { method: 'GET', url: `/v1/calendars/${calendar.id}` })).statusCode,
    ).toBe(404);
  });

  it.each([
    ['unknown time zone', { timeZone: 'Mars/Olympus' }],
    ['bad time', { weeklyHours: { monday: [{ start: '9am', end: '17:00' }] } }],
    ['start after end', { weeklyHours: { monday: [{ start: '17:00', end: '09:00' }] } }],
    [
      'overlapping intervals',
      {
        weeklyHours: {
          monday: [
            { start: '09:00', end: '13:00' },
            { start: '12:00', end: '18:00' },
          ],
        },
      },
    ],
    ['no working time', { weeklyHours: {}, extraWorkingDays: [] }],
    ['bad date', { holidays: [{ date: '2026-02-30', name: null }] }],
    ['holiday and working day', { holidays: [{ date: '2026-09-27', name: null }] }],
    ['unknown weekday', { weeklyHours: { funday: [{ start: '09:00', end: '17:00' }] } }],
  ])('refuses a calendar with %s', async (_label, overrides) => {
    const res = await call(t.app, manager, {
      method: 'POST',
      url: '/v1/calendars',
      json: { ...shanghai, ...overrides },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('validation_failed');
  });

  it('keeps calendars to their tenant and to policies:manage', async () => {
    const theirs = (
      await call(t.app, other.adminKey, { method: 'POST', url: '/v1/calendars', json: shanghai })
    ).json();
    expect(
      (await call(t.app, manager, { method: 'GET', url: `/v1/calendars/${theirs.id}` })).statusCode,
    ).toBe(404);
    expect(
      (await call(t.app, manager, { method: 'DELETE', url: `/v1/calendars/${theirs.id}` })).statusCode,
    ).toBe(404);
    expect((await call(t.app, writer, { method: 'GET', url: '/v1/calendars' })).statusCode).toBe(403);
    expect(
      (await call(t.app, null, { method: 'POST', url: '/v1/calendars', json: shanghai })).statusCode,
    ).toBe(401);
  });
});

describe('/v1/sla-policies', () => {
  it('starts every tenant with a default policy holding the seed targets', async () => {
    const fresh = await createTestTenant(t.tenancy);
    const res = await call(t.app, fresh.adminKey, { method: 'GET', url: '/v1/sla-policies' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual([
      expect.objectContaining({
        name: 'Default',
        isDefault: true,
        warnAt: [0.75],
        version: 1,
        targets: {
          firstContact: { duration: 'PT24H', clock: 'calendar' },
          onlineReply: { duration: 'PT4H', clock: 'calendar' },
          resolution: { duration: 'P5D', clock: 'business' },
          followUp: { duration: 'PT24H', clock: 'calendar' },
          majorReport: { duration: 'PT24H', clock: 'calendar' },
          progressUpdate: { duration: 'PT4H', clock: 'calendar' },
          preRefundVerification: { duration: 'P3D', clock: 'calendar' },
          deskFeedback: { duration: 'PT24H', clock: 'calendar' },
        },
        regime: null,
      }),
    ]);
  });

  it('versions policies: a change applies to deadlines created afterwards', async () => {
    const own = await createTestTenant(t.tenancy);
    const policy = (
      await call(t.app, own.adminKey, {
        method: 'POST',
        url: '/v1/sla-policies',
        json: {
          name: 'Billing',
          priority: 10,
          match: { categories: ['billing'] },
          targets: { firstContact: { duration: 'PT8H', clock: 'calendar' } },
        },
      })
    ).json();
    expect(policy).toMatchObject({
      version: 1,
      targets: { firstContact: { duration: 'PT8H' }, onlineReply: { duration: 'PT4H' } },
    });
    const before = (
      await call(t.app, own.adminKey, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody({ category: 'billing', channel: 'phone' }),
      })
    ).json();
    const changed = await call(t.app, own.adminKey, {
      method: 'PATCH',
      url: `/v1/sla-policies/${policy.id}`,
      headers: { 'if-match': '"1"' },
      json: { targets: { firstContact: { duration: 'PT2H', clock: 'calendar' } } },
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ version: 2, targets: { firstContact: { duration: 'PT2H' } } });
    const after = (
      await call(t.app, own.adminKey, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody({ category: 'billing', channel: 'phone' }),
      })
    ).json();
    const firstContactOf = async (id: string) =>
      (await call(t.app, own.adminKey, { method: 'GET', url: `/v1/complaints/${id}/deadlines` }))
        .json()
        .data.find((d: { kind: string }) => d.kind === 'first_contact');
    const old = await firstContactOf(before.id);
    const fresh = await firstContactOf(after.id);
    expect(old).toMatchObject({ policyId: policy.id, policyVersion: 1, targetDuration: 'PT8H' });
    expect(fresh).toMatchObject({ policyId: policy.id, policyVersion: 2, targetDuration: 'PT2H' });
    const versions = await t.database.pool.query(
      'select version from sla_policy_versions where policy_id = $1 order by version',
      [policy.id],
    );
    expect(versions.rows.map((r) => r.version)).toEqual([1, 2]);
    // Complaints the policy does not match fall to the default policy.
    const general = (
      await call(t.app, own.adminKey, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody({ channel: 'phone' }),
      })
    ).json();
    expect((await firstContactOf(general.id)).targetDuration).toBe('PT24H');
  });

  it('previews due times on business hours, skipping lunch, weekends and holidays', async () => {
    const own = await createTestTenant(t.tenancy);
    const calendar = (
      await call(t.app, own.adminKey, { method: 'POST', url: '/v1/calendars', json: shanghai })
    ).json();
    const policy = (
      await call(t.app, own.adminKey, {
        method: 'POST',
        url: '/v1/sla-policies',
        json: {
          name: 'Office hours',
          priority: 1,
          calendarId: calendar.id,
          targets: {
            firstContact: { duration: 'PT2H', clock: 'business' },
            resolution: { duration: 'P5D', clock: 'business' },
          },
        },
      })
    ).json();
    // Wednesday 30 September 2026, 11:00 in Shanghai (03:00Z); 1 October (Thursday) is a holiday.
    const res = await call(t.app, own.adminKey, {
      method: 'POST',
      url: `/v1/sla-policies/${policy.id}/preview`,
      json: { receivedAt: '2026-09-30T11:00:00+08:00', channel: 'web', severity: 'major' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const byKind = Object.fromEntries(res.json().deadlines.map((d: { kind: string }) => [d.kind, d]));
    expect(Object.keys(byKind).sort()).toEqual([
      'first_contact',
      'major_report',
      'online_reply',
      'progress_update',
      'resolution',
    ]);
    // 11:00–12:00 is one hour, lunch 12:00–13:00 is closed, 13:00–14:00 the second: 14:00 local.
    expect(byKind.first_contact.dueAt).toBe('2026-09-30T06:00:00.000Z');
    expect(byKind.online_reply.dueAt).toBe('2026-09-30T07:00:00.000Z');
    // Five working days after Wednesday: Fri 2, Mon 5, Tue 6, Wed 7, Thu 8 October (1 Oct is a holiday), same hour.
    expect(byKind.resolution.dueAt).toBe('2026-10-08T03:00:00.000Z');
    expect(byKind.first_contact.warnAts).toEqual(['2026-09-30T05:30:00.000Z']);
    expect(res.json()).toMatchObject({ policyId: policy.id, policyVersion: 1 });
  });

  it('refuses bad policies and keeps the default policy matching everything', async () => {
    for (const json of [
      { name: 'x', priority: 1, targets: { firstContact: { duration: 'P1M', clock: 'calendar' } } },
      { name: 'x', priority: 1, targets: { firstContact: { duration: '4 hours', clock: 'calendar' } } },
      { name: 'x', priority: 1, targets: { firstContact: { duration: 'PT0S', clock: 'calendar' } } },
      { name: 'x', priority: 1, targets: { firstContact: { duration: 'PT1H', clock: 'sundial' } } },
      { name: 'x', priority: 1, targets: { teaTime: { duration: 'PT1H', clock: 'calendar' } } },
      { name: 'x', priority: 1, warnAt: [1.5] },
      // Stored as 4-byte reals: one underflows, the others round to 1 and to each other.
      { name: 'x', priority: 1, warnAt: [1e-300] },
      { name: 'x', priority: 1, warnAt: [0.999999991, 0.999999992] },
      { name: 'x', priority: 1, warnAt: [0.12345] },
      { name: 'x', priority: -1 },
      { name: 'x', priority: 1, match: { channels: ['pigeon'] } },
      { name: 'x', priority: 1, calendarId: '00000000-0000-4000-8000-000000000000' },
    ]) {
      const res = await call(t.app, manager, { method: 'POST', url: '/v1/sla-policies', json });
      expect(res.statusCode, JSON.stringify(json)).toBe(400);
    }
    const defaultPolicy = (await call(t.app, manager, { method: 'GET', url: '/v1/sla-policies' }))
      .json()
      .data.find((p: { isDefault: boolean }) => p.isDefault);
    const res = await call(t.app, manager, {
      method: 'PATCH',
      url: `/v1/sla-policies/${defaultPolicy.id}`,
      headers: { 'if-match': `"${defaultPolicy.version}"` },
      json: { active: false },
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('default_policy_fixed');
  });

  it('keeps policies to their tenant and to policies:manage', async () => {
    const theirs = (await call(t.app, other.adminKey, { method: 'GET', url: '/v1/sla-policies' })).json()
      .data[0];
    expect(
      (await call(t.app, manager, { method: 'GET', url: `/v1/sla-policies/${theirs.id}` })).statusCode,
    ).toBe(404);
    const preview = await call(t.app, manager, {
      method: 'POST',
      url: `/v1/sla-policies/${theirs.id}/preview`,
      json: { receivedAt: new Date().toISOString(), channel: 'web' },
    });
    expect(preview.statusCode).toBe(404);
    expect((await call(t.app, writer, { method: 'GET', url: '/v1/sla-policies' })).statusCode).toBe(403);
    expect((await call(t.app, null, { method: 'GET', url: '/v1/sla-policies' })).statusCode).toBe(401);
  });
});

describe('deadlines over REST', () => {
  it('shows each complaint its deadlines and next due one, and lists work queues across complaints', async () => {
    const own = await createTestTenant(t.tenancy);
    const major = (
      await call(t.app, own.adminKey, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody({ channel: 'social_media', severity: 'major', assignee: 'li.na' }),
      })
    ).json();
    const list = (
      await call(t.app, own.adminKey, { method: 'GET', url: `/v1/complaints/${major.id}/deadlines` })
    ).json().data;
    expect(list.map((d: { kind: string }) => d.kind).sort()).toEqual(
      ['first_contact', 'major_report', 'online_reply', 'progress_update', 'resolution'].sort(),
    );
    // Online reply and progress update (4 h) are the soonest.
    expect(['online_reply', 'progress_update']).toContain(major.nextDeadline.kind);

    const phone = (
      await call(t.app, own.adminKey, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody({ channel: 'phone', assignee: 'wang.wu' }),
      })
    ).json();
    const page = await call(t.app, own.adminKey, { method: 'GET', url: '/v1/complaints?limit=10' });
    const shown = page.json().data.find((c: { id: string }) => c.id === phone.id);
    expect(shown.nextDeadline.kind).toBe('first_contact');

    const queue = await call(t.app, own.adminKey, {
      method: 'GET',
      url: '/v1/deadlines?status=pending&kind=first_contact',
    });
    expect(queue.json().data.map((d: { complaintId: string }) => d.complaintId)).toEqual([
      major.id,
      phone.id,
    ]);
    const mine = await call(t.app, own.adminKey, { method: 'GET', url: '/v1/deadlines?assignee=li.na' });
    expect(new Set(mine.json().data.map((d: { complaintId: string }) => d.complaintId))).toEqual(
      new Set([major.id]),
    );
    const paged = await call(t.app, own.adminKey, { method: 'GET', url: '/v1/deadlines?limit=2' });
    expect(paged.json().data).toHaveLength(2);
    const next = await call(t.app, own.adminKey, {
      method: 'GET',
      url: `/v1/deadlines?limit=10&cursor=${paged.json().nextCursor}`,
    });
    expect(next.json().data).toHaveLength(5);

    const dueSoon = await call(t.app, own.adminKey, {
      method: 'GET',
      url: `/v1/deadlines?dueBefore=${encodeURIComponent(new Date(Date.now() + 5 * 3600_000).toISOString())}`,
    });
    expect(
      dueSoon
        .json()
        .data.every((d: { kind: string }) => ['online_reply', 'progress_update'].includes(d.kind)),
    ).toBe(true);
  });

  it('refuses bad filters, other tenants and missing scopes', async () => {
    for (const query of ['status=lost', 'kind=lunch', 'dueBefore=soon', 'limit=500', 'cursor=zzz']) {
      expect(
        (await call(t.app, writer, { method: 'GET', url: `/v1/deadlines?${query}` })).statusCode,
        query,
      ).toBe(400);
    }
    const theirs = (
      await call(t.app, other.adminKey, { method: 'POST', url: '/v1/complaints', json: complaintBody() })
    ).json();
    expect(
      (await call(t.app, writer, { method: 'GET', url: `/v1/complaints/${theirs.id}/deadlines` })).statusCode,
    ).toBe(404);
    const ours = await call(t.app, writer, { method: 'GET', url: '/v1/deadlines?limit=100' });
    expect(ours.json().data.map((d: { complaintId: string }) => d.complaintId)).not.toContain(theirs.id);
    expect((await call(t.app, manager, { method: 'GET', url: '/v1/deadlines' })).statusCode).toBe(403);
    expect((await call(t.app, null, { method: 'GET', url: '/v1/deadlines' })).statusCode).toBe(401);
  });

  it('completes a major-complaint report by hand, and only kinds no action meets', async () => {
    const major = (
      await call(t.app, writer, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody({ severity: 'major', channel: 'phone' }),
      })
    ).json();
    const list = (
      await call(t.app, writer, { method: 'GET', url: `/v1/complaints/${major.id}/deadlines` })
    ).json().data;
    const report = list.find((d: { kind: string }) => d.kind === 'major_report');
    const first = list.find((d: { kind: string }) => d.kind === 'first_contact');
    const url = (id: string) => `/v1/complaints/${major.id}/deadlines/${id}/complete`;
    const refused = await call(t.app, writer, { method: 'POST', url: url(first.id) });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('deadline_met_by_action');
    const done = await call(t.app, writer, { method: 'POST', url: url(report.id) });
    expect(done.json()).toMatchObject({ status: 'met', metLate: false });
    const again = await call(t.app, writer, { method: 'POST', url: url(report.id) });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('deadline_not_open');
    const readOnly = await tenant.keyWith('complaints:read');
    expect((await call(t.app, readOnly, { method: 'POST', url: url(report.id) })).statusCode).toBe(403);
    const theirs = await call(t.app, other.adminKey, { method: 'POST', url: url(report.id) });
    expect(theirs.statusCode).toBe(404);
  });

  it('opens a progress update when a handler promises the next contact', async () => {
    const c = (
      await call(t.app, writer, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody({ channel: 'phone' }),
      })
    ).json();
    const promised = new Date(Date.now() + 2 * 3600_000).toISOString();
    const res = await call(t.app, writer, {
      method: 'POST',
      url: `/v1/complaints/${c.id}/communications`,
      json: {
        direction: 'outbound',
        channel: 'phone',
        body: 'Will call back by 4pm',
        contactMade: true,
        nextUpdateBy: promised,
      },
    });
    expect(res.statusCode).toBe(201);
    const list = (
      await call(t.app, writer, { method: 'GET', url: `/v1/complaints/${c.id}/deadlines` })
    ).json().data;
    const progress = list.find((d: { kind: string }) => d.kind === 'progress_update');
    expect(progress).toMatchObject({ status: 'pending', dueAt: promised });
    const bad = await call(t.app, writer, {
      method: 'POST',
      url: `/v1/complaints/${c.id}/communications`,
      json: { direction: 'inbound', channel: 'phone', body: 'x', contactMade: true, nextUpdateBy: promised },
    });
    expect(bad.statusCode).toBe(400);
  });
});

describe('deadline JSON built in SQL', () => {
  it('matches the REST view field for field, whatever the status', async () => {
    const c = (
      await call(t.app, writer, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody({ channel: 'web', severity: 'major' }),
      })
    ).json();
    // Give the deadlines a spread of states: met, paused, cancelled, pending.
    await call(t.app, writer, {
      method: 'POST',
      url: `/v1/complaints/${c.id}/communications`,
      json: { direction: 'outbound', channel: 'web', body: 'Received', contactMade: true },
    });
    for (const to of ['acknowledged', 'investigating', 'awaiting_customer']) {
      await call(t.app, writer, { method: 'POST', url: `/v1/complaints/${c.id}/transitions`, json: { to } });
    }
    await t.database.pool.query(
      "update deadlines set status = 'breached', breached_at = now() where complaint_id = $1 and kind = 'major_report'",
      [c.id],
    );
    const rest = (
      await call(t.app, writer, { method: 'GET', url: `/v1/complaints/${c.id}/deadlines` })
    ).json().data;
    const sqlViews = (await viewsInSql(t.database.pool, 'deadlines', 'complaint_id = $1', [c.id])) as Array<{
      id: string;
    }>;
    const statuses = new Set(rest.map((d: { status: string }) => d.status));
    expect(statuses.size).toBeGreaterThanOrEqual(3);
    for (const view of rest) {
      expect(sqlViews.find((sqlView) => sqlView.id === view.id)).toEqual(view);
    }
  });
});

describe('one policy over REST', () => {
  async function ownPolicy() {
    const res = await call(t.app, manager, {
      method: 'POST',
      url: '/v1/sla-policies',
      json: { name: 'Complaints desk', priority: 20, match: { categories: ['desk'] } },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }
  const patch = (id: string, json: unknown, headers: Record<string, string> = {}) =>
    call(t.app, manager, { method: 'PATCH', url: `/v1/sla-policies/${id}`, headers, json });

  it('reads a policy by id, with its ETag', async () => {
    const policy = await ownPolicy();
    const res = await call(t.app, manager, { method: 'GET', url: `/v1/sla-policies/${policy.id}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe('"1"');
    expect(res.json()).toEqual(policy);
    const unknown = await call(t.app, manager, {
      method: 'GET',
      url: '/v1/sla-policies/00000000-0000-4000-8000-000000000000',
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().detail).toContain('00000000-0000-4000-8000-000000000000');
    const bad = await call(t.app, manager, { method: 'GET', url: '/v1/sla-policies/policy-1' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('params.id');
  });

  it('needs If-Match to change a policy (428) and refuses a stale one (412), changing nothing', async () => {
    const policy = await ownPolicy();
    const missing = await patch(policy.id, { priority: 21 });
    expect(missing.statusCode).toBe(428);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect(missing.json().code).toBe('precondition_required');
    const changed = await patch(policy.id, { priority: 21 }, { 'if-match': '"1"' });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.headers.etag).toBe('"2"');
    const stale = await patch(policy.id, { priority: 22 }, { 'if-match': '"1"' });
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ code: 'precondition_failed', currentEtag: '"2"' });
    const weak = await patch(policy.id, { priority: 22 }, { 'if-match': 'W/"2"' });
    expect(weak.statusCode).toBe(412);
    const now = await call(t.app, manager, { method: 'GET', url: `/v1/sla-policies/${policy.id}` });
    expect(now.json()).toMatchObject({ priority: 21, version: 2 });
  });

  it('refuses a bad change with 400 naming the field, changing nothing', async () => {
    const policy = await ownPolicy();
    const cases: Array<[unknown, string]> = [
      [{}, 'body'],
      [{ name: '' }, 'body.name'],
      [{ name: 'x'.repeat(101) }, 'body.name'],
      [{ priority: 1.5 }, 'body.priority'],
      [{ warnAt: [0.5, 0.5] }, 'body.warnAt'],
      [{ warnAt: [1e-300] }, 'body.warnAt.0'],
      [
        { targets: { resolution: { duration: 'P2Y', clock: 'business' } } },
        'body.targets.resolution.duration',
      ],
      [{ match: { severities: ['catastrophic'] } }, 'body.match.severities.0'],
      [{ calendarId: 'office' }, 'body.calendarId'],
      [{ calendarId: '00000000-0000-4000-8000-000000000000' }, 'body.calendarId'],
      [{ isDefault: true }, 'body'],
      [{ version: 9 }, 'body'],
    ];
    for (const [json, field] of cases) {
      const res = await patch(policy.id, json, { 'if-match': '"1"' });
      expect(res.statusCode, JSON.stringify(json)).toBe(400);
      expect(res.json().code).toBe('validation_failed');
      expect(
        res.json().errors.map((e: { field: string }) => e.field),
        JSON.stringify(json),
      ).toContain(field);
    }
    const now = await call(t.app, manager, { method: 'GET', url: `/v1/sla-policies/${policy.id}` });
    expect(now.json()).toEqual(policy);
  });

  it('keeps a change of another tenant out: 404 with If-Match, 403 without the scope, 401 without a key', async () => {
    const theirs = (
      await call(t.app, other.adminKey, {
        method: 'POST',
        url: '/v1/sla-policies',
        json: { name: 'Theirs', priority: 3 },
      })
    ).json();
    const foreign = await patch(theirs.id, { name: 'Ours now' }, { 'if-match': '"1"' });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().code).toBe('not_found');
    const mine = await ownPolicy();
    const wrongScope = await call(t.app, writer, {
      method: 'PATCH',
      url: `/v1/sla-policies/${mine.id}`,
      headers: { 'if-match': '"1"' },
      json: { name: 'Writer was here' },
    });
    expect(wrongScope.statusCode).toBe(403);
    expect(wrongScope.json().requiredScope).toBe('policies:manage');
    const noKey = await call(t.app, null, {
      method: 'PATCH',
      url: `/v1/sla-policies/${mine.id}`,
      headers: { 'if-match': '"1"' },
      json: { name: 'Anyone' },
    });
    expect(noKey.statusCode).toBe(401);
    const after = await call(t.app, other.adminKey, { method: 'GET', url: `/v1/sla-policies/${theirs.id}` });
    expect(after.json()).toMatchObject({ name: 'Theirs', version: 1 });
    expect(
      (await call(t.app, manager, { method: 'GET', url: `/v1/sla-policies/${mine.id}` })).json(),
    ).toMatchObject({ name: 'Complaints desk', version: 1 });
  });

  it('refuses a bad preview request with 400 naming the field', async () => {
    const policy = await ownPolicy();
    const cases: Array<[unknown, string]> = [
      [{ channel: 'web' }, 'body.receivedAt'],
      [{ receivedAt: 'yesterday', channel: 'web' }, 'body.receivedAt'],
      // Its due times would fall after the year 9999.
      [{ receivedAt: '9999-12-31T20:00:00Z', channel: 'web' }, 'body.receivedAt'],
      [{ receivedAt: '2026-01-05T10:00:00Z' }, 'body.channel'],
      [{ receivedAt: '2026-01-05T10:00:00Z', channel: 'pigeon' }, 'body.channel'],
      [{ receivedAt: '2026-01-05T10:00:00Z', channel: 'web', severity: 'dire' }, 'body.severity'],
      [{ receivedAt: '2026-01-05T10:00:00Z', channel: 'web', category: 'x'.repeat(101) }, 'body.category'],
      [{ receivedAt: '2026-01-05T10:00:00Z', channel: 'web', subject: 'extra' }, 'body'],
    ];
    for (const [json, field] of cases) {
      const res = await call(t.app, manager, {
        method: 'POST',
        url: `/v1/sla-policies/${policy.id}/preview`,
        json,
      });
      expect(res.statusCode, JSON.stringify(json)).toBe(400);
      expect(res.json().code).toBe('validation_failed');
      expect(
        res.json().errors.map((e: { field: string }) => e.field),
        JSON.stringify(json),
      ).toContain(field);
    }
    const badId = await call(t.app, manager, {
      method: 'POST',
      url: '/v1/sla-policies/preview-me/preview',
      json: { receivedAt: '2026-01-05T10:00:00Z', channel: 'web' },
    });
    expect(badId.statusCode).toBe(400);
    expect(badId.json().errors[0].field).toBe('params.id');
  });
});

describe('replacing a calendar', () => {
  async function ownCalendar() {
    const res = await call(t.app, manager, { method: 'POST', url: '/v1/calendars', json: shanghai });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }
  const put = (key: string | null, id: string, json: unknown, ifMatch = '"1"') =>
    call(t.app, key, { method: 'PUT', url: `/v1/calendars/${id}`, headers: { 'if-match': ifMatch }, json });

  it('refuses a bad calendar with 400 naming the field, keeping the old one', async () => {
    const calendar = await ownCalendar();
    const cases: Array<[unknown, string]> = [
      [{ ...shanghai, timeZone: 'Mars/Olympus' }, 'body'],
      [{ ...shanghai, name: '' }, 'body.name'],
      [
        { ...shanghai, weeklyHours: { monday: [{ start: '9am', end: '17:00' }] } },
        'body.weeklyHours.monday.0.start',
      ],
      [{ ...shanghai, holidays: [{ date: '2026-02-30', name: null }] }, 'body.holidays.0.date'],
      [{ ...shanghai, version: 2 }, 'body'],
      [{ name: 'Only a name' }, 'body.timeZone'],
    ];
    for (const [json, field] of cases) {
      const res = await put(manager, calendar.id, json);
      expect(res.statusCode, JSON.stringify(json).slice(0, 80)).toBe(400);
      expect(res.json().code).toBe('validation_failed');
      expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expect((await put(manager, 'not-a-uuid', shanghai)).json().errors[0].field).toBe('params.id');
    const now = await call(t.app, manager, { method: 'GET', url: `/v1/calendars/${calendar.id}` });
    expect(now.json()).toEqual(calendar);
  });

  it("answers 404 for another tenant's calendar, 403 without policies:manage, 401 without a key", async () => {
    const theirs = (
      await call(t.app, other.adminKey, { method: 'POST', url: '/v1/calendars', json: shanghai })
    ).json();
    const foreign = await put(manager, theirs.id, { ...shanghai, name: 'Ours now' }, '*');
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().code).toBe('not_found');
    const mine = await ownCalendar();
    const wrongScope = await put(writer, mine.id, { ...shanghai, name: 'Writer was here' });
    expect(wrongScope.statusCode).toBe(403);
    expect(wrongScope.json().requiredScope).toBe('policies:manage');
    expect((await put(null, mine.id, { ...shanghai, name: 'Anyone' })).statusCode).toBe(401);
    const after = await call(t.app, other.adminKey, { method: 'GET', url: `/v1/calendars/${theirs.id}` });
    expect(after.json()).toEqual(theirs);
    expect((await call(t.app, manager, { method: 'GET', url: `/v1/calendars/${mine.id}` })).json()).toEqual(
      mine,
    );
  });
});

describe("a complaint's deadlines over REST", () => {
  it('needs a key with complaints:read to list them', async () => {
    const c = (
      await call(t.app, writer, { method: 'POST', url: '/v1/complaints', json: complaintBody() })
    ).json();
    const url = `/v1/complaints/${c.id}/deadlines`;
    const noKey = await call(t.app, null, { method: 'GET', url });
    expect(noKey.statusCode).toBe(401);
    expect(noKey.json().code).toBe('unauthenticated');
    const wrongScope = await call(t.app, manager, { method: 'GET', url });
    expect(wrongScope.statusCode).toBe(403);
    expect(wrongScope.json().requiredScope).toBe('complaints:read');
    expect((await call(t.app, writer, { method: 'GET', url })).statusCode).toBe(200);
    const bad = await call(t.app, writer, { method: 'GET', url: '/v1/complaints/42/deadlines' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('params.id');
  });

  it('completes nothing for a malformed deadline id or without a key', async () => {
    const c = (
      await call(t.app, writer, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody({ severity: 'major', channel: 'phone' }),
      })
    ).json();
    const report = (await call(t.app, writer, { method: 'GET', url: `/v1/complaints/${c.id}/deadlines` }))
      .json()
      .data.find((d: { kind: string }) => d.kind === 'major_report');
    const malformed = await call(t.app, writer, {
      method: 'POST',
      url: `/v1/complaints/${c.id}/deadlines/report-1/complete`,
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().errors[0].field).toBe('params.deadlineId');
    const badComplaint = await call(t.app, writer, {
      method: 'POST',
      url: `/v1/complaints/complaint-1/deadlines/${report.id}/complete`,
    });
    expect(badComplaint.statusCode).toBe(400);
    expect(badComplaint.json().errors[0].field).toBe('params.id');
    const noKey = await call(t.app, null, {
      method: 'POST',
      url: `/v1/complaints/${c.id}/deadlines/${report.id}/complete`,
    });
    expect(noKey.statusCode).toBe(401);
    const after = (await call(t.app, writer, { method: 'GET', url: `/v1/complaints/${c.id}/deadlines` }))
      .json()
      .data.find((d: { id: string }) => d.id === report.id);
    expect(after.status).toBe('pending');
  });
});
