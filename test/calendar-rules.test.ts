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

const weekdays = Object.fromEntries(
  ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => [
    day,
    [{ start: '09:00', end: '18:00' }],
  ]),
);

async function calendarPolicy(category: string, calendar: Record<string, unknown>) {
  const created = await call(t.app, tenant.adminKey, {
    method: 'POST',
    url: '/v1/calendars',
    json: { name: `${category} hours`, timeZone: 'Asia/Shanghai', ...calendar },
  });
  expect(created.statusCode, created.body).toBe(201);
  const policy = await call(t.app, tenant.adminKey, {
    method: 'POST',
    url: '/v1/sla-policies',
    json: { name: category, priority: 1, match: { categories: [category] }, calendarId: created.json().id },
  });
  expect(policy.statusCode, policy.body).toBe(201);
  return { calendar: created.json(), policy: policy.json() };
}

describe('calendars that cannot serve', () => {
  it('are refused when they have no open time in the coming year', async () => {
    const res = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/calendars',
      json: {
        name: 'Past only',
        timeZone: 'Asia/Shanghai',
        weeklyHours: {},
        extraWorkingDays: [{ date: '2020-01-04', intervals: [{ start: '09:00', end: '17:00' }] }],
      },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].message).toContain('no open time in the coming year');
  });

  it('answer 422 instead of failing intake when their open time has run out', async () => {
    const { calendar } = await calendarPolicy('closing', { weeklyHours: weekdays });
    // Hours taken away behind the API's back: only a day long gone remains.
    await t.database.pool.query(
      `update calendars set weekly_hours = '{}', extra_working_days =
         '[{"date": "2020-01-04", "name": null, "intervals": [{"start": "09:00", "end": "17:00"}]}]' where id = $1`,
      [calendar.id],
    );
    await t.database.pool.query(`select pg_notify('redress_changes', $1)`, [
      JSON.stringify({ kind: 'sla_config', tenantId: tenant.tenantId }),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const res = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody({ category: 'closing' }),
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'calendar_has_no_open_time', calendarId: calendar.id });
  });

  it('answer 422 instead of failing intake when they have fewer working days than a target needs', async () => {
    const only = new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10);
    const { calendar } = await calendarPolicy('one-day', {
      weeklyHours: {},
      extraWorkingDays: [{ date: only, intervals: [{ start: '09:00', end: '17:00' }] }],
    });
    const res = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody({ channel: 'web', category: 'one-day' }),
    });
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json()).toMatchObject({ code: 'calendar_has_no_open_time', calendarId: calendar.id });
  });

  it('are either deleted or taken by a policy created at the same moment, never half of each', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const created = await call(t.app, tenant.adminKey, {
          method: 'POST',
          url: '/v1/calendars',
          json: { name: `race ${i}`, timeZone: 'Asia/Shanghai', weeklyHours: weekdays },
        });
        expect(created.statusCode, created.body).toBe(201);
        const calendarId = created.json().id;
        const [policy, removal] = await Promise.all([
          call(t.app, tenant.adminKey, {
            method: 'POST',
            url: '/v1/sla-policies',
            json: { name: `race ${i}`, priority: 1, match: { categories: [`race-${i}`] }, calendarId },
          }),
          call(t.app, tenant.adminKey, { method: 'DELETE', url: `/v1/calendars/${calendarId}` }),
        ]);
        return `${policy.statusCode}/${removal.statusCode}`;
      }),
    );
    // The policy first (the removal then finds it using the calendar), or the removal first.
    for (const outcome of outcomes) expect(['201/409', '400/204']).toContain(outcome);
  });

  it('cannot be deleted while open deadlines run on them', async () => {
    const { calendar, policy } = await calendarPolicy('paused-hours', { weeklyHours: weekdays });
    const complaint = (
      await call(t.app, tenant.adminKey, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody({ category: 'paused-hours' }),
      })
    ).json();
    // Point the policy elsewhere: the complaint's resolution deadline still runs on the calendar.
    const moved = await call(t.app, tenant.adminKey, {
      method: 'PATCH',
      url: `/v1/sla-policies/${policy.id}`,
      headers: { 'if-match': `"${policy.version}"` },
      json: { calendarId: null },
    });
    expect(moved.statusCode, moved.body).toBe(200);
    const refused = await call(t.app, tenant.adminKey, {
      method: 'DELETE',
      url: `/v1/calendars/${calendar.id}`,
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('calendar_in_use');
    for (const to of ['withdrawn']) {
      await call(t.app, tenant.adminKey, {
        method: 'POST',
        url: `/v1/complaints/${complaint.id}/transitions`,
        json: { to, reason: 'Settled' },
      });
    }
    const deleted = await call(t.app, tenant.adminKey, {
      method: 'DELETE',
      url: `/v1/calendars/${calendar.id}`,
    });
    expect(deleted.statusCode).toBe(204);
  });
});
