import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events } from '../src/db/schema/index.js';
import { toBusinessCalendar } from '../src/modules/calendars/calendars.service.js';
import { EVENT_DATA_SCHEMAS } from '../src/modules/events/event-data.js';
import { toEventEnvelope } from '../src/modules/events/event-envelope.js';
import { clockDueAt, REGIME_IDS, REGIMES } from '../src/modules/regulatory-regimes/regimes.js';
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
let other: TestTenant;

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTestTenant(t.tenancy);
  other = await createTestTenant(t.tenancy);
});
afterAll(() => t.close());

/** JSON answers, read field by field in the assertions. */
// biome-ignore lint/suspicious/noExplicitAny: see above
type Json = Record<string, any>;
const lead = { name: 'Li Na', role: 'team_lead' };
const manager = { name: 'Chen Jie', role: 'department_manager' };
const gm = { name: 'Zhao Min', role: 'general_manager' };
const notice = {
  channel: 'email',
  body: 'We need more time: the card network has not answered yet. Final reply by the date below.',
};

const weekdays = (hours: Array<{ start: string; end: string }>) =>
  Object.fromEntries(['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => [day, hours]));

/** The 2025 National Day schedule as this test builds it (closed 1–8 Oct, make-up days 28 Sep and 11 Oct). */
const shanghai = {
  name: 'Shanghai 2025',
  timeZone: 'Asia/Shanghai',
  weeklyHours: weekdays([{ start: '09:00', end: '17:00' }]),
  holidays: ['01', '02', '03', '04', '05', '06', '07', '08'].map((d) => ({
    date: `2025-10-${d}`,
    name: '国庆节',
  })),
  extraWorkingDays: [
    { date: '2025-09-28', name: '调休' },
    { date: '2025-10-11', name: '调休' },
  ],
};
const frankfurt = {
  name: 'Frankfurt',
  timeZone: 'Europe/Berlin',
  weeklyHours: weekdays([{ start: '09:00', end: '17:00' }]),
  holidays: [],
  extraWorkingDays: [],
};

async function ok(tenantOf: TestTenant, method: 'GET' | 'POST', url: string, json?: unknown, status = 200) {
  const res = await call(t.app, tenantOf.adminKey, { method, url, json });
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(status);
  return res.json() as Json;
}

async function regimePolicy(tenantOf: TestTenant, regime: string, category: string, calendar?: Json) {
  const calendarId = calendar ? (await ok(tenantOf, 'POST', '/v1/calendars', calendar, 201)).id : null;
  const policy = await ok(
    tenantOf,
    'POST',
    '/v1/sla-policies/from-regime',
    { regime, match: { categories: [category] }, calendarId, priority: 10 },
    201,
  );
  return { policy, calendarId };
}

/** A complaint in `category` received now, and its resolution deadline. */
async function complaintWithResolution(tenantOf: TestTenant, category: string) {
  const complaint = await ok(
    tenantOf,
    'POST',
    '/v1/complaints',
    complaintBody({ channel: 'phone', category }),
    201,
  );
  const deadlines = (await ok(tenantOf, 'GET', `/v1/complaints/${complaint.id}/deadlines`)).data as Json[];
  const resolution = deadlines.find((deadline) => deadline.kind === 'resolution')!;
  return { complaint, deadlines, resolution };
}

const extensionsUrl = (complaintId: string, deadlineId: string) =>
  `/v1/complaints/${complaintId}/deadlines/${deadlineId}/extensions`;

describe('GET /v1/regulatory-regimes', () => {
  it('lists every template with its clocks, extension steps and the rule of each', async () => {
    const { data } = await ok(tenant, 'GET', '/v1/regulatory-regimes');
    expect(data.map((regime: Json) => regime.id)).toEqual([...REGIME_IDS]);
    const psd2 = data.find((regime: Json) => regime.id === 'eu_psd2');
    expect(psd2.clocks).toEqual([
      expect.objectContaining({ kind: 'resolution', duration: 'P15D', clock: 'business' }),
    ]);
    expect(psd2.extensions).toEqual([
      expect.objectContaining({
        step: 1,
        duration: 'P35D',
        approverRole: 'team_lead',
        citation: expect.stringContaining('art. 101'),
      }),
    ]);
    for (const regime of data) for (const clock of regime.clocks) expect(clock.citation).not.toBe('');
  });
});

describe('POST /v1/sla-policies/from-regime', () => {
  it('creates a policy whose targets are the regime’s clocks, and its deadlines follow them', async () => {
    const { policy } = await regimePolicy(tenant, 'cn_cbirc_2020', 'cn-card', shanghai);
    expect(policy).toMatchObject({
      regime: 'cn_cbirc_2020',
      name: REGIMES.cn_cbirc_2020.name,
      match: { categories: ['cn-card'] },
      targets: { resolution: { duration: 'P15D', clock: 'calendar', endsOnWorkingDay: true } },
    });
    // Received Tue 16 Sep 2025 10:00: 15 days end on 1 Oct, in the National Day break → Thu 9 Oct.
    const preview = await ok(tenant, 'POST', `/v1/sla-policies/${policy.id}/preview`, {
      receivedAt: '2025-09-16T02:00:00Z',
      channel: 'phone',
      category: 'cn-card',
    });
    expect(preview.deadlines.find((d: Json) => d.kind === 'resolution').dueAt).toBe(
      '2025-10-09T02:00:00.000Z',
    );
    // Received Sat 13 Sep: the 15th day is the make-up Sunday, 28 Sep, which stays.
    const onMakeUpDay = await ok(tenant, 'POST', `/v1/sla-policies/${policy.id}/preview`, {
      receivedAt: '2025-09-13T02:00:00Z',
      channel: 'phone',
    });
    expect(onMakeUpDay.deadlines.find((d: Json) => d.kind === 'resolution').dueAt).toBe(
      '2025-09-28T02:00:00.000Z',
    );

    // A complaint in the category gets its resolution deadline from the regime.
    const { resolution } = await complaintWithResolution(tenant, 'cn-card');
    expect(resolution).toMatchObject({ policyId: policy.id, targetDuration: 'P15D', clock: 'calendar' });
  });

  it('needs a calendar for a regime counting business days, and refuses an unknown regime', async () => {
    const noCalendar = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/sla-policies/from-regime',
      json: { regime: 'eu_psd2' },
    });
    expect(noCalendar.statusCode).toBe(400);
    expect(noCalendar.json().errors).toEqual([expect.objectContaining({ field: 'body.calendarId' })]);
    const unknown = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/sla-policies/from-regime',
      json: { regime: 'mars_2099' },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors[0].field).toBe('body.regime');
    // A calendar-day regime needs none.
    await ok(
      tenant,
      'POST',
      '/v1/sla-policies/from-regime',
      { regime: 'us_cfpb', match: { categories: ['cfpb'] } },
      201,
    );
  });
});

