import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events } from '../src/db/schema/index.js';
import type { DeadlineJob } from '../src/jobs/queues.js';
import { newId } from '../src/lib/ids.js';
import type { RecordedWakeUp, WakeUpToRecord } from '../src/modules/deadlines/deadlines.repository.js';
import { toEventEnvelope } from '../src/modules/events/event-envelope.js';
import { newEventId } from '../src/modules/events/events.repository.js';
import {
  call,
  complaintBody,
  createTestTenant,
  startTestApp,
  type TestApp,
  type TestTenant,
} from './harness.js';
import { viewsInSql } from './sql-views.js';

// Event payloads are free JSON whose nested members the assertions read.
// biome-ignore lint/suspicious/noExplicitAny: see above
type EventData = Record<string, any>;
let t: TestApp;
let tenant: TestTenant;

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTestTenant(t.tenancy);
});
afterAll(async () => {
  await t?.close();
});

async function createComplaint(overrides: Record<string, unknown> = {}, key = tenant.adminKey) {
  const res = await call(t.app, key, {
    method: 'POST',
    url: '/v1/complaints',
    json: complaintBody(overrides),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function escalate(complaintId: string, body: unknown, key = tenant.adminKey) {
  return call(t.app, key, { method: 'POST', url: `/v1/complaints/${complaintId}/escalations`, json: body });
}

async function escalationsOf(complaintId: string, key = tenant.adminKey) {
  const res = await call(t.app, key, { method: 'GET', url: `/v1/complaints/${complaintId}/escalations` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data;
}

/** The complaints' events as consumers receive them, complaint by complaint in the order they were numbered. */
async function envelopesOf(complaintIds: string[]) {
  const rows = await t.database.db
    .select()
    .from(events)
    .where(inArray(events.complaintId, complaintIds))
    .orderBy(events.sequence);
  return rows
    .sort((a, b) => complaintIds.indexOf(a.complaintId!) - complaintIds.indexOf(b.complaintId!))
    .map((row) => ({ type: row.type, sequence: row.sequence, data: toEventEnvelope(row).data as EventData }));
}

/** The complaint's events in the order they were numbered. */
const eventsOf = (complaintId: string) => envelopesOf([complaintId]);

describe('escalating by hand', () => {
  it('raises the level, notifies the policy targets, and records it everywhere', async () => {
    const complaint = await createComplaint();
    const res = await escalate(complaint.id, { level: 1, reason: 'Customer asked for a supervisor' });
    expect(res.statusCode, res.body).toBe(201);
    const escalation = res.json();
    expect(escalation).toMatchObject({
      complaintId: complaint.id,
      level: 1,
      previousLevel: 0,
      trigger: 'manual',
      reason: 'Customer asked for a supervisor',
      deadlineId: null,
      targets: [{ role: 'team_lead' }],
      actor: { type: 'api_key' },
    });
    expect(res.headers.location).toBe(`/v1/complaints/${complaint.id}/escalations`);

    const after = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}` })
    ).json();
    expect(after).toMatchObject({ escalationLevel: 1, version: complaint.version + 1 });

    // Skipping a level is allowed: a handler may go straight to the crisis team.
    const top = await escalate(complaint.reference, { level: 3, reason: 'Media exposure threatened' });
    expect(top.statusCode, top.body).toBe(201);
    expect(top.json()).toMatchObject({
      level: 3,
      previousLevel: 1,
      targets: [{ role: 'crisis_team' }, { role: 'general_manager' }],
    });

    expect((await escalationsOf(complaint.id)).map((e: { level: number }) => e.level)).toEqual([1, 3]);
    const timeline = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}/timeline` })
    ).json().data;
    const entries = timeline.filter((e: { type: string }) => e.type === 'complaint.escalated');
    expect(entries).toHaveLength(2);
    expect(entries[0].changes).toEqual([{ field: 'escalationLevel', before: 0, after: 1 }]);

    const escalated = (await eventsOf(complaint.id)).filter((e) => e.type === 'complaint.escalated');
    expect(escalated).toHaveLength(2);
    expect(escalated[0]!.data).toMatchObject({
      reference: complaint.reference,
      escalation: {
        id: escalation.id,
        level: 1,
        reason: 'Customer asked for a supervisor',
        targets: [{ role: 'team_lead' }],
      },
      complaint: { id: complaint.id, escalationLevel: 1 },
      deadline: null,
    });
  });

  it('uses the escalation targets of the policy governing the complaint', async () => {
    const own = await createTestTenant(t.tenancy);
    const policy = await call(t.app, own.adminKey, {
      method: 'POST',
      url: '/v1/sla-policies',
      json: {
        name: 'Billing desk',
        priority: 1,
        match: { categories: ['billing'] },
        escalationTargets: {
          '1': [{ role: 'billing_lead', name: 'Li Na', email: 'li.na@example.com' }],
          '2': [{ role: 'finance_manager' }],
          '3': [{ role: 'crisis_team' }],
        },
      },
    });
    expect(policy.statusCode, policy.body).toBe(201);
    expect(policy.json().escalationTargets['1']).toEqual([
      { role: 'billing_lead', name: 'Li Na', email: 'li.na@example.com' },
    ]);
    const complaint = await createComplaint({ category: 'billing' }, own.adminKey);
    const res = await escalate(complaint.id, { level: 1, reason: 'Over the handler limit' }, own.adminKey);
    expect(res.json().targets).toEqual([{ role: 'billing_lead', name: 'Li Na', email: 'li.na@example.com' }]);
  });

  it('refuses a level that does not rise, bad bodies and finished complaints', async () => {
    const complaint = await createComplaint();
    expect((await escalate(complaint.id, { level: 2, reason: 'Manager needed' })).statusCode).toBe(201);
    const same = await escalate(complaint.id, { level: 2, reason: 'Again' });
    expect(same.statusCode).toBe(409);
    expect(same.headers['content-type']).toContain('application/problem+json');
    expect(same.json()).toMatchObject({ code: 'escalation_level_not_higher', currentLevel: 2 });
    expect((await escalate(complaint.id, { level: 1, reason: 'Lower' })).json().code).toBe(
      'escalation_level_not_higher',
    );

    for (const body of [
      { level: 4, reason: 'Too high' },
      { level: 0, reason: 'Too low' },
      { level: 1.5, reason: 'Not whole' },
      { level: 3 },
      { level: 3, reason: '' },
      { level: 3, reason: 'x'.repeat(2_001) },
      { level: 3, reason: 'ok', extra: true },
    ]) {
      const res = await escalate(complaint.id, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
    expect((await escalationsOf(complaint.id)).map((e: { level: number }) => e.level)).toEqual([2]);

    const withdrawn = await createComplaint();
    await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${withdrawn.id}/transitions`,
      json: { to: 'withdrawn', reason: 'Settled elsewhere' },
    });
    const finished = await escalate(withdrawn.id, { level: 1, reason: 'Too late' });
    expect(finished.statusCode).toBe(409);
    expect(finished.json()).toMatchObject({ code: 'complaint_finished', currentStatus: 'withdrawn' });
  });

  it('keeps escalations to their tenant and to the right scopes', async () => {
    const complaint = await createComplaint();
    const other = await createTestTenant(t.tenancy);
    expect((await escalate(complaint.id, { level: 1, reason: 'x' }, other.adminKey)).statusCode).toBe(404);
    expect(
      (
        await call(t.app, other.adminKey, {
          method: 'GET',
          url: `/v1/complaints/${complaint.id}/escalations`,
        })
      ).statusCode,
    ).toBe(404);
    expect(
      (await escalate(complaint.id, { level: 1, reason: 'x' }, null as unknown as string)).statusCode,
    ).toBe(401);
    const reader = await tenant.keyWith('complaints:read');
    expect((await escalate(complaint.id, { level: 1, reason: 'x' }, reader)).statusCode).toBe(403);
    const writerOnly = await tenant.keyWith('policies:manage');
    expect(
      (await call(t.app, writerOnly, { method: 'GET', url: `/v1/complaints/${complaint.id}/escalations` }))
        .statusCode,
    ).toBe(403);
    expect(await escalationsOf(complaint.id, reader)).toEqual([]);
  });
});

describe('major complaints', () => {
  it('are taken in at level 2, reported up, with their report deadline', async () => {
    const complaint = await createComplaint({ severity: 'major' });
    expect(complaint).toMatchObject({ escalationLevel: 2, version: 1 });
    const [escalation] = await escalationsOf(complaint.id);
    expect(escalation).toMatchObject({
      level: 2,
      previousLevel: 0,
      trigger: 'major',
      // DOMAIN §4: the department manager and the crisis team led by the general manager.
      targets: [{ role: 'department_manager' }, { role: 'crisis_team' }, { role: 'general_manager' }],
    });
    const events = await eventsOf(complaint.id);
    expect(events.map((e) => [e.type, Number(e.sequence)])).toEqual([
      ['complaint.created', 1],
      ['complaint.escalated', 2],
    ]);
    expect(events[0]!.data.complaint.escalationLevel).toBe(2);
    const deadlines = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}/deadlines` })
    ).json().data;
    expect(deadlines.map((d: { kind: string }) => d.kind)).toContain('major_report');
  });

  it('are escalated when an edit makes them major, once', async () => {
    const complaint = await createComplaint();
    const patch = (severity: string, etag: string) =>
      call(t.app, tenant.adminKey, {
        method: 'PATCH',
        url: `/v1/complaints/${complaint.id}`,
        json: { severity },
        headers: { 'if-match': etag },
      });
    const res = await patch('major', '"1"');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ severity: 'major', escalationLevel: 2 });
    expect(res.headers.etag).toBe(`"${res.json().version}"`);
    const back = await patch('general', res.headers.etag as string);
    const again = await patch('major', back.headers.etag as string);
    expect(again.json().escalationLevel).toBe(2);
    expect((await escalationsOf(complaint.id)).map((e: { trigger: string }) => e.trigger)).toEqual(['major']);
  });
});

