import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/lib/ids.js';
import { toComplaintView } from '../src/modules/complaints/complaint-views.js';
import {
  type ComplaintRow,
  createComplaintsRepository,
} from '../src/modules/complaints/complaints.repository.js';
import { newEventId } from '../src/modules/events/events.repository.js';
import {
  call,
  complaintBody,
  createTestTenant,
  startTestApp,
  type TestApp,
  type TestTenant,
} from './harness.js';

/**
 * Complaints coming in together are written together: one statement, one commit for the lot (see
 * intakeStatement). Each must still get its own answer, its own deadlines, timeline entry and
 * event, and one complaint that cannot be written must not cost the others theirs.
 */
let t: TestApp;
let tenant: TestTenant;

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTestTenant(t.tenancy);
});
afterAll(() => t.close());

const post = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  call(t.app, tenant.adminKey, { method: 'POST', url: '/v1/complaints', json: body, headers });

/** An intake written straight through the repository, as the service would hand it in. */
function rawIntake(subject: string, options: { channel?: string; idempotencyKey?: string } = {}) {
  const id = newId();
  const now = new Date();
  const complaint = {
    id,
    tenantId: tenant.tenantId,
    channel: (options.channel ?? 'web') as 'web',
    subject,
    description: 'Written straight through the repository.',
    receivedAt: now,
    receivedBy: 'batch test',
    assignee: 'batch test',
    createdAt: now,
    updatedAt: now,
  };
  return {
    complaint,
    deadlines: [],
    actor: { type: 'api_key' as const, id: newId(), name: 'batch test', onBehalfOf: null },
    // Only the columns above; the statement fills in the reference.
    view: toComplaintView(
      { ...complaint, reference: '', status: 'received', version: 1 } as ComplaintRow,
      undefined,
    ),
    eventId: newEventId(),
    idempotencyKey: options.idempotencyKey ?? null,
    reference: { lead: 'C-', digits: 6 },
  };
}