describe('POST /v1/complaints/{id}/deadlines/{deadlineId}/extensions', () => {
  it('extends a PSD2 reply to 35 business days once, with the holding reply recorded and an event', async () => {
    const { calendarId } = await regimePolicy(tenant, 'eu_psd2', 'psd2', frankfurt);
    const { complaint, resolution } = await complaintWithResolution(tenant, 'psd2');
    const res = await ok(tenant, 'POST', extensionsUrl(complaint.id, resolution.id), {
      reason: 'The card network has not answered our chargeback request',
      approver: lead,
      customerNotice: notice,
    });
    const calendar = toBusinessCalendar(
      (await t.services.repositories.calendars.find(tenant.tenantId, calendarId))!,
    );
    const expected = clockDueAt(
      { duration: 'P35D', clock: 'business' },
      new Date(resolution.startsAt),
      calendar,
    );
    expect(res.deadline).toMatchObject({
      id: resolution.id,
      status: 'pending',
      dueAt: expected.toISOString(),
      targetDuration: 'P35D',
    });
    expect(res.extension).toMatchObject({
      regime: 'eu_psd2',
      step: 1,
      previousDueAt: resolution.dueAt,
      dueAt: expected.toISOString(),
      approver: lead,
      citation: expect.stringContaining('art. 101'),
    });
    expect(Date.parse(res.extension.dueAt)).toBeGreaterThan(Date.parse(resolution.dueAt));

    // The holding reply is a communication of the complaint; the reason is on the timeline.
    const timeline = (await ok(tenant, 'GET', `/v1/complaints/${complaint.id}/timeline`)).data as Json[];
    expect(timeline.find((entry) => entry.type === 'communication.recorded')?.data).toMatchObject({
      communicationId: res.extension.communicationId,
      body: notice.body,
      direction: 'outbound',
    });
    expect(timeline.find((entry) => entry.type === 'deadline.extended')?.data).toMatchObject({
      deadlineId: resolution.id,
      reason: 'The card network has not answered our chargeback request',
    });
    // The event, as written to the outbox (no relay runs here to move it to the feed), fits its schema.
    const [event] = await t.database.db
      .select()
      .from(events)
      .where(and(eq(events.tenantId, tenant.tenantId), eq(events.type, 'deadline.extended')));
    expect(
      EVENT_DATA_SCHEMAS['deadline.extended'].safeParse(toEventEnvelope(event!).data).error,
    ).toBeUndefined();
    expect(event?.data).toMatchObject({ deadline: { id: resolution.id }, extension: { step: 1 } });

    // A wake-up armed for the old due time finds the deadline moved and records nothing; the
    // one for the new due time would breach it.
    expect(
      await t.services.deadlines.recordBreach(resolution.id, new Date(resolution.dueAt)),
    ).toBeUndefined();
    const after = (await ok(tenant, 'GET', `/v1/complaints/${complaint.id}/deadlines`)).data as Json[];
    expect(after.find((deadline) => deadline.id === resolution.id)).toMatchObject({
      status: 'pending',
      dueAt: expected.toISOString(),
    });

    // PSD2 allows one extension.
    const again = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: extensionsUrl(complaint.id, resolution.id),
      json: { reason: 'Still waiting', approver: gm, customerNotice: notice },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({
      code: 'extension_limit_reached',
      extensionsUsed: 1,
      extensionsAllowed: 1,
    });
  });

  it('asks China’s second extension of a senior approver, and allows no third', async () => {
    const { calendarId } = await regimePolicy(tenant, 'cn_cbirc_2020', 'cn-loan', shanghai);
    const { complaint, resolution } = await complaintWithResolution(tenant, 'cn-loan');
    const url = extensionsUrl(complaint.id, resolution.id);
    const extend = (approver: Json) =>
      call(t.app, tenant.adminKey, {
        method: 'POST',
        url,
        json: { reason: '情况复杂', approver, customerNotice: notice },
      });

    const byHandler = await extend({ name: 'Zhang Wei', role: 'handler' });
    expect(byHandler.statusCode).toBe(422);
    expect(byHandler.json()).toMatchObject({ code: 'approver_not_authorised', requiredRole: 'team_lead' });
    const unknown = await extend({ name: 'X', role: 'intern' });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().code).toBe('unknown_role');

    const first = await extend(lead);
    expect(first.statusCode, first.body).toBe(200);
    const calendar = toBusinessCalendar(
      (await t.services.repositories.calendars.find(tenant.tenantId, calendarId))!,
    );
    const start = new Date(resolution.startsAt);
    expect(first.json().deadline.dueAt).toBe(
      clockDueAt(
        { duration: 'P30D', clock: 'calendar', endsOnWorkingDay: true },
        start,
        calendar,
      ).toISOString(),
    );

    const byManager = await extend(manager);
    expect(byManager.statusCode).toBe(422);
    expect(byManager.json()).toMatchObject({
      code: 'approver_not_authorised',
      requiredRole: 'general_manager',
    });
    const second = await extend(gm);
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json().extension.step).toBe(2);
    expect(second.json().deadline.dueAt).toBe(
      clockDueAt(
        { duration: 'P60D', clock: 'calendar', endsOnWorkingDay: true },
        start,
        calendar,
      ).toISOString(),
    );
    const third = await extend(gm);
    expect(third.statusCode).toBe(409);
    expect(third.json().code).toBe('extension_limit_reached');
  });

  it('extends a Regulation E investigation only once the provisional credit is given', async () => {
    const newYork = { ...frankfurt, name: 'New York', timeZone: 'America/New_York' };
    await regimePolicy(tenant, 'us_reg_e', 'reg-e', newYork);
    const { complaint, resolution } = await complaintWithResolution(tenant, 'reg-e');
    const url = extensionsUrl(complaint.id, resolution.id);
    const body = { reason: 'Merchant records requested', approver: lead, customerNotice: notice };
    const early = await call(t.app, tenant.adminKey, { method: 'POST', url, json: body });
    expect(early.statusCode).toBe(422);
    expect(early.json()).toMatchObject({ code: 'extension_not_allowed', regime: 'us_reg_e' });

    await ok(
      tenant,
      'POST',
      `/v1/complaints/${complaint.id}/pre-refunds`,
      { amount: 100, currency: 'CNY', refundedBy: { name: 'Zhang Wei', role: 'handler' } },
      201,
    );
    const first = await ok(tenant, 'POST', url, body);
    // 45 calendar days from the start, whatever the calendar.
    expect(first.deadline).toMatchObject({ clock: 'calendar', targetDuration: 'P45D' });
    expect(Date.parse(first.deadline.dueAt) - Date.parse(resolution.startsAt)).toBe(45 * 86_400_000);
    const second = await ok(tenant, 'POST', url, body);
    expect(Date.parse(second.deadline.dueAt) - Date.parse(resolution.startsAt)).toBe(90 * 86_400_000);
  });

  it('refuses deadlines no regime extends, settled ones, and another tenant’s', async () => {
    // FCA DISP 1.6 has no extension of its 8 weeks.
    await regimePolicy(tenant, 'uk_fca_disp', 'fca');
    const fca = await complaintWithResolution(tenant, 'fca');
    const body = { reason: 'More time', approver: gm, customerNotice: notice };
    const noExtension = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: extensionsUrl(fca.complaint.id, fca.resolution.id),
      json: body,
    });
    expect(noExtension.statusCode).toBe(422);
    expect(noExtension.json()).toMatchObject({ code: 'extension_not_allowed', regime: 'uk_fca_disp' });

    // The default policy is no regulatory template.
    const plain = await complaintWithResolution(tenant, 'facilities');
    const unregulated = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: extensionsUrl(plain.complaint.id, plain.resolution.id),
      json: body,
    });
    expect(unregulated.statusCode).toBe(422);
    expect(unregulated.json()).toMatchObject({ code: 'extension_not_allowed', regime: null });

    // A met deadline stays where it was: first contact, met by a call.
    await ok(
      tenant,
      'POST',
      `/v1/complaints/${plain.complaint.id}/communications`,
      { direction: 'outbound', channel: 'phone', body: 'Called back', contactMade: true },
      201,
    );
    const firstContact = plain.deadlines.find((deadline) => deadline.kind === 'first_contact')!;
    const met = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: extensionsUrl(plain.complaint.id, firstContact.id),
      json: body,
    });
    expect(met.statusCode).toBe(409);
    expect(met.json()).toMatchObject({ code: 'deadline_not_pending', currentStatus: 'met' });

    // Another tenant's complaint, or a deadline of another complaint: plain 404s.
    const theirs = await call(t.app, other.adminKey, {
      method: 'POST',
      url: extensionsUrl(fca.complaint.id, fca.resolution.id),
      json: body,
    });
    expect(theirs.statusCode).toBe(404);
    const crossed = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: extensionsUrl(plain.complaint.id, fca.resolution.id),
      json: body,
    });
    expect(crossed.statusCode).toBe(404);
    const bad = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: extensionsUrl(plain.complaint.id, fca.resolution.id),
      json: { ...body, customerNotice: { channel: 'email' } },
    });
    expect(bad.statusCode).toBe(400);
  });
});

