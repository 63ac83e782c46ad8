import { readdir, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEPT_AT_INTAKE } from '../src/modules/complaints/complaint-views.js';
import { postGraphql } from './graphql-client.js';
import { call, complaintBody, createTestTenant, type TestApp, type TestTenant } from './harness.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';
import { TIMELINE_BEFORE_COMPACTING } from './timeline-shapes.js';

type Json = Record<string, unknown>;

// A database of its own: the migration tests below run the lean_timeline and compact_timeline
// migrations again, which take complaint_timeline's lock, read every tenant's entries and rebuild
// the table. They get one of their own in turn (see 'migrations made before distribution').
let isolated: IsolatedTestApp;
let t: TestApp;
let tenant: TestTenant;

/** Points the helpers below at a new app with a database of its own, and a tenant in it. */
async function startApp(options: { distribute?: boolean } = {}) {
  isolated = await startIsolatedTestApp('timeline', {}, options);
  t = isolated.app;
  tenant = await createTestTenant(t.tenancy);
}

beforeAll(async () => startApp());
afterAll(async () => {
  await isolated?.close();
});

async function send(method: 'GET' | 'POST' | 'PATCH', url: string, json?: unknown, headers = {}) {
  const res = await call(t.app, tenant.adminKey, { method, url, json, headers });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json();
}

const create = (overrides: Json = {}) => send('POST', '/v1/complaints', complaintBody(overrides));

/** A PATCH at the complaint's current version. */
async function edit(id: string, json: Json) {
  const { version } = await send('GET', `/v1/complaints/${id}`);
  return send('PATCH', `/v1/complaints/${id}`, json, { 'if-match': `"${version}"` });
}

/** The complaint as it was taken in, as intake announced it in its `complaint.created` event. */
async function announced(id: string): Promise<Json> {
  const { rows } = await t.database.pool.query(
    `select data -> 'complaint' as complaint from events where complaint_id = $1 and type = 'complaint.created'`,
    [id],
  );
  return rows[0].complaint;
}

/** The `complaint.created` entry as the database holds it. */
async function stored(id: string): Promise<{ data: Json; bytes: number }> {
  const { rows } = await t.database.pool.query(
    `select data, pg_column_size(data) as bytes from complaint_timeline
     where complaint_id = $1 and type = 'complaint.created'`,
    [id],
  );
  return rows[0];
}

/** The `complaint.created` entry's data as REST and GraphQL show it; the two must agree. */
async function shown(id: string): Promise<Json> {
  const rest = (await send('GET', `/v1/complaints/${id}/timeline?limit=1`)).data[0];
  expect(rest.type).toBe('complaint.created');
  const answer = await postGraphql(
    t.app,
    tenant.adminKey,
    'query ($id: ID!) { complaint(id: $id) { timeline(first: 1) { nodes { type data } } } }',
    { id },
  );
  expect(answer.errors).toEqual([]);
  expect(answer.data.complaint.timeline.nodes[0]).toEqual({ type: 'complaint.created', data: rest.data });
  return rest.data;
}

/** Every entry of a complaint's timeline as REST shows it. */
async function wholeTimeline(id: string): Promise<Json[]> {
  return (await send('GET', `/v1/complaints/${id}/timeline?limit=100`)).data;
}

/** A complaint's entries as the database holds them, oldest first. */
async function storedEntries(id: string) {
  const { rows } = await t.database.pool.query<{
    type: string;
    data: Json | null;
    subject_id: string | null;
  }>(
    'select type, data, subject_id from complaint_timeline where tenant_id = $1 and complaint_id = $2 order by id',
    [tenant.tenantId, id],
  );
  return rows;
}

