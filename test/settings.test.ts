import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CAUSES } from '../src/modules/settings/cause-taxonomy.js';
import { call, createTestTenant, startTestApp, type TestApp } from './harness.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

const url = '/v1/settings/workflow';

describe('/v1/settings/workflow', () => {
  it('shows the seed values until the tenant changes them, then versions each change', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const first = await call(t.app, tenant.adminKey, { method: 'GET', url });
    expect(first.statusCode).toBe(200);
    expect(first.headers.etag).toBe('"1"');
    expect(first.json()).toEqual({
      acceptanceWindows: { billing: 'P5M', contract: 'P2Y' },
      safetyCategories: [
        'safety',
        'fire',
        'lift_entrapment',
        'explosion',
        'power_outage',
        'flooding',
        'theft',
        'crime',
      ],
      collectiveThreshold: 3,
      repeatWindowDays: 30,
      followUpMaxAttempts: 3,
      autoCloseAfter: 'P7D',
      timeZone: 'Asia/Shanghai',
      referenceFormat: { prefix: 'C', year: false, digits: 6 },
      roles: ['handler', 'team_lead', 'department_manager', 'general_manager'],
      approvalLimits: [
        { role: 'handler', currency: 'CNY', maxAmount: 500 },
        { role: 'team_lead', currency: 'CNY', maxAmount: 5000 },
        { role: 'department_manager', currency: 'CNY', maxAmount: 50000 },
        { role: 'general_manager', currency: 'CNY', maxAmount: 200_000 },
      ],
      causes: DEFAULT_CAUSES,
    });
    // The seed's causes (003 §8.1.1): product defects by whose responsibility, nine service
    // failures, and misuse of new products, each in Chinese and English.
    const causes = first.json().causes as Array<{
      code: string;
      group: string;
      labels: { zh: string; en: string };
    }>;
    expect(causes.map((c) => c.group)).toEqual([
      ...Array(3).fill('product_defect'),
      ...Array(9).fill('service_failure'),
      'misuse',
    ]);
    expect(causes.find((c) => c.code === 'broken_promise')?.labels).toEqual({
      zh: '不遵守双方的约定',
      en: 'Broken promises',
    });

    const put = await call(t.app, tenant.adminKey, {
      method: 'PUT',
      url,
      headers: { 'if-match': '"1"' },
      json: { acceptanceWindows: { billing: 'P3M' }, repeatWindowDays: 14 },
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.headers.etag).toBe('"2"');
    // Fields left out go back to their seed value.
    expect(put.json()).toMatchObject({
      acceptanceWindows: { billing: 'P3M' },
      repeatWindowDays: 14,
      collectiveThreshold: 3,
    });
    const read = await call(t.app, tenant.adminKey, { method: 'GET', url });
    expect(read.json().repeatWindowDays).toBe(14);

    const stale = await call(t.app, tenant.adminKey, {
      method: 'PUT',
      url,
      headers: { 'if-match': '"1"' },
      json: {},
    });
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ code: 'precondition_failed', currentEtag: '"2"' });
    expect((await call(t.app, tenant.adminKey, { method: 'PUT', url, json: {} })).json().code).toBe(
      'precondition_required',
    );
  });

  it('lets exactly one of several writers with the same ETag through, the first save included', async () => {
    const tenant = await createTestTenant(t.tenancy);
    for (const etag of ['"1"', '"2"']) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          call(t.app, tenant.adminKey, {
            method: 'PUT',
            url,
            headers: { 'if-match': etag },
            json: { followUpMaxAttempts: i + 1 },
          }),
        ),
      );
      const won = answers.filter((res) => res.statusCode === 200);
      expect(won, etag).toHaveLength(1);
      expect(
        answers.filter((res) => res.statusCode === 412),
        etag,
      ).toHaveLength(9);
      const stored = await call(t.app, tenant.adminKey, { method: 'GET', url });
      expect(stored.headers.etag).toBe(won[0]!.headers.etag);
      expect(stored.json().followUpMaxAttempts).toBe(won[0]!.json().followUpMaxAttempts);
    }
  });

  it('refuses settings that make no sense', async () => {
    const tenant = await createTestTenant(t.tenancy);
    for (const body of [
      { acceptanceWindows: { billing: 'five months' } },
      { acceptanceWindows: { billing: 'P0D' } },
      { acceptanceWindows: { billing: 'P999999999Y' } },
      { acceptanceWindows: { billing: 'P101Y' } },
      { acceptanceWindows: { billing: 'P1Y-2M' } },
      { collectiveThreshold: 1 },
      { repeatWindowDays: 0 },
      { followUpMaxAttempts: 21 },
      { timeZone: 'Mars/Olympus' },
      { roles: [] },
      { approvalLimits: [{ role: 'intern', currency: 'CNY', maxAmount: 10 }] },
      { approvalLimits: [{ role: 'handler', currency: 'yuan', maxAmount: 10 }] },
      { approvalLimits: [{ role: 'handler', currency: 'CNY', maxAmount: -1 }] },
      { unknownField: true },
    ]) {
      const res = await call(t.app, tenant.adminKey, {
        method: 'PUT',
        url,
        headers: { 'if-match': '*' },
        json: body,
      });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
    expect((await call(t.app, tenant.adminKey, { method: 'GET', url })).headers.etag).toBe('"1"');
  });

  it('refuses a time zone the database cannot count report days in, and keeps the settings it had', async () => {
    const tenant = await createTestTenant(t.tenancy);
    // A retired alias that the IANA data in Node still accepts and PostgreSQL's no longer has.
    const res = await call(t.app, tenant.adminKey, {
      method: 'PUT',
      url,
      headers: { 'if-match': '"1"' },
      json: { timeZone: 'US/Pacific-New' },
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'validation_failed',
      errors: [{ field: 'body.timeZone', message: "'US/Pacific-New' is not a time zone the database knows" }],
    });
    const after = await call(t.app, tenant.adminKey, { method: 'GET', url });
    expect(after.headers.etag).toBe('"1"');
    expect(after.json().timeZone).toBe('Asia/Shanghai');
  });

  it('keeps settings to their tenant and to policies:manage', async () => {
    const one = await createTestTenant(t.tenancy);
    const two = await createTestTenant(t.tenancy);
    await call(t.app, one.adminKey, {
      method: 'PUT',
      url,
      headers: { 'if-match': '*' },
      json: { repeatWindowDays: 7 },
    });
    expect((await call(t.app, two.adminKey, { method: 'GET', url })).json().repeatWindowDays).toBe(30);
    expect((await call(t.app, null, { method: 'GET', url })).statusCode).toBe(401);
    const writer = await one.keyWith('complaints:write');
    expect((await call(t.app, writer, { method: 'GET', url })).statusCode).toBe(403);
    expect(
      (await call(t.app, writer, { method: 'PUT', url, headers: { 'if-match': '*' }, json: {} })).statusCode,
    ).toBe(403);
  });
});