describe('over GraphQL', () => {
  const gql = async (query: string, variables: Json = {}) => {
    const res = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/graphql',
      json: { query, variables },
    });
    return res.json() as Json;
  };

  it('lists the templates, applies one and extends a deadline, with the same codes as REST', async () => {
    const listed = await gql(
      '{ regulatoryRegimes { id clocks { kind duration citation } extensions { step approverRole } } }',
    );
    expect(listed.errors).toBeUndefined();
    expect(listed.data.regulatoryRegimes.map((regime: Json) => regime.id)).toEqual([...REGIME_IDS]);

    const calendarId = (await ok(tenant, 'POST', '/v1/calendars', frankfurt, 201)).id;
    const created = await gql(
      `mutation ($input: SlaPolicyFromRegimeInput!) {
        createSlaPolicyFromRegime(input: $input) { id regime targets { resolution { duration clock endsOnWorkingDay } } }
      }`,
      { input: { regime: 'uk_fca_disp_payments', match: { categories: ['gql-pay'] }, calendarId } },
    );
    expect(created.errors).toBeUndefined();
    expect(created.data.createSlaPolicyFromRegime).toMatchObject({
      regime: 'uk_fca_disp_payments',
      targets: { resolution: { duration: 'P15D', clock: 'business', endsOnWorkingDay: null } },
    });

    const { complaint, resolution } = await complaintWithResolution(tenant, 'gql-pay');
    const extend = (approver: Json) =>
      gql(
        `mutation ($complaintId: ID!, $deadlineId: ID!, $input: DeadlineExtensionInput!) {
          extendDeadline(complaintId: $complaintId, deadlineId: $deadlineId, input: $input) {
            deadline { id dueAt targetDuration }
            extension { regime step approver { role } citation communicationId }
          }
        }`,
        {
          complaintId: complaint.id,
          deadlineId: resolution.id,
          input: { reason: 'Awaiting the card scheme', approver, customerNotice: notice },
        },
      );
    const extended = await extend(lead);
    expect(extended.errors).toBeUndefined();
    expect(extended.data.extendDeadline).toMatchObject({
      deadline: { id: resolution.id, targetDuration: 'P35D' },
      extension: { regime: 'uk_fca_disp_payments', step: 1, approver: { role: 'team_lead' } },
    });
    const again = await extend(gm);
    expect(again.errors[0].extensions.code).toBe('extension_limit_reached');
  });
});

