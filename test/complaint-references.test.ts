import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGraphql } from './graphql-client.js';
import {
  call,
  complaintBody,
  createTestTenant,
  startTestApp,
  type TestApp,
  type TestTenant,
} from './harness.js';
import { complaintClient, type Json } from './intake-helpers.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';

/**
 * Complaint references past C-999999 keep every digit (complaintReferenceSql). Cutting them to six
 * made complaint 1,000,000 C-100000, a reference the tenant already had, and every intake after
 * it failed. Checked through the API on each way intake numbers a complaint: the batched statement
 * (plain complaints, several at once) and the transaction of complaints declined or reported up at
 * intake.
 */
let isolated: IsolatedTestApp;
let t: TestApp;

beforeAll(async () => {
  // A database of its own: complaints sent together wait in intake's line, and a neighbouring
  // file that locks the complaints table for over 5 s (intake-batching) would turn them into 503s.
  isolated = await startIsolatedTestApp('references');
  t = isolated.app;
});
afterAll(() => isolated?.close());

/** Moves the tenant's reference counter so that its next complaint gets number `next`. */
async function numberNext(tenant: TestTenant, next: number): Promise<void> {
  await t.database.pool.query(
    `insert into complaint_reference_counters (tenant_id, last_number) values ($1, $2)
     on conflict (tenant_id) do update set last_number = excluded.last_number`,
    [tenant.tenantId, next - 1],
  );
}

/** The number in a reference; compared as text, C-1000000 would come before C-999999. */
const numberOf = (reference: string): number => Number(reference.slice('C-'.length));

const BY_REFERENCE = 'query ($reference: String!) { complaint(reference: $reference) { id reference } }';
const gqlByReference = (key: string, reference: string) =>
  postGraphql(t.app, key, BY_REFERENCE, { reference });

const intakePaths: Array<[string, Record<string, unknown>, Json]> = [
  // Nothing to decline or report up: the batched intake statement.
  ['plain', {}, { status: 'received', severity: 'general', majorReasons: [] }],
  // Declined at intake (not a stakeholder): its own transaction.
  [
    'declined',
    { complainantRelation: 'other' },
    { status: 'rejected', rejection: { code: expect.any(String) } },
  ],
  // Major at intake, so reported up: its own transaction.
  [
    'major',
    { mediaExposure: true },
    { status: 'received', severity: 'major', majorReasons: ['media_exposure'] },
  ],
];

describe.each(intakePaths)('a %s complaint at intake', (_path, body, shape) => {
  it('is numbered past C-999999 with every digit, in order, and found by that reference', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const api = complaintClient(t, tenant.adminKey);
    const first = await api.create(body);
    expect(first).toMatchObject({ ...shape, reference: 'C-000001' });

    await numberNext(tenant, 999_998);
    const created: Json[] = [];
    for (let i = 0; i < 4; i += 1) created.push(await api.create(body));
    for (const complaint of created) expect(complaint).toMatchObject(shape);
    expect(created.map((c) => c.reference)).toEqual(['C-999998', 'C-999999', 'C-1000000', 'C-1000001']);

    // A long reference finds its complaint as a six-digit one does: in REST, in a route below the
    // complaint, and in GraphQL.
    for (const complaint of [first, ...created]) {
      expect(await api.get(complaint.reference)).toMatchObject({
        id: complaint.id,
        reference: complaint.reference,
      });
    }
    const [entry] = await api.timeline('C-1000000');
    expect(entry).toMatchObject({
      type: 'complaint.created',
      data: { complaint: { reference: 'C-1000000' } },
    });
    const answer = await gqlByReference(tenant.adminKey, 'C-1000001');
    expect(answer.errors).toEqual([]);
    expect(answer.data.complaint).toEqual({ id: created[3]!.id, reference: 'C-1000001' });
  });
});

describe('complaints written together in one statement', () => {
  it('get every number across C-999999 once, with every digit, in the order each statement wrote them', async () => {
    const tenant = await createTestTenant(t.tenancy);
    await numberNext(tenant, 999_990);
    const count = 20;
    const responses = await Promise.all(
      Array.from({ length: count }, () =>
        call(t.app, tenant.adminKey, { method: 'POST', url: '/v1/complaints', json: complaintBody() }),
      ),
    );
    for (const res of responses) expect(res.statusCode, res.body).toBe(201);
    const created: Json[] = responses.map((res) => res.json());
    const references = created.map((c) => c.reference as string);

    // Every number from 999,990 on exactly once: none cut to six digits, none lost.
    expect(new Set(references).size).toBe(count);
    expect([...references].sort((a, b) => numberOf(a) - numberOf(b))).toEqual(
      Array.from({ length: count }, (_, i) => `C-${999_990 + i}`),
    );

    // They went in together (fewer statements than complaints), and each statement numbered its
    // complaints in the order it wrote them, across the boundary too.
    const { rows } = await t.database.pool.query<{ txid: string; reference: string }>(
      // xmin: the transaction that wrote the row (events are never updated).
      `select xmin::text as txid, reference from events
       where type = 'complaint.created' and complaint_id = any($1::uuid[]) order by position`,
      [created.map((c) => c.id)],
    );
    const byStatement = new Map<string, typeof rows>();
    for (const row of rows) byStatement.set(row.txid, [...(byStatement.get(row.txid) ?? []), row]);
    expect(byStatement.size).toBeLessThan(count);
    for (const written of byStatement.values()) {
      const numbers = written.map((row) => numberOf(row.reference));
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    }

    const api = complaintClient(t, tenant.adminKey);
    for (const complaint of created) expect((await api.get(complaint.reference)).id).toBe(complaint.id);
    // Numbering goes on after them.
    expect((await api.create()).reference).toBe(`C-${999_990 + count}`);
  });
});