/** Takes a complaint through much of its life: edits, handling, a handover, major and back. */
async function liveThrough(id: string) {
  await edit(id, {
    subject: 'Lift stopped again',
    description: 'Stopped twice this week.',
    customer: { name: 'Wang Li', phone: null, address: 'Building 3, flat 402' },
    priority: 'urgent',
    category: 'safety_lifts',
    desiredOutcome: null,
    occurredAt: new Date(Date.now() - 3_600_000).toISOString(),
    responsibility: 'upstream',
    upstreamParty: 'Lift maker',
    needType: 'immediate',
    liability: { finding: 'liable', note: 'Our maintenance contract' },
    tags: ['lift', 'repeat'],
    metadata: { building: 3 },
    subjectStaff: ['zhao.lei'],
  });
  await send('POST', `/v1/complaints/${id}/transitions`, { to: 'acknowledged' });
  await send('POST', `/v1/complaints/${id}/communications`, {
    direction: 'outbound',
    channel: 'phone',
    body: 'Called the customer.',
    contactMade: true,
  });
  await send('POST', `/v1/complaints/${id}/handover`, { to: 'li.na', reason: 'Lift specialist' });
  await edit(id, { mediaExposure: true });
  await edit(id, { severity: 'general', responsibility: 'own', liability: null, tags: [] });
  await send('POST', `/v1/complaints/${id}/transitions`, { to: 'investigating' });
}

describe('the complaint.created timeline entry', () => {
  it('stores only what the complaint cannot give back, and shows the complaint as it was taken in', async () => {
    const complaint = await create();
    const entry = await stored(complaint.id);
    expect(Object.keys(entry.data)).toEqual(['complaint']);
    // Of what intake sets and later changes overwrite (KEPT_AT_INTAKE), only the next deadline is
    // not at the value intake gives almost every complaint (timeline_entry_defaults).
    expect(Object.keys(entry.data.complaint as Json)).toEqual(['nextDeadline']);
    expect(KEPT_AT_INTAKE).toContain('nextDeadline');
    // The whole complaint took about 1.3 kB.
    expect(entry.bytes).toBeLessThan(200);
    expect(await shown(complaint.id)).toEqual({ complaint: await announced(complaint.id) });
  });

  it('shows it exactly after the complaint changed in every way it can', async () => {
    const plain = await create();
    await liveThrough(plain.id);
    // Taken in major (reported up at once), and declined at intake then taken in by override.
    const major = await create({ mediaExposure: true });
    expect(major.escalationLevel).toBeGreaterThan(0);
    await liveThrough(major.id);
    const declined = await create({ complainantRelation: 'other' });
    expect(declined.status).toBe('rejected');
    await send('POST', `/v1/complaints/${declined.id}/acceptance-override`, {
      reason: 'The customer sent a signed authority',
      supervisor: 'li.na',
    });
    await liveThrough(declined.id);
    for (const complaint of [plain, major, declined]) {
      const now = await send('GET', `/v1/complaints/${complaint.id}`);
      expect(now.version).toBeGreaterThan(5);
      expect(await shown(complaint.id)).toEqual({ complaint: await announced(complaint.id) });
    }
  });

  it('stores what intake set away from its usual values: the level of a major complaint, and since when', async () => {
    const major = await create({ mediaExposure: true });
    const entry = await stored(major.id);
    expect(entry.data.complaint).toEqual({
      escalationLevel: major.escalationLevel,
      majorSince: major.majorSince,
      nextDeadline: major.nextDeadline,
    });
    expect(await shown(major.id)).toEqual({ complaint: await announced(major.id) });
  });
});

