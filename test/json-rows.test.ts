import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { complaints, deadlines } from '../src/db/schema/index.js';
import { createComplaintsRepository } from '../src/modules/complaints/complaints.repository.js';
import { createComplaintBody } from '../src/modules/complaints/complaints.schemas.js';
import { call, complaintBody, createTestTenant, startTestApp, type TestApp } from './harness.js';

/**
 * The hot reads and intake's insert answer with the complaint as one JSON value, mapped back with
 * tableRowFromRaw. Whatever the columns hold, the row must be the one drizzle's own select gives.
 */
describe('complaints read as one JSON value', () => {
  let t: TestApp;
  let tenantId: string;
  let key: string;

  beforeAll(async () => {
    t = await startTestApp();
    ({ tenantId, adminKey: key } = await createTestTenant(t.tenancy));
  });
  afterAll(async () => t.close());

  /** A complaint with every optional field set, including arrays, enums, jsonb and timestamps. */
  async function createFullComplaint(overrides: Record<string, unknown> = {}) {
    const res = await call(t.app, key, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody({
        customer: {
          name: '王芳 "Wang" Fang',
          phone: '+86 138 0013 8000',
          email: 'wang.fang@example.com',
          address: '3 Lane 88, Shanghai\nBuilding 3',
          externalId: `json-${Date.now()}-${Math.random()}`,
        },
        occurredAt: '2026-11-30T08:15:30.123Z',
        receivedAt: new Date(Date.now() - 60_000).toISOString(),
        externalRef: `ext-${Date.now()}-${Math.random()}`,
        priority: 'urgent',
        complainantRelation: 'representative',
        complainantAuthorised: true,
        responsibility: 'upstream',
        upstreamParty: 'Lift manufacturer',
        needType: 'emotional',
        liability: { finding: 'not_liable', reason: 'third_party', note: 'A contractor cut the power.' },
        subjectStaff: ['Li Lei', 'Han Meimei'],
        tags: ['lift', 'safety', 'quote"d'],
        metadata: { crm: { ticket: 4711, flags: [true, null, 1.5] }, note: 'ü ✓ \t tab' },
        mediaExposure: true,
        ...overrides,
      }),
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  }

  async function selectedByDrizzle(id: string) {
    const [complaint] = await t.database.db
      .select()
      .from(complaints)
      .where(and(eq(complaints.tenantId, tenantId), eq(complaints.id, id)));
    const [next] = await t.database.db
      .select({ id: deadlines.id, kind: deadlines.kind, dueAt: deadlines.dueAt })
      .from(deadlines)
      .where(and(eq(deadlines.complaintId, id), eq(deadlines.status, 'pending')))
      .orderBy(asc(deadlines.dueAt))
      .limit(1);
    return { complaint, nextDeadline: next ?? null };
  }

  it('gives the row drizzle selects, by id and by reference, for a complaint with every field set', async () => {
    const id = await createFullComplaint();
    const repository = createComplaintsRepository(t.database.db);
    const expected = await selectedByDrizzle(id);
    // The case must exercise the types that travel differently in JSON.
    expect(expected.complaint?.majorReasons).toEqual(['media_exposure']);
    expect(expected.complaint?.majorSince).toBeInstanceOf(Date);
    expect(expected.complaint?.subjectStaff).toHaveLength(2);
    expect(expected.nextDeadline).not.toBeNull();

    expect(await repository.findWithNextDeadline(tenantId, id)).toStrictEqual(expected);
    expect(await repository.findWithNextDeadline(tenantId, expected.complaint!.reference)).toStrictEqual(
      expected,
    );
  });

  it('gives a null next deadline when none is pending, and nothing for another tenant', async () => {
    const id = await createFullComplaint({ mediaExposure: false });
    await t.database.db
      .update(deadlines)
      .set({ status: 'cancelled', cancelledAt: new Date() })
      .where(eq(deadlines.complaintId, id));
    const repository = createComplaintsRepository(t.database.db);
    const found = await repository.findWithNextDeadline(tenantId, id);
    expect(found).toStrictEqual(await selectedByDrizzle(id));
    expect(found?.nextDeadline).toBeNull();

    const other = await createTestTenant(t.tenancy);
    expect(await repository.findWithNextDeadline(other.tenantId, id)).toBeUndefined();
  });

  it('answers reads asked for together one by one, each within its own tenant', async () => {
    const first = await createFullComplaint();
    const second = await createFullComplaint({ mediaExposure: false });
    const other = await createTestTenant(t.tenancy);
    const repository = createComplaintsRepository(t.database.db);
    const expectedFirst = await selectedByDrizzle(first);
    const expectedSecond = await selectedByDrizzle(second);
    // Asked in one event-loop turn, they go to PostgreSQL as one statement.
    const found = await Promise.all([
      repository.findWithNextDeadline(tenantId, first),
      repository.findWithNextDeadline(other.tenantId, first),
      repository.findWithNextDeadline(tenantId, expectedSecond.complaint!.reference),
      repository.findWithNextDeadline(other.tenantId, expectedSecond.complaint!.reference),
      repository.findWithNextDeadline(tenantId, '00000000-0000-0000-0000-000000000000'),
      repository.findWithNextDeadline(tenantId, 'C-999999999'),
      repository.findWithNextDeadline(tenantId, first),
    ]);
    expect(found).toStrictEqual([
      expectedFirst,
      undefined,
      expectedSecond,
      undefined,
      undefined,
      undefined,
      expectedFirst,
    ]);
  });

  it('returns from intake the row it inserted, as drizzle selects it', async () => {
    const acting = {
      tenantId,
      actor: { type: 'api_key' as const, id: null, name: 'test', onBehalfOf: null },
    };
    const body = (overrides: Record<string, unknown>) =>
      createComplaintBody.parse(
        complaintBody({
          tags: ['a', 'b'],
          metadata: { n: 1, nested: { list: [1, 'two'] } },
          occurredAt: '2026-11-30T08:15:30.123Z',
          subjectStaff: ['Li Lei'],
          ...overrides,
        }),
      );
    // The one-statement path: nothing changes the complaint after the insert answered.
    const { row } = await t.services.complaints.create(acting, body({}));
    const { complaint } = await selectedByDrizzle(row.id);
    expect(row).toStrictEqual(complaint);
  });
});