describe('GET /v1/reports/regulatory-compliance', () => {
  it('counts a regime’s complaints, their extensions and clocks, as JSON, CSV and over GraphQL', async () => {
    const own = await createTestTenant(t.tenancy);
    await regimePolicy(own, 'eu_psd2', 'psd2', frankfurt);
    const { complaint, resolution } = await complaintWithResolution(own, 'psd2');
    await complaintWithResolution(own, 'facilities'); // the default policy: not counted
    await ok(own, 'POST', extensionsUrl(complaint.id, resolution.id), {
      reason: 'Awaiting the card scheme',
      approver: lead,
      customerNotice: notice,
    });
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    const url = `/v1/reports/regulatory-compliance?regime=eu_psd2&from=${day(-1)}&to=${day(1)}`;
    const report = await ok(own, 'GET', url);
    expect(report).toMatchObject({
      regime: 'eu_psd2',
      received: 1,
      closed: 0,
      extensionsUsed: 1,
      extendedComplaints: 1,
      breaches: 0,
      clocks: [{ id: 'final_response', decided: 0, within: 0, withinPercent: null }],
    });

    const csv = await call(t.app, own.adminKey, { method: 'GET', url, headers: { accept: 'text/csv' } });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const [header, row, ...rest] = csv.body.trim().split('\n');
    expect(header).toBe(
      'regime,from,to,received,closed,extensionsUsed,breaches,clock,kind,duration,clockType,decided,within,withinPercent,citation',
    );
    expect(row).toMatch(/^eu_psd2,.*,1,0,1,0,final_response,resolution,P15D,business,0,0,,/);
    expect(rest).toEqual([]);

    const overGraphql = await call(t.app, own.adminKey, {
      method: 'POST',
      url: '/graphql',
      json: {
        query: `{ regulatoryComplianceReport(regime: "eu_psd2", from: "${day(-1)}", to: "${day(1)}") { received extensionsUsed clocks { id within } } }`,
      },
    });
    expect(overGraphql.json()).toEqual({
      data: {
        regulatoryComplianceReport: {
          received: 1,
          extensionsUsed: 1,
          clocks: [{ id: 'final_response', within: 0 }],
        },
      },
    });

    const backwards = await call(t.app, own.adminKey, {
      method: 'GET',
      url: `/v1/reports/regulatory-compliance?regime=eu_psd2&from=${day(1)}&to=${day(-1)}`,
    });
    expect(backwards.statusCode).toBe(400);
    // Another tenant sees none of it.
    expect((await ok(other, 'GET', url)).received).toBe(0);
  });
});