describe("two API processes taking in one tenant's complaints at once", () => {
  it('hand out every number once, in one run with no gaps, and each complaint finds its reference', async () => {
    // A second app on the same database: a process of its own, with its own pool and batches, as a
    // second API process, or one behind a second Citus coordinator, would be.
    const second = await startTestApp({
      DATABASE_URL: isolated.databaseUrl,
      REDIS_PREFIX: isolated.redisPrefix,
    });
    try {
      const tenant = await createTestTenant(t.tenancy);
      const perApp = 24;
      const send = (app: TestApp) =>
        Array.from({ length: perApp }, () =>
          call(app.app, tenant.adminKey, { method: 'POST', url: '/v1/complaints', json: complaintBody() }),
        );
      const responses = await Promise.all([...send(t), ...send(second)]);
      for (const res of responses) expect(res.statusCode, res.body).toBe(201);
      const numbers = responses.map((res) => numberOf(res.json().reference)).sort((a, b) => a - b);
      expect(numbers).toEqual(Array.from({ length: 2 * perApp }, (_, i) => i + 1));
      const { rows } = await t.database.pool.query(
        'select last_number::int from complaint_reference_counters where tenant_id = $1',
        [tenant.tenantId],
      );
      expect(rows).toEqual([{ last_number: 2 * perApp }]);
    } finally {
      await second.close();
    }
  });
});

describe('GET /v1/complaints/{reference}', () => {
  it('takes any reference the counter can hand out, and refuses what no format makes', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const get = (key: string) =>
      call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${key}` });
    const unknown = await get('C-9223372036854775807');
    expect(unknown.statusCode, unknown.body).toBe(404);
    expect(unknown.json().detail).toBe("Complaint 'C-9223372036854775807' not found.");
    for (const impossible of ['C-999', 'c-000123', 'TOOLONGPREFIX-000123', 'BJ-26-000123', 'BJ-2026-']) {
      const refused = await get(impossible);
      expect(refused.statusCode, impossible).toBe(400);
      expect(refused.json().errors[0].field).toBe('params.id');
    }
  });
});

describe('a tenant’s own reference format', () => {
  const settingsUrl = '/v1/settings/workflow';
  async function setFormat(tenant: TestTenant, referenceFormat: Json) {
    const current = await call(t.app, tenant.adminKey, { method: 'GET', url: settingsUrl });
    return call(t.app, tenant.adminKey, {
      method: 'PUT',
      url: settingsUrl,
      headers: { 'if-match': current.headers.etag as string },
      json: { ...(current.json() as Json), referenceFormat },
    });
  }

  it('numbers new complaints with its prefix, year and width, on every intake path, and never reuses a number', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const api = complaintClient(t, tenant.adminKey);
    const before = await api.create();
    expect(before.reference).toBe('C-000001');

    const set = await setFormat(tenant, { prefix: 'BJ', year: true, digits: 7 });
    expect(set.statusCode, set.body).toBe(200);
    // The year the complaint is recorded in, in the tenant's time zone (Asia/Shanghai by default).
    const year = DateTime.now().setZone('Asia/Shanghai').year;
    const created: Json[] = [];
    for (const [, body] of intakePaths) created.push(await api.create(body));
    expect(created.map((c) => c.reference)).toEqual([
      `BJ-${year}-0000002`,
      `BJ-${year}-0000003`,
      `BJ-${year}-0000004`,
    ]);
    for (const complaint of created) expect((await api.get(complaint.reference)).id).toBe(complaint.id);
    const answer = await gqlByReference(tenant.adminKey, created[0]!.reference);
    expect(answer.data.complaint).toEqual({ id: created[0]!.id, reference: created[0]!.reference });

    // The complaint made before keeps its reference; going back to the old format carries on
    // counting, so no reference is handed out twice.
    expect((await api.get('C-000001')).id).toBe(before.id);
    expect((await setFormat(tenant, { prefix: 'C', year: false, digits: 6 })).statusCode).toBe(200);
    expect((await api.create()).reference).toBe('C-000005');

    await numberNext(tenant, 9_999_999);
    expect((await setFormat(tenant, { prefix: 'BJ', year: false, digits: 7 })).statusCode).toBe(200);
    expect((await api.create()).reference).toBe('BJ-9999999');
    expect((await api.create()).reference).toBe('BJ-10000000');
  });

  it('refuses a format no reference could be read back from', async () => {
    const tenant = await createTestTenant(t.tenancy);
    for (const [format, field] of [
      [{ prefix: 'bj' }, 'prefix'],
      [{ prefix: 'B-J' }, 'prefix'],
      [{ prefix: 'ABCDEFGHIJK' }, 'prefix'],
      [{ prefix: '' }, 'prefix'],
      [{ digits: 3 }, 'digits'],
      [{ digits: 13 }, 'digits'],
      [{ year: 'yes' }, 'year'],
      [{ suffix: 'X' }, 'referenceFormat'],
    ] as const) {
      const refused = await setFormat(tenant, format);
      expect(refused.statusCode, JSON.stringify(format)).toBe(400);
      expect(refused.json().code).toBe('validation_failed');
      expect(JSON.stringify(refused.json().errors)).toContain(field);
    }
    expect((await complaintClient(t, tenant.adminKey).create()).reference).toBe('C-000001');
  });
});
