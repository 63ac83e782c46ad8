import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  complaintBody,
  createTestTenant,
  createUtcTenant,
  startTestApp,
  type TestApp,
  type TestTenant,
} from './harness.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

const post = (key: string, url: string, json: unknown) => call(t.app, key, { method: 'POST', url, json });
const get = (key: string, url: string, headers: Record<string, string> = {}) =>
  call(t.app, key, { method: 'GET', url, headers });

async function create(tenant: TestTenant, overrides: Record<string, unknown>) {
  const res = await post(tenant.adminKey, '/v1/complaints', complaintBody(overrides));
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const today = () => new Date().toISOString().slice(0, 10);
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);

describe('GET /v1/reports/daily-inventory', () => {
  it('counts received, open, due and overdue by handler and severity, as JSON and CSV', async () => {
    const tenant = await createUtcTenant(t);
    // Received today: a phone complaint for li.na and a major one for wang.wu.
    const a = await create(tenant, { channel: 'phone', assignee: 'li.na' });
    await create(tenant, { channel: 'phone', severity: 'major', assignee: 'wang.wu' });
    // Received three days ago and never contacted: open, first contact overdue.
    await create(tenant, { channel: 'phone', assignee: 'li.na', receivedAt: daysAgo(3).toISOString() });
    // Received three days ago and withdrawn: neither open nor overdue.
    const gone = await create(tenant, {
      channel: 'phone',
      assignee: 'li.na',
      receivedAt: daysAgo(3).toISOString(),
    });
    await post(tenant.adminKey, `/v1/complaints/${gone.id}/transitions`, { to: 'withdrawn', reason: 'x' });
    // Contacted at once: A's first contact is met.
    await post(tenant.adminKey, `/v1/complaints/${a.id}/communications`, {
      direction: 'outbound',
      channel: 'phone',
      body: 'Called',
      contactMade: true,
    });

    // The major complaint's progress update (4 hours) falls due today unless the day ends first.
    const due = new Date(Date.now() + 4 * 3_600_000).toISOString().slice(0, 10) === today() ? 1 : 0;
    const res = await get(tenant.adminKey, `/v1/reports/daily-inventory?date=${today()}`);
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json();
    expect(report).toMatchObject({ date: today(), timeZone: 'UTC', from: `${today()}T00:00:00.000Z` });
    expect(report.totals).toEqual({ received: 2, open: 3, dueToday: due, overdue: 1 });
    expect(report.byHandler).toEqual([
      { assignee: 'li.na', received: 1, open: 2, dueToday: 0, overdue: 1 },
      { assignee: 'wang.wu', received: 1, open: 1, dueToday: due, overdue: 0 },
    ]);
    expect(report.bySeverity).toEqual([
      { severity: 'general', received: 1, open: 2, dueToday: 0, overdue: 1 },
      { severity: 'major', received: 1, open: 1, dueToday: due, overdue: 0 },
    ]);

    const csv = await get(tenant.adminKey, `/v1/reports/daily-inventory?date=${today()}`, {
      accept: 'text/csv',
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const rows = parse(csv.body, { columns: true }) as Array<Record<string, string>>;
    expect(rows).toEqual([
      {
        date: today(),
        dimension: 'total',
        value: '',
        received: '2',
        open: '3',
        dueToday: `${due}`,
        overdue: '1',
      },
      {
        date: today(),
        dimension: 'handler',
        value: 'li.na',
        received: '1',
        open: '2',
        dueToday: '0',
        overdue: '1',
      },
      {
        date: today(),
        dimension: 'handler',
        value: 'wang.wu',
        received: '1',
        open: '1',
        dueToday: `${due}`,
        overdue: '0',
      },
      {
        date: today(),
        dimension: 'severity',
        value: 'general',
        received: '1',
        open: '2',
        dueToday: '0',
        overdue: '1',
      },
      {
        date: today(),
        dimension: 'severity',
        value: 'major',
        received: '1',
        open: '1',
        dueToday: `${due}`,
        overdue: '0',
      },
    ]);

    // Three days ago, as it stood at the end of that day: both old complaints were received and open.
    const then = daysAgo(3).toISOString().slice(0, 10);
    const past = (await get(tenant.adminKey, `/v1/reports/daily-inventory?date=${then}`)).json();
    expect(past.totals).toMatchObject({ received: 2, open: 2 });
    // Two days ago, both were open and their first contact (due a day after receipt) overdue. The
    // withdrawn one counts although it has changed since and its deadline is cancelled now.
    const before = daysAgo(2).toISOString().slice(0, 10);
    const twoDaysAgo = (await get(tenant.adminKey, `/v1/reports/daily-inventory?date=${before}`)).json();
    expect(twoDaysAgo.totals).toMatchObject({ received: 0, open: 2, overdue: 2 });

    // Declined at intake three days ago and taken in by a supervisor today: it was not open then.
    const declined = await create(tenant, {
      channel: 'phone',
      assignee: 'li.na',
      receivedAt: daysAgo(3).toISOString(),
      complainantRelation: 'other',
    });
    expect(declined.status).toBe('rejected');
    const override = await post(tenant.adminKey, `/v1/complaints/${declined.id}/acceptance-override`, {
      reason: 'The customer sent the power of attorney',
      supervisor: 'Chen Jie',
    });
    expect(override.statusCode, override.body).toBe(200);
    const afterOverride = (await get(tenant.adminKey, `/v1/reports/daily-inventory?date=${before}`)).json();
    expect(afterOverride.totals).toMatchObject({ open: 2 });
  });

  it('uses the tenant time zone for the day', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const report = (await get(tenant.adminKey, '/v1/reports/daily-inventory?date=2026-01-15')).json();
    expect(report).toMatchObject({
      timeZone: 'Asia/Shanghai',
      from: '2026-01-14T16:00:00.000Z',
      to: '2026-01-15T16:00:00.000Z',
      totals: { received: 0, open: 0, dueToday: 0, overdue: 0 },
      byHandler: [],
    });
  });

  it('refuses bad dates, future days, other scopes and no key', async () => {
    const tenant = await createUtcTenant(t);
    for (const query of ['date=2026-02-30', 'date=yesterday', 'date=2999-01-01', 'format=csv']) {
      const res = await get(tenant.adminKey, `/v1/reports/daily-inventory?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
    expect((await get(null as unknown as string, '/v1/reports/daily-inventory')).statusCode).toBe(401);
    const writer = await tenant.keyWith('complaints:read', 'complaints:write');
    expect((await get(writer, '/v1/reports/daily-inventory')).statusCode).toBe(403);
    const reader = await tenant.keyWith('reports:read');
    expect((await get(reader, '/v1/reports/daily-inventory')).statusCode).toBe(200);
    // Another tenant's complaints never show.
    const other = await createUtcTenant(t);
    await create(other, { channel: 'phone' });
    expect((await get(reader, `/v1/reports/daily-inventory?date=${today()}`)).json().totals.received).toBe(0);
  });
});

describe('GET /v1/reports/sla-compliance', () => {
  it('counts deadlines met on time, late, breached and pending per kind and group, with satisfaction', async () => {
    const tenant = await createUtcTenant(t);
    // Phone complaint received 30 hours ago, contacted just now: first contact met late.
    const late = await create(tenant, {
      channel: 'phone',
      receivedAt: new Date(Date.now() - 30 * 3_600_000).toISOString(),
    });
    await post(tenant.adminKey, `/v1/complaints/${late.id}/communications`, {
      direction: 'outbound',
      channel: 'phone',
      body: 'Called',
      contactMade: true,
    });
    // Web complaint received 5 hours ago: its online reply breached by the worker's record.
    const web = await create(tenant, {
      channel: 'web',
      receivedAt: new Date(Date.now() - 5 * 3_600_000).toISOString(),
    });
    const reply = (await get(tenant.adminKey, `/v1/complaints/${web.id}/deadlines`))
      .json()
      .data.find((d: { kind: string }) => d.kind === 'online_reply');
    expect(await t.services.deadlines.recordBreach(reply.id, new Date(reply.dueAt))).toBeDefined();
    // A resolved and satisfied complaint: first contact met on time, follow-up outcome scored 4.
    const happy = await create(tenant, { channel: 'phone' });
    await post(tenant.adminKey, `/v1/complaints/${happy.id}/communications`, {
      direction: 'outbound',
      channel: 'phone',
      body: 'Called',
      contactMade: true,
    });
    for (const to of ['acknowledged', 'investigating', 'resolved']) {
      await post(tenant.adminKey, `/v1/complaints/${happy.id}/transitions`, { to });
    }
    const [followUp] = (await get(tenant.adminKey, '/v1/follow-ups')).json().data;
    await post(tenant.adminKey, `/v1/follow-ups/${followUp.id}/outcome`, { outcome: 'satisfied', score: 4 });

    const from = daysAgo(2).toISOString().slice(0, 10);
    const to = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    const res = await get(
      tenant.adminKey,
      `/v1/reports/sla-compliance?from=${from}&to=${to}&groupBy=channel`,
    );
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json();
    expect(report).toMatchObject({ from, to, timeZone: 'UTC', groupBy: 'channel' });
    const row = (group: string, kind: string) =>
      report.deadlines.find((d: { group: string; kind: string }) => d.group === group && d.kind === kind);
    expect(row('phone', 'first_contact')).toEqual({
      group: 'phone',
      kind: 'first_contact',
      metOnTime: 1,
      metLate: 1,
      breached: 0,
      pending: 0,
      onTimePercent: 50,
    });
    expect(row('web', 'online_reply')).toMatchObject({ breached: 1, metOnTime: 0, onTimePercent: 0 });
    expect(row('web', 'first_contact')).toMatchObject({ pending: 1, onTimePercent: null });
    expect(report.satisfaction).toEqual([
      {
        group: 'phone',
        satisfied: 1,
        unsatisfied: 0,
        unreachable: 0,
        declined: 0,
        scored: 1,
        averageScore: 4,
      },
    ]);

    const overall = (await get(tenant.adminKey, `/v1/reports/sla-compliance?from=${from}&to=${to}`)).json();
    expect(overall.groupBy).toBeNull();
    expect(overall.deadlines.find((d: { kind: string }) => d.kind === 'first_contact')).toMatchObject({
      group: null,
      metOnTime: 1,
      metLate: 1,
      pending: 1,
    });
    const byAssignee = (
      await get(tenant.adminKey, `/v1/reports/sla-compliance?from=${from}&to=${to}&groupBy=assignee`)
    ).json();
    expect(byAssignee.satisfaction).toEqual([
      expect.objectContaining({ group: happy.assignee, satisfied: 1 }),
    ]);
  });

  it('refuses bad periods and groupings, and keeps to reports:read', async () => {
    const tenant = await createUtcTenant(t);
    for (const query of [
      'from=2026-01-10&to=2026-01-01',
      'from=2026-01-01',
      'from=2025-01-01&to=2026-06-01',
      'from=2026-01-01&to=2026-01-31&groupBy=mood',
      'from=2026-13-01&to=2026-12-31',
    ]) {
      const res = await get(tenant.adminKey, `/v1/reports/sla-compliance?${query}`);
      expect(res.statusCode, query).toBe(400);
    }
    const url = '/v1/reports/sla-compliance?from=2026-01-01&to=2026-01-31';
    expect((await get(null as unknown as string, url)).statusCode).toBe(401);
    expect((await get(await tenant.keyWith('complaints:read'), url)).statusCode).toBe(403);
    expect((await get(await tenant.keyWith('reports:read'), url)).json()).toMatchObject({
      deadlines: [],
      satisfaction: [],
    });
  });
});