describe('entries about a deadline, a communication or a follow-up', () => {
  it('keep its id in a column and leave out what its row holds for good, and show as before', async () => {
    const complaint = await create();
    await liveThrough(complaint.id);
    await send('POST', `/v1/complaints/${complaint.id}/communications`, {
      direction: 'outbound',
      channel: 'email',
      body: 'We will call you back with the lift report.',
      contactMade: true,
      nextUpdateBy: new Date(Date.now() + 86_400_000).toISOString(),
    });
    const entries = await wholeTimeline(complaint.id);
    const rows = await storedEntries(complaint.id);
    expect(rows.map((row) => row.type)).toEqual(entries.map((entry) => entry.type));
    const deadlines = (await send('GET', `/v1/complaints/${complaint.id}/deadlines`)).data as Json[];

    const met = entries.flatMap((entry, index) => (entry.type === 'deadline.met' ? [index] : []));
    expect(met.length).toBeGreaterThan(0);
    for (const index of met) {
      const data = entries[index]!.data as Json;
      const deadline = deadlines.find((candidate) => candidate.id === data.deadlineId)!;
      expect(data).toEqual({
        deadlineId: deadline.id,
        kind: deadline.kind,
        dueAt: deadline.dueAt,
        late: deadline.metLate,
      });
      expect(rows[index]).toMatchObject({ subject_id: deadline.id, data: null });
    }
    const communications = entries.flatMap((entry, index) =>
      entry.type === 'communication.recorded' ? [index] : [],
    );
    expect(communications).toHaveLength(2);
    const [called, promised] = communications.map((index) => ({
      shown: entries[index]!.data as Json,
      row: rows[index]!,
    }));
    expect(called!.shown).toMatchObject({ body: 'Called the customer.', nextUpdateBy: null });
    expect(called!.row).toEqual({
      type: 'communication.recorded',
      subject_id: called!.shown.communicationId,
      data: null,
    });
    // What the communication's row does not hold stays in the entry.
    expect(promised!.row.subject_id).toBe(promised!.shown.communicationId);
    expect(promised!.row.data).toEqual({ nextUpdateBy: promised!.shown.nextUpdateBy });
    expect(promised!.shown.nextUpdateBy).toEqual(expect.any(String));
  });

  it("reads a settled deadline's facts from its row, which keeps them as they were", async () => {
    const complaint = await create();
    await send('POST', `/v1/complaints/${complaint.id}/communications`, {
      direction: 'outbound',
      channel: 'phone',
      body: 'Called the customer.',
      contactMade: true,
    });
    const rows = await storedEntries(complaint.id);
    const metId = rows.find((row) => row.type === 'deadline.met')?.subject_id;
    expect(metId).toEqual(expect.any(String));
    for (const change of ["due_at = due_at + interval '1 day'", "kind = 'resolution'", 'met_at = now()']) {
      await expect(
        t.database.pool.query(`update deadlines set ${change} where tenant_id = $1 and id = $2`, [
          tenant.tenantId,
          metId,
        ]),
      ).rejects.toMatchObject({ code: '42501' });
    }
    // What may still change of it, changes.
    await t.database.pool.query('update deadlines set updated_at = now() where tenant_id = $1 and id = $2', [
      tenant.tenantId,
      metId,
    ]);
  });
});