/** The transaction each complaint's `complaint.created` event was written in. */
async function creationTransactions(ids: string[]): Promise<Map<string, string>> {
  const { rows } = await t.database.pool.query<{ complaint_id: string; txid: string }>(
    // xmin: the transaction that wrote the row (events are never updated).
    `select complaint_id, xmin::text as txid from events where type = 'complaint.created' and complaint_id = any($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((row) => [row.complaint_id, row.txid]));
}

describe('intake of complaints coming in together', () => {
  it('writes them in shared transactions, each with its own reference, deadlines, timeline and event', async () => {
    const bodies = Array.from({ length: 30 }, (_, n) => complaintBody({ subject: `Batch complaint ${n}` }));
    const responses = await Promise.all(bodies.map((body) => post(body)));
    for (const res of responses) expect(res.statusCode, res.body).toBe(201);
    const created = responses.map((res) => res.json());
    // Every answer is the complaint its own request sent, not a neighbour's.
    expect(created.map((c) => c.subject)).toEqual(bodies.map((b) => b.subject));
    expect(created.map((c) => c.customer.externalId)).toEqual(bodies.map((b) => b.customer.externalId));
    expect(new Set(created.map((c) => c.reference)).size).toBe(30);

    const transactions = await creationTransactions(created.map((c) => c.id));
    expect(transactions.size).toBe(30);
    // Written together: fewer transactions than complaints.
    expect(new Set(transactions.values()).size).toBeLessThan(30);

    for (const complaint of created) {
      expect(complaint.nextDeadline).not.toBeNull();
      const deadlines = await call(t.app, tenant.adminKey, {
        method: 'GET',
        url: `/v1/complaints/${complaint.id}/deadlines`,
      });
      expect(deadlines.statusCode, deadlines.body).toBe(200);
      // A web complaint: first contact, the online reply and resolution.
      expect(
        deadlines
          .json()
          .data.map((d: { kind: string }) => d.kind)
          .sort(),
      ).toEqual(['first_contact', 'online_reply', 'resolution']);
      const timeline = await call(t.app, tenant.adminKey, {
        method: 'GET',
        url: `/v1/complaints/${complaint.id}/timeline`,
      });
      const [entry] = timeline.json().data;
      expect(entry.type).toBe('complaint.created');
      expect(entry.data.complaint).toMatchObject({
        reference: complaint.reference,
        subject: complaint.subject,
      });
    }
    const { rows: events } = await t.database.pool.query<{ complaint_id: string; reference: string }>(
      `select complaint_id, reference from events
       where type = 'complaint.created' and complaint_id = any($1::uuid[])`,
      [created.map((c) => c.id)],
    );
    expect(new Map(events.map((e) => [e.complaint_id, e.reference]))).toEqual(
      new Map(created.map((c) => [c.id, c.reference])),
    );
  });

  it('refuses a repeated externalRef in the same batch without costing the others', async () => {
    const externalRef = `CRM-${newId()}`;
    const bodies = [
      complaintBody({ subject: 'first' }),
      complaintBody({ subject: 'ref A', externalRef }),
      complaintBody({ subject: 'middle' }),
      complaintBody({ subject: 'ref B', externalRef }),
      complaintBody({ subject: 'last' }),
    ];
    const responses = await Promise.all(bodies.map((body) => post(body)));
    const statuses = responses.map((res) => res.statusCode);
    expect([statuses[0], statuses[2], statuses[4]]).toEqual([201, 201, 201]);
    expect([statuses[1], statuses[3]].sort()).toEqual([201, 409]);
    const winner = responses[statuses[1] === 201 ? 1 : 3]!.json();
    const loser = responses[statuses[1] === 201 ? 3 : 1]!.json();
    expect(loser).toMatchObject({
      code: 'external_ref_conflict',
      existingComplaint: { id: winner.id, reference: winner.reference },
    });
    const { rows } = await t.database.pool.query(
      'select subject from complaints where tenant_id = $1 and external_ref = $2',
      [tenant.tenantId, externalRef],
    );
    expect(rows).toEqual([{ subject: winner.subject }]);
  });

  it('binds each Idempotency-Key of a batch to its own complaint', async () => {
    const keys = Array.from({ length: 8 }, () => `batch-${newId()}`);
    const bodies = keys.map((_, n) => complaintBody({ subject: `Keyed ${n}` }));
    const first = await Promise.all(bodies.map((body, n) => post(body, { 'idempotency-key': keys[n]! })));
    for (const res of first) expect(res.statusCode, res.body).toBe(201);
    const replays = await Promise.all(bodies.map((body, n) => post(body, { 'idempotency-key': keys[n]! })));
    expect(replays.map((res) => res.json().id)).toEqual(first.map((res) => res.json().id));
    expect(replays.map((res) => res.json().subject)).toEqual(bodies.map((b) => b.subject));
    const { rows } = await t.database.pool.query<{ key: string; subject: string }>(
      `select k.key, c.subject from idempotency_keys k join complaints c on c.tenant_id = k.tenant_id and c.id = k.resource_id
       where k.tenant_id = $1 and k.key = any($2::text[])`,
      [tenant.tenantId, keys],
    );
    expect(new Map(rows.map((row) => [row.key, row.subject]))).toEqual(
      new Map(keys.map((key, n) => [key, bodies[n]!.subject])),
    );
  });

  it("writes several tenants' complaints together on one server, each numbered and keyed within its tenant", async () => {
    const tenants = [tenant, await createTestTenant(t.tenancy), await createTestTenant(t.tenancy)];
    const perTenant = 8;
    // Every tenant sends the same Idempotency-Keys: a key binds within its own tenant only.
    const keys = Array.from({ length: perTenant }, () => `shared-${newId()}`);
    const sends = keys.flatMap((key, n) =>
      tenants.map((sender, which) => ({
        sender,
        key,
        body: complaintBody({ subject: `Tenant ${which} complaint ${n}` }),
      })),
    );
    const responses = await Promise.all(
      sends.map(({ sender, key, body }) =>
        call(t.app, sender.adminKey, {
          method: 'POST',
          url: '/v1/complaints',
          json: body,
          headers: { 'idempotency-key': key },
        }),
      ),
    );
    for (const res of responses) expect(res.statusCode, res.body).toBe(201);
    const created = responses.map((res) => res.json());
    expect(created.map((c) => c.subject)).toEqual(sends.map((send) => send.body.subject));

    for (const sender of tenants.slice(1)) {
      // A new tenant's numbers run from 1, each once, whatever else its batches held.
      const numbers = created
        .filter((_, i) => sends[i]!.sender === sender)
        .map((c) => Number(c.reference.slice('C-'.length)))
        .sort((a, b) => a - b);
      expect(numbers).toEqual(Array.from({ length: perTenant }, (_, i) => i + 1));
    }
    const { rows: bound } = await t.database.pool.query<{ tenant_id: string; key: string; id: string }>(
      `select tenant_id, key, resource_id as id from idempotency_keys
       where tenant_id = any($1::uuid[]) and key = any($2::text[])`,
      [tenants.map((x) => x.tenantId), keys],
    );
    expect(new Map(bound.map((row) => [`${row.tenant_id} ${row.key}`, row.id]))).toEqual(
      new Map(sends.map((send, i) => [`${send.sender.tenantId} ${send.key}`, created[i].id])),
    );

    // On one server a batch takes whoever waits; on Citus it holds one tenant (tenantBatchKey).
    const transactions = await creationTransactions(created.map((c) => c.id));
    const tenantsOf = new Map<string, Set<string>>();
    for (const [i, complaint] of created.entries()) {
      const txid = transactions.get(complaint.id)!;
      tenantsOf.set(txid, (tenantsOf.get(txid) ?? new Set()).add(sends[i]!.sender.tenantId));
    }
    expect(tenantsOf.size).toBeLessThan(created.length);
    const { rows: citus } = await t.database.pool.query("select 1 from pg_extension where extname = 'citus'");
    const mixed = [...tenantsOf.values()].some((held) => held.size > 1);
    expect(mixed).toBe(citus.length === 0);
  });

  it('finds the repeats among complaints coming in together, and only those', async () => {
    const customers = Array.from({ length: 10 }, (_, n) => `batch-customer-${newId()}-${n}`);
    const customer = (externalId: string) => ({ name: 'Li Lei', externalId });
    // Three of the ten customers complained in this category before.
    for (const externalId of customers.slice(0, 3)) {
      const res = await post(complaintBody({ category: 'billing', customer: customer(externalId) }));
      expect(res.statusCode, res.body).toBe(201);
    }
    const responses = await Promise.all(
      customers.map((externalId) =>
        post(complaintBody({ category: 'billing', customer: customer(externalId) })),
      ),
    );
    for (const res of responses) expect(res.statusCode, res.body).toBe(201);
    expect(responses.map((res) => res.json().severity)).toEqual([
      ...Array(3).fill('major'),
      ...Array(7).fill('general'),
    ]);
    expect(responses.slice(0, 3).map((res) => res.json().majorReasons)).toEqual(Array(3).fill(['repeat']));
  });

  it('writes the others of a batch when one of them cannot be written, and nothing of that one', async () => {
    const repository = createComplaintsRepository(t.database.db);
    // Handed in during one event-loop turn, so they go as one batch; the channel of the third
    // is not one PostgreSQL knows, so the batch's statement fails as a whole.
    const intakes = [
      rawIntake('good 1'),
      rawIntake('good 2'),
      rawIntake('bad', { channel: 'carrier_pigeon' }),
      rawIntake('good 3'),
    ];
    const results = await Promise.allSettled(intakes.map((each) => repository.insertAtIntake(each)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const { rows } = await t.database.pool.query<{ subject: string }>(
      'select subject from complaints where id = any($1::uuid[]) order by subject',
      [intakes.map((each) => each.complaint.id)],
    );
    expect(rows.map((row) => row.subject)).toEqual(['good 1', 'good 2', 'good 3']);
    const { rows: events } = await t.database.pool.query('select 1 from events where complaint_id = $1', [
      intakes[2]!.complaint.id,
    ]);
    expect(events).toEqual([]);
  });

  it('writes one complaint for two attempts with the same Idempotency-Key in one batch', async () => {
    const repository = createComplaintsRepository(t.database.db);
    const key = `same-batch-${newId()}`;
    await t.database.pool.query(
      `insert into idempotency_keys (tenant_id, key, request_fingerprint, state, locked_until, expires_at)
       values ($1, $2, 'fingerprint', 'in_progress', now() + interval '1 minute', now() + interval '1 day')`,
      [tenant.tenantId, key],
    );
    // The first attempt, and a retry that took its lease over, handed in during one turn.
    const attempts = [
      rawIntake('attempt 1', { idempotencyKey: key }),
      rawIntake('attempt 2', { idempotencyKey: key }),
    ];
    const results = await Promise.all(attempts.map((each) => repository.insertAtIntake(each)));
    expect(results.map((row) => row?.subject)).toEqual(['attempt 1', undefined]);
    const { rows } = await t.database.pool.query(
      `select c.subject from idempotency_keys k join complaints c on c.tenant_id = k.tenant_id and c.id = k.resource_id
       where k.tenant_id = $1 and k.key = $2`,
      [tenant.tenantId, key],
    );
    expect(rows).toEqual([{ subject: 'attempt 1' }]);
    const { rows: written } = await t.database.pool.query(
      'select 1 from complaints where id = any($1::uuid[])',
      [attempts.map((each) => each.complaint.id)],
    );
    expect(written).toHaveLength(1);
  });

  it('refuses with 503, writing nothing, a complaint that waits over 5 s behind a stalled database', async () => {
    const blocker = await t.database.pool.connect();
    const subjects = ['stalled 1', 'stalled 2', 'stalled 3'].map((subject) => `${subject} ${newId()}`);
    try {
      // Reads go on (the repeat lookups); every insert into complaints waits for this lock.
      await blocker.query('begin; lock table complaints in exclusive mode');
      const first = post(complaintBody({ subject: subjects[0] }));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const second = post(complaintBody({ subject: subjects[1] }));
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Both of intake's slots are taken by the stalled batches: this one waits in line.
      const third = await post(complaintBody({ subject: subjects[2] }));
      expect(third.statusCode, third.body).toBe(503);
      expect(third.json()).toMatchObject({ code: 'service_unavailable', status: 503 });
      expect(third.headers['retry-after']).toBe('1');
      await blocker.query('commit');
      expect((await first).statusCode).toBe(201);
      expect((await second).statusCode).toBe(201);
    } finally {
      await blocker.query('rollback').catch(() => {});
      blocker.release();
    }
    const { rows } = await t.database.pool.query<{ subject: string }>(
      'select subject from complaints where tenant_id = $1 and subject = any($2::text[]) order by subject',
      [tenant.tenantId, subjects],
    );
    expect(rows.map((row) => row.subject)).toEqual(subjects.slice(0, 2));
  }, 20_000);
});