describe('escalation on breach', () => {
  /** Breaches a pending deadline as the worker does when its job fires. */
  async function breach(complaintId: string, kind: string) {
    const [deadline] = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaintId}/deadlines` })
    )
      .json()
      .data.filter((d: { kind: string; status: string }) => d.kind === kind && d.status === 'pending');
    return {
      deadline,
      result: await t.services.deadlines.recordBreach(deadline.id, new Date(deadline.dueAt)),
    };
  }

  it('raises one level per breach, with the breach as the reason, exactly once', async () => {
    const complaint = await createComplaint({ channel: 'web' });
    const { deadline, result } = await breach(complaint.id, 'online_reply');
    expect(result).toBeDefined();
    // The job running again changes nothing: no second breach, no second escalation.
    expect(await t.services.deadlines.recordBreach(deadline.id, new Date(deadline.dueAt))).toBeUndefined();

    const [escalation] = await escalationsOf(complaint.id);
    expect(escalation).toMatchObject({
      level: 1,
      previousLevel: 0,
      trigger: 'breach',
      deadlineId: deadline.id,
      targets: [{ role: 'team_lead' }],
    });
    expect(escalation.reason).toContain('online reply');
    const escalated = (await eventsOf(complaint.id)).filter((e) => e.type === 'complaint.escalated');
    expect(escalated).toHaveLength(1);
    expect(escalated[0]!.data.deadline).toMatchObject({
      id: deadline.id,
      status: 'breached',
      kind: 'online_reply',
    });
    expect(escalated[0]!.data.actor).toMatchObject({ type: 'system' });
    const types = (await eventsOf(complaint.id)).map((e) => e.type);
    expect(types.indexOf('deadline.breached')).toBeLessThan(types.indexOf('complaint.escalated'));

    await breach(complaint.id, 'first_contact');
    const current = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}` })
    ).json();
    expect(current.escalationLevel).toBe(2);
  });

  it('numbers and escalates breaches of one complaint recorded together, in order', async () => {
    const complaint = await createComplaint({ channel: 'web' });
    const pending = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}/deadlines` })
    ).json().data as Array<{ id: string; kind: string; dueAt: string }>;
    const jobs = pending.map((d) => ({
      action: 'breach' as const,
      deadlineId: d.id,
      armedFor: Date.parse(d.dueAt),
    }));
    const results = await t.services.deadlines.recordWakeUps(jobs);
    expect(results.every((r) => r !== undefined)).toBe(true);
    expect((await escalationsOf(complaint.id)).map((e: { level: number }) => e.level)).toEqual(
      pending.map((_, index) => index + 1).filter((level) => level <= 3),
    );
    const sequences = (await eventsOf(complaint.id)).map((e) => Number(e.sequence));
    expect(sequences).toEqual(sequences.map((_, index) => index + 1));
    // Recording the same batch again changes nothing.
    expect((await t.services.deadlines.recordWakeUps(jobs)).every((r) => r === undefined)).toBe(true);
  });

  it('writes a batch of wake-ups exactly as it writes them one at a time', async () => {
    // Two identical sets of complaints: a plain one breached three times over, one warned and then
    // breached on the same deadline, one with a stale job, a major one that reaches level 3.
    async function complaintSet() {
      const set = [
        await createComplaint({ channel: 'web' }),
        await createComplaint({ channel: 'web' }),
        await createComplaint({ channel: 'web' }),
        await createComplaint({ channel: 'web', severity: 'major' }),
      ];
      return Promise.all(
        set.map(async (complaint) => {
          const deadlines = (
            await call(t.app, tenant.adminKey, {
              method: 'GET',
              url: `/v1/complaints/${complaint.id}/deadlines`,
            })
          )
            .json()
            .data.filter((d: { status: string }) => d.status === 'pending')
            // By kind, not due time: two kinds can fall due at the same moment.
            .sort((a: { kind: string }, b: { kind: string }) => a.kind.localeCompare(b.kind))
            .map((d: { id: string; dueAt: string }) => ({ id: d.id, armedFor: Date.parse(d.dueAt) }));
          expect(deadlines.length).toBeGreaterThanOrEqual(3);
          return { id: complaint.id as string, deadlines };
        }),
      );
    }
    function jobsFor(set: Awaited<ReturnType<typeof complaintSet>>): DeadlineJob[] {
      const [plain, warned, stale, major] = set as [
        (typeof set)[0],
        (typeof set)[0],
        (typeof set)[0],
        (typeof set)[0],
      ];
      const breach = (d: { id: string; armedFor: number }, late = 0): DeadlineJob => ({
        action: 'breach',
        deadlineId: d.id,
        armedFor: d.armedFor + late,
      });
      const warn = (d: { id: string; armedFor: number }): DeadlineJob => ({
        action: 'warn',
        deadlineId: d.id,
        armedFor: d.armedFor,
        index: 0,
      });
      return [
        warn(warned.deadlines[0]),
        breach(plain.deadlines[0]),
        breach(stale.deadlines[0], 1_000),
        breach(major.deadlines[0]),
        breach(plain.deadlines[1]),
        breach(warned.deadlines[0]),
        breach(stale.deadlines[1]),
        breach(plain.deadlines[2]),
        breach(major.deadlines[1]),
        warn(warned.deadlines[0]),
      ];
    }
    /** What the set's complaints hold, with ids, references, customer ids and times replaced by their order of appearance. */
    async function written(set: Awaited<ReturnType<typeof complaintSet>>) {
      const ids = set.map((complaint) => complaint.id);
      const events = await envelopesOf(ids);
      const { rows: timeline } = await t.database.pool.query(
        'select complaint_id, type, changes, data from complaint_timeline where complaint_id = any($1) order by array_position($1, complaint_id), id',
        [ids],
      );
      const { rows: escalations } = await t.database.pool.query(
        'select complaint_id, level, previous_level, trigger, reason, targets from escalations where complaint_id = any($1) order by array_position($1, complaint_id), level',
        [ids],
      );
      const complaints = await Promise.all(
        ids.map(async (id) =>
          (await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${id}` })).json(),
        ),
      );
      const tokens = new Map<string, string>();
      const canonical = JSON.stringify({ events, timeline, escalations, complaints })
        .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<time>')
        .replace(
          /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|C-\d+|customer-\d+-\d+/g,
          (id) => {
            if (!tokens.has(id)) tokens.set(id, `<${tokens.size}>`);
            return tokens.get(id)!;
          },
        );
      return JSON.parse(canonical);
    }
    const describeResults = (results: Array<RecordedWakeUp | undefined>) =>
      results.map((r) => r && { status: r.status, warningsFired: r.warningsFired, escalated: r.escalated });

    const oneByOne = await complaintSet();
    const singleResults: Array<RecordedWakeUp | undefined> = [];
    for (const job of jobsFor(oneByOne))
      singleResults.push(...(await t.services.deadlines.recordWakeUps([job])));
    const together = await complaintSet();
    const batchResults = await t.services.deadlines.recordWakeUps(jobsFor(together));

    expect(describeResults(batchResults)).toEqual(describeResults(singleResults));
    expect(describeResults(batchResults)).toEqual([
      { status: 'pending', warningsFired: 1, escalated: false },
      { status: 'breached', warningsFired: 0, escalated: true },
      undefined,
      { status: 'breached', warningsFired: 0, escalated: true },
      { status: 'breached', warningsFired: 0, escalated: true },
      { status: 'breached', warningsFired: 1, escalated: true },
      { status: 'breached', warningsFired: 0, escalated: true },
      { status: 'breached', warningsFired: 0, escalated: true },
      { status: 'breached', warningsFired: 0, escalated: false },
      undefined,
    ]);
    // What both ways must get right: numbering, and JSON that shows each record as it then stood.
    for (const complaint of together) {
      const events = await eventsOf(complaint.id);
      expect(events.map((e) => Number(e.sequence))).toEqual(events.map((_, index) => index + 1));
      for (const event of events) {
        expect(event.data).toMatchObject({ complaintId: complaint.id, sequence: Number(event.sequence) });
        if (event.type !== 'complaint.escalated') continue;
        expect(event.data.complaint.escalationLevel).toBe(event.data.escalation.level);
        if (event.data.escalation.trigger !== 'breach') continue;
        expect(event.data.deadline).toMatchObject({
          id: event.data.escalation.deadlineId,
          status: 'breached',
        });
      }
    }
    const plainEvents = await eventsOf(together[0]!.id);
    const plainNow = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${together[0]!.id}` })
    ).json();
    expect(plainEvents.filter((e) => e.type === 'complaint.escalated').at(-1)!.data.complaint).toEqual(
      plainNow,
    );
    const breachEvent = plainEvents.find((e) => e.type === 'deadline.breached')!;
    const deadlineNow = (
      await call(t.app, tenant.adminKey, {
        method: 'GET',
        url: `/v1/complaints/${together[0]!.id}/deadlines`,
      })
    )
      .json()
      .data.find((d: { id: string }) => d.id === breachEvent.data.deadline.id);
    expect(breachEvent.data.deadline).toEqual(deadlineNow);

    const [batchWritten, singleWritten] = [await written(together), await written(oneByOne)];
    expect(batchWritten).toEqual(singleWritten);
    expect(batchWritten.complaints.map((c: { escalationLevel: number }) => c.escalationLevel)).toEqual([
      3, 1, 1, 3,
    ]);
  });

  it('records batches over the same complaints side by side, with requests writing them too, without deadlock', async () => {
    const complaints = await Promise.all(
      Array.from({ length: 8 }, () => createComplaint({ channel: 'web' })),
    );
    const jobsOf = new Map<string, DeadlineJob[]>();
    for (const complaint of complaints) {
      const deadlines = (
        await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}/deadlines` })
      ).json().data as Array<{ id: string; dueAt: string; status: string }>;
      jobsOf.set(
        complaint.id,
        deadlines
          .filter((deadline) => deadline.status === 'pending')
          .map((d): DeadlineJob => ({ action: 'breach', deadlineId: d.id, armedFor: Date.parse(d.dueAt) })),
      );
    }
    const jobs = [...jobsOf.values()].flat();
    // Four batches, each with wake-ups of every complaint in its own order: as the worker's
    // concurrent batches overlap when many deadlines of few complaints fall due at once.
    const batches = [0, 1, 2, 3].map((k) =>
      jobs
        .filter((_, index) => index % 4 === k)
        .sort((a, b) => (k % 2 === 0 ? 1 : -1) * a.deadlineId.localeCompare(b.deadlineId)),
    );
    const edits = complaints.map((complaint, index) =>
      call(t.app, tenant.adminKey, {
        method: 'PATCH',
        url: `/v1/complaints/${complaint.id}`,
        // Version 1 as created: 200 when the edit goes first, 412 when a breach escalated first.
        headers: { 'if-match': '"1"' },
        json: { priority: index % 2 === 0 ? 'high' : 'urgent' },
      }),
    );
    const [recorded, edited] = await Promise.all([
      Promise.all(batches.map((batch) => t.services.deadlines.recordWakeUps(batch))),
      Promise.all(edits),
    ]);
    for (const res of edited) expect([200, 412], res.body).toContain(res.statusCode);
    expect(recorded.flat().filter((r) => r !== undefined)).toHaveLength(jobs.length);

    for (const complaint of complaints) {
      const events = await eventsOf(complaint.id);
      expect(events.map((e) => Number(e.sequence))).toEqual(events.map((_, index) => index + 1));
      const breached = events.filter((e) => e.type === 'deadline.breached');
      expect(breached.map((e) => e.data.deadline.id).sort()).toEqual(
        jobsOf
          .get(complaint.id)!
          .map((job) => job.deadlineId)
          .sort(),
      );
      const levels: number[] = (await escalationsOf(complaint.id)).map((e: { level: number }) => e.level);
      expect(levels).toEqual([1, 2, 3].slice(0, Math.min(3, breached.length)));
    }
  });

  it('times a batch that waited behind a later one after it, so escalations keep their order in time', async () => {
    const complaint = await createComplaint({ channel: 'web' });
    const [first, second] = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}/deadlines` })
    )
      .json()
      .data.filter((d: { status: string }) => d.status === 'pending') as Array<{ id: string; dueAt: string }>;
    const breach = (d: { id: string; dueAt: string }): WakeUpToRecord => ({
      type: 'breach',
      deadlineId: d.id,
      armedFor: new Date(d.dueAt),
      eventId: newEventId(),
      escalationId: newId(),
      escalationEventId: newEventId(),
    });
    const actor = { type: 'system' as const, id: null, name: 'redress', onBehalfOf: null };
    const taken = Date.now() + 60_000;
    // Two batches taken up 100 ms apart; the earlier one got the complaint's lock second.
    await t.services.repositories.deadlines.recordWakeUps([breach(first!)], new Date(taken + 100), actor);
    await t.services.repositories.deadlines.recordWakeUps([breach(second!)], new Date(taken), actor);

    const escalations = await escalationsOf(complaint.id);
    expect(escalations.map((e: { level: number }) => e.level)).toEqual([1, 2]);
    expect(Date.parse(escalations[1].createdAt)).toBe(taken + 101);
    const { rows } = await t.database.pool.query(
      'select occurred_at from events where complaint_id = $1 order by sequence',
      [complaint.id],
    );
    const times = rows.map((row) => new Date(row.occurred_at).getTime());
    // Each breach's event, then its escalation's.
    expect(times.slice(-4)).toEqual([taken + 100, taken + 100, taken + 101, taken + 101]);
  });

  it('stops at level 3', async () => {
    const complaint = await createComplaint({ channel: 'web', severity: 'major' });
    await escalate(complaint.id, { level: 3, reason: 'Crisis' });
    const { result } = await breach(complaint.id, 'online_reply');
    expect(result).toBeDefined();
    const levels = (await escalationsOf(complaint.id)).map((e: { level: number }) => e.level);
    expect(levels).toEqual([2, 3]);
  });

  it('does not raise a finished complaint', async () => {
    // Only a deadline that outlives its complaint (a pre-refund verification's) is still pending
    // once the complaint is finished; its reply deadline, left pending here, stands in for one.
    const complaint = await createComplaint({ channel: 'web' });
    await t.database.pool.query(`update complaints set status = 'withdrawn' where id = $1`, [complaint.id]);
    const { result } = await breach(complaint.id, 'online_reply');
    expect(result).toMatchObject({ status: 'breached', escalated: false });
    expect(await escalationsOf(complaint.id)).toEqual([]);
  });
});

describe('JSON built in SQL', () => {
  it('matches the REST views of complaints and escalations field for field', async () => {
    const complaint = await createComplaint({
      channel: 'web',
      severity: 'major',
      occurredAt: '2026-01-02T03:04:05.678+08:00',
      tags: ['lift', '电梯'],
      metadata: { roomNumber: '3-402', nested: { list: [1, null, 'x'] } },
      externalRef: `ext-${Date.now()}`,
      category: 'fire',
      complainantRelation: 'representative',
      complainantAuthorised: true,
      responsibility: 'upstream',
      upstreamParty: 'Otis Elevators',
      needType: 'emotional',
      liability: { finding: 'not_liable', reason: 'force_majeure', note: 'Typhoon cut the power' },
      mediaExposure: true,
      regulatorInvolved: true,
      incidentKey: `typhoon-${Date.now()}`,
      subjectStaff: ['wang.wu', '王伟'],
    });
    expect(complaint.majorReasons).toEqual([
      'manual',
      'safety_category',
      'media_exposure',
      'regulator_involved',
    ]);
    await escalate(complaint.id, { level: 3, reason: 'Crisis team called in' });
    const rest = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}` })
    ).json();
    expect(await viewsInSql(t.database.pool, 'complaints', 'id = $1', [complaint.id])).toEqual([rest]);

    const bare = await createComplaint({ customer: {}, channel: 'phone' });
    const bareRest = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${bare.id}` })
    ).json();
    expect(await viewsInSql(t.database.pool, 'complaints', 'id = $1', [bare.id])).toEqual([bareRest]);

    // Declined at intake (a rejection), and declined then taken in (an override).
    const declined = await createComplaint({ complainantRelation: 'other', category: 'billing' });
    const overridden = await createComplaint({ complainantRelation: 'other' });
    const taken = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${overridden.id}/acceptance-override`,
      json: { reason: 'Power of attorney shown', supervisor: 'li.na' },
    });
    expect(taken.json().acceptanceOverride).toMatchObject({ rejectionCode: 'not_a_stakeholder' });
    for (const id of [declined.id, overridden.id]) {
      const viewRest = (
        await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${id}` })
      ).json();
      expect(await viewsInSql(t.database.pool, 'complaints', 'id = $1', [id])).toEqual([viewRest]);
    }
    expect(declined.rejection).toMatchObject({ code: 'not_a_stakeholder' });

    const listed = await escalationsOf(complaint.id);
    expect(
      await viewsInSql(
        t.database.pool,
        'escalations',
        'complaint_id = $1',
        [complaint.id],
        'created_at, level',
      ),
    ).toEqual(listed);
  });
});