// Those migrations came before Redress could be distributed, so a database went through them on
// one server: they run again on a database on one server, even when the suite runs on Citus.
describe('migrations made before distribution', () => {
  beforeAll(async () => {
    await isolated.close();
    await startApp({ distribute: false });
  });

  /** The lean_timeline migration's statements, as drizzle's migrator runs them. */
  async function leanTimelineStatements(): Promise<string[]> {
    const folder = new URL('../migrations/', import.meta.url);
    const file = (await readdir(folder)).find((name) => name.endsWith('_lean_timeline.sql'));
    expect(file).toBeDefined();
    return (await readFile(new URL(file!, folder), 'utf8')).split('--> statement-breakpoint');
  }

  /** Runs statements in one transaction, as drizzle's migrator runs a migration. */
  async function inTransaction(statements: string[]) {
    const client = await t.database.pool.connect();
    try {
      await client.query('begin');
      for (const statement of statements) await client.query(statement);
      await client.query('commit');
    } catch (error) {
      await client.query('rollback');
      throw error;
    } finally {
      client.release();
    }
  }

  const runLeanTimeline = async () => inTransaction(await leanTimelineStatements());

  /**
   * Migration timeline_subjects's statements but those that create the trigger on deadlines, which
   * the database has already: the timeline's column, functions and entries.
   */
  async function runTimelineSubjects() {
    const folder = new URL('../migrations/', import.meta.url);
    const file = (await readdir(folder)).find((name) => name.endsWith('_timeline_subjects.sql'));
    expect(file).toBeDefined();
    const statements = (await readFile(new URL(file!, folder), 'utf8')).split('--> statement-breakpoint');
    await inTransaction(
      statements.filter(
        (statement) =>
          !/CREATE (?:OR REPLACE FUNCTION refuse_settled_deadline_rewrite|TRIGGER deadlines_settled_facts_kept)/.test(
            statement,
          ),
      ),
    );
  }

  /** Writes a `complaint.created` entry as intake wrote it before the timeline was slimmed. */
  async function writeOldShape(id: string, complaint: Json) {
    const client = await t.database.pool.connect();
    try {
      await client.query('begin');
      await client.query('alter table complaint_timeline disable trigger complaint_timeline_append_only');
      await client.query(
        `update complaint_timeline set data = jsonb_build_object('complaint', $2::jsonb)
         where complaint_id = $1 and type = 'complaint.created'`,
        [id, JSON.stringify(complaint)],
      );
      await client.query('alter table complaint_timeline enable trigger complaint_timeline_append_only');
      await client.query('commit');
    } finally {
      client.release();
    }
  }

  async function createdEntries(): Promise<Map<string, string>> {
    const { rows } = await t.database.pool.query(
      `select complaint_id, data::text as data from complaint_timeline where type = 'complaint.created'`,
    );
    return new Map(rows.map((row) => [row.complaint_id, row.data]));
  }

  describe('migration lean_timeline', () => {
    it('slims the entries that held the whole complaint, and the timeline shows them as before', async () => {
      const lived = await create();
      await liveThrough(lived.id);
      const untouched = await create({ mediaExposure: true });
      // Changed by a data migration, which left no timeline entry.
      const backfilled = await create();
      await t.database.pool.query(`update complaints set subject = 'Backfilled' where id = $1`, [
        backfilled.id,
      ]);
      // Written before the complaint had a field it has now.
      const older = await create();
      const { incidentKey: _, ...olderCopy } = await announced(older.id);

      const copies = new Map<string, Json>();
      for (const complaint of [lived, untouched, backfilled]) {
        copies.set(complaint.id, await announced(complaint.id));
        await writeOldShape(complaint.id, copies.get(complaint.id)!);
      }
      await writeOldShape(older.id, olderCopy);
      const before = await stored(lived.id);
      expect(before.data).toEqual({ complaint: copies.get(lived.id) });

      await runLeanTimeline();

      for (const [id, copy] of copies) {
        const entry = await stored(id);
        expect(entry.data.complaint).not.toHaveProperty('id');
        expect(entry.bytes).toBeLessThan(before.bytes / 2);
        expect(await shown(id)).toEqual({ complaint: copy });
      }
      // Each keeps what intake keeps, and what the complaint now cannot give back.
      expect(Object.keys((await stored(lived.id)).data.complaint as Json).sort()).toEqual(
        [...KEPT_AT_INTAKE].sort(),
      );
      expect((await stored(backfilled.id)).data.complaint).toMatchObject({
        subject: copies.get(backfilled.id)!.subject,
      });
      // A copy lacking a field is left whole, and shown as it is.
      expect((await stored(older.id)).data).toEqual({ complaint: olderCopy });
      expect(await shown(older.id)).toEqual({ complaint: olderCopy });

      // Running it again changes nothing.
      const slimmed = await createdEntries();
      await runLeanTimeline();
      expect(await createdEntries()).toEqual(slimmed);

      // Later changes move what no change records (the version, updatedAt): the entry kept them.
      await edit(backfilled.id, { priority: 'high' });
      await send('POST', `/v1/complaints/${untouched.id}/transitions`, { to: 'acknowledged' });
      for (const complaint of [backfilled, untouched]) {
        expect(await shown(complaint.id)).toEqual({ complaint: copies.get(complaint.id) });
      }
    });
  });

  /**
   * Puts the timeline back in the shape migration compact_timeline found and runs that migration on it, as drizzle's migrator would, but for the enum it creates, which
   * the rest of the schema still uses.
   */
  async function runCompactTimelineOnOldShape() {
    const folder = new URL('../migrations/', import.meta.url);
    const file = (await readdir(folder)).find((name) => name.endsWith('_compact_timeline.sql'));
    expect(file).toBeDefined();
    const [createType, ...statements] = (await readFile(new URL(file!, folder), 'utf8')).split(
      '--> statement-breakpoint',
    );
    expect(createType).toContain('CREATE TYPE "public"."actor_type"');
    await inTransaction([
      `create table complaint_timeline_wide as ${TIMELINE_BEFORE_COMPACTING}`,
      // Running lean_timeline again above defined its function over this table's rows.
      'drop function if exists complaint_as_taken_in(complaint_timeline)',
      'drop table complaint_timeline',
      'alter table complaint_timeline_wide rename to complaint_timeline',
      `create function complaint_as_taken_in(t complaint_timeline) returns jsonb language sql as 'select null::jsonb'`,
      // Complaints are keyed by tenant and id since 0040: the entries' key to them names both.
      ...statements.map((statement) =>
        statement.replace(
          'FOREIGN KEY ("complaint_id") REFERENCES "public"."complaints"("id")',
          'FOREIGN KEY ("tenant_id","complaint_id") REFERENCES "public"."complaints"("tenant_id","id")',
        ),
      ),
      // What later migrations added to the table (staff_sign_in: a person's subject;
      // timeline_hash_chain: the entry's link in its chain), which today's code writes.
      'alter table complaint_timeline add column actor_subject text',
      'alter table complaint_timeline add column entry_hash bytea',
    ]);
  }

  describe('migration compact_timeline', () => {
    it('keeps each entry only what it alone knows, and the timeline shows every entry as before', async () => {
      const lived = await create();
      await liveThrough(lived.id);
      const major = await create({ mediaExposure: true });
      await liveThrough(major.id);
      const declined = await create({ complainantRelation: 'other' });
      const before = new Map<string, Json[]>();
      for (const complaint of [lived, major, declined])
        before.set(complaint.id, await wholeTimeline(complaint.id));
      expect(before.get(lived.id)!.map((entry) => entry.type)).toEqual(
        expect.arrayContaining([
          'communication.recorded',
          'complaint.status_changed',
          'complaint.handed_over',
        ]),
      );

      await runCompactTimelineOnOldShape();

      const { rows } = await t.database.pool.query<{ type: string; data: Json | null }>(
        `select type, data from complaint_timeline where complaint_id = $1 order by id`,
        [lived.id],
      );
      const storedOf = (type: string) => rows.filter((row) => row.type === type).map((row) => row.data);
      expect(storedOf('communication.recorded')).toEqual([
        { communicationId: expect.any(String), nextUpdateBy: null },
      ]);
      expect(storedOf('deadline.met')).toContainEqual(
        expect.objectContaining({ deadlineId: expect.any(String), kind: expect.any(String) }),
      );
      expect(storedOf('complaint.status_changed')).toEqual([null, null]);
      expect(Object.keys(storedOf('complaint.created')[0]!.complaint as Json)).toEqual(['nextDeadline']);

      // The later migration that changed the entries (timeline_subjects) takes them from there.
      await runTimelineSubjects();
      for (const [id, timeline] of before) expect(await wholeTimeline(id)).toEqual(timeline);
      const subjects = (await storedEntries(lived.id)).filter((row) => row.subject_id !== null);
      expect(new Set(subjects.map((row) => row.type))).toEqual(
        new Set(['communication.recorded', 'deadline.met']),
      );
      for (const row of subjects) expect(row.data).toBeNull();

      // Entries written after it number on from the last, so timeline cursors stay valid.
      await send('POST', `/v1/complaints/${lived.id}/transitions`, { to: 'awaiting_customer' });
      const after = await wholeTimeline(lived.id);
      expect(after.slice(0, -1)).toEqual(before.get(lived.id));
      expect(after.at(-1)).toMatchObject({
        type: 'complaint.status_changed',
        data: { to: 'awaiting_customer' },
      });
      expect(Number(after.at(-1)!.id)).toBeGreaterThan(Number(after.at(-2)!.id));
    });
  });
});
