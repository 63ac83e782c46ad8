import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainPlan, type PlanNode, planNodes } from '../src/db/prepared.js';
import { analyzeStaleTables } from '../src/db/statistics.js';
import {
  complaintLookupValues,
  complaintsWithNext,
  createComplaintsRepository,
  shortSearchHead,
} from '../src/modules/complaints/complaints.repository.js';
import { type DataSubjectInput, parseDataSubject } from '../src/modules/data-subjects/data-subject.js';
import { createDataSubjectsRepository } from '../src/modules/data-subjects/data-subjects.repository.js';
import { EXPORT_COMPLAINT_LIMIT } from '../src/modules/data-subjects/data-subjects.schemas.js';
import { ARMING_HORIZON_MS } from '../src/modules/deadlines/deadline-scheduler.js';
import {
  createDeadlinesRepository,
  deadlineCountsByStatus,
} from '../src/modules/deadlines/deadlines.repository.js';
import { createEventsRepository } from '../src/modules/events/events.repository.js';
import { createFollowUpsRepository } from '../src/modules/follow-ups/follow-ups.repository.js';
import {
  complaintFromCustomerInCategory,
  createMajorComplaintsRepository,
  repeatProbeValues,
} from '../src/modules/major-complaints/major-complaints.repository.js';
import { call, complaintBody, createTestTenant, type TestApp } from './harness.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';

/**
 * Every intake, every read by id and every search runs these statements, so each must stay a
 * probe of the index it was written for however many complaints a tenant has. Left to a plan that
 * walks the tenant's complaints instead, intake fell from 728/s to 166/s by 17,000 rows (bench/).
 * The planner picks from statistics, as a deployed PostgreSQL keeps them: the tables are analysed.
 */
describe('hot statements keep to their indexes', () => {
  const SEEDED = 5_000;
  // Customer names are three Chinese characters from the first 3,000 ideographs (U+4E00 on), so
  // each character names a handful of customers, as in a real customer base.
  const FIRST_IDEOGRAPH = 0x4e00;
  let isolated: IsolatedTestApp;
  let t: TestApp;
  let tenantId: string;
  let seededId: string;
  let seededName: string;

  beforeAll(async () => {
    // A database of its own: the plans follow the statistics of what this file seeds, a customer
    // base as in service, not of the complaints other files write all for one customer.
    isolated = await startIsolatedTestApp('query_plans');
    t = isolated.app;
    let key: string;
    ({ tenantId, adminKey: key } = await createTestTenant(t.tenancy));
    // One complaint through the API opens real deadlines; the seeded ones copy them, so the
    // deadline index holds several pending rows per complaint, as in service.
    const created = await call(t.app, key, { method: 'POST', url: '/v1/complaints', json: complaintBody() });
    expect(created.statusCode).toBe(201);
    // All in the last hour, mostly in one category: the received-at window of a repeat lookup
    // covers every one of them, so only the customer index narrows it. One in fifty came by fax,
    // and five of those, the only ones in their category, are about accessibility: a rare category.
    // A tenth are about refunds, but only five of those came by fax: a rare combination of two
    // filters that are each common enough to be walked. A quarter of the newest 600 are open
    // (received), the rest closed, as in a tenant with history; eight staff share them.
    await t.database.pool.query(
      `insert into complaints (id, tenant_id, reference, status, channel, category, severity, subject, description,
         customer_name, customer_phone, customer_key, received_at, received_by, assignee, major_reasons, major_since,
         cause, quality_class)
       select gen_random_uuid(), $1, 'P-' || lpad(g::text, 6, '0'),
         case when g <= 600 and g % 4 = 1 then 'received' else 'closed' end::complaint_status,
         case when g % 50 = 3 then 'fax' else 'web' end::complaint_channel,
         case when g % 1000 = 3 then 'accessibility' when g % 10 = 7 or g % 1000 = 503 then 'refund'
           else 'billing' end,
         case when g % 10 = 0 then 'major' else 'general' end::complaint_severity,
         '宽带故障 ' || g, '网络中断,要求尽快修复。',
         chr($3 + (g * 7) % 997) || chr($3 + 1000 + (g * 13) % 991) || chr($3 + 2000 + (g * 17) % 983),
         '+86 138 ' || lpad(g::text, 8, '0'),
         'tel:+86138' || lpad(g::text, 8, '0'), now() - g * interval '500 ms', 'seed', 'staff-' || g % 8,
         case when g % 10 = 0 then '{manual}'::major_reason[] else '{}' end,
         case when g % 10 = 0 then now() - g * interval '500 ms' end,
         -- Most complaints found a common cause, five a rare one; a fifth are classed quality.
         case when g % 1000 = 7 then 'label_mismatch' when g % 3 = 0 then 'delivery' end,
         case when g % 5 = 0 then 'quality' end::quality_class
       from generate_series(1, $2::int) g`,
      [tenantId, SEEDED, FIRST_IDEOGRAPH],
    );
    await t.database.pool.query(
      `insert into deadlines (id, tenant_id, complaint_id, kind, status, starts_at, due_at, warn_ats, warn_fractions,
         clock, target_duration, duration_ms, policy_id, policy_version, calendar_id)
       select gen_random_uuid(), c.tenant_id, c.id, d.kind, 'pending', c.received_at, c.received_at + (d.due_at - d.starts_at),
         d.warn_ats, d.warn_fractions, d.clock, d.target_duration, d.duration_ms, d.policy_id, d.policy_version,
         d.calendar_id
       from complaints c cross join (select * from deadlines where complaint_id = $2) d
       where c.tenant_id = $1 and c.reference like 'P-%'`,
      [tenantId, created.json().id],
    );
    // Two thirds of the deadlines are history (met), as in a tenant that has been running a while;
    // every other complaint owes a follow-up visit, half of those done.
    await t.database.pool.query(
      `update deadlines set status = 'met', met_at = due_at - interval '1 hour'
       where tenant_id = $1 and kind <> 'resolution'`,
      [tenantId],
    );
    await t.database.pool.query(
      `insert into follow_ups (id, tenant_id, complaint_id, deadline_id, attempt, status, due_at)
       select gen_random_uuid(), c.tenant_id, c.id, d.id, 1,
         case when row_number() over (order by c.received_at) % 2 = 0 then 'completed' else 'pending' end::follow_up_status,
         c.received_at + interval '7 days'
       from complaints c join lateral (select id from deadlines where complaint_id = c.id limit 1) d on true
       where c.tenant_id = $1 and c.reference like 'P-%' and right(c.reference, 1) in ('0', '2', '4', '6', '8')`,
      [tenantId],
    );
    // The feed: each seeded complaint's creation, a status change and a call; no other types.
    // Written as a bulk copy (no triggers), so no relay fans them out.
    const client = await t.database.pool.connect();
    try {
      await client.query('begin');
      await client.query('set local session_replication_role = replica');
      await client.query(
        `insert into events (id, tenant_id, type, complaint_id, sequence, data, occurred_at)
         select 'evt_seed_' || c.id || '_' || e.n, c.tenant_id, e.type, c.id, e.n, '{}', c.received_at
         from complaints c cross join (values (1, 'complaint.created'), (2, 'complaint.status_changed'),
           (3, 'communication.recorded')) e(n, type)
         where c.tenant_id = $1 and c.reference like 'P-%'`,
        [tenantId],
      );
      // Their places in the feed, as the relay would give them.
      await client.query(
        `insert into event_feed (tenant_id, feed_position, event_position, type)
         select tenant_id, row_number() over (order by position), position, type from events where tenant_id = $1`,
        [tenantId],
      );
      await client.query('commit');
    } finally {
      client.release();
    }
    // As autovacuum would by now: statistics, and the GIN indexes' pending entries merged in.
    await t.database.pool.query('vacuum analyze complaints, deadlines, follow_ups, events, event_feed');
    const { rows } = await t.database.pool.query<{ id: string; customer_name: string }>(
      `select id, customer_name from complaints where tenant_id = $1 and reference = 'P-002500'`,
      [tenantId],
    );
    seededId = rows[0]!.id;
    seededName = rows[0]!.customer_name;
  });
  afterAll(async () => isolated?.close());

  /** The scans of a plan: which relation each reads and through which index, if any (a bitmap index scan names only its index). */
  function scans(plan: PlanNode) {
    return planNodes(plan)
      .filter((node) => node['Relation Name'] !== undefined || node['Index Name'] !== undefined)
      .map((node) => ({
        relation: node['Relation Name'],
        type: node['Node Type'],
        index: node['Index Name'],
      }));
  }

  it("answers intake's repeat-complaint lookup from the customer's entries in the customer index", async () => {
    const now = Date.now();
    const plan = await complaintFromCustomerInCategory.plan(
      t.database.pool,
      repeatProbeValues([
        {
          tenantId,
          customerKey: 'tel:+8613800002500',
          category: 'billing',
          from: new Date(now - 30 * 86_400_000),
          to: new Date(now),
        },
      ]),
    );
    // The customer's entries in the window; an Index Scan, not index-only, because an edit's
    // own complaint is told apart by id, which the index does not hold.
    expect(scans(plan)).toEqual([
      {
        relation: 'complaints',
        type: 'Index Scan',
        index: 'complaints_tenant_customer_category_idx',
      },
    ]);
  });

  it("keeps the search indexes' pending lists small, so no intake waits long on a merge", async () => {
    const { rows } = await t.database.pool.query<{ relname: string; reloptions: string[] }>(
      `select relname, reloptions from pg_class
       where relname in ('complaints_search_trgm_idx', 'complaints_search_chars_idx') order by relname`,
    );
    expect(rows).toEqual([
      { relname: 'complaints_search_chars_idx', reloptions: ['gin_pending_list_limit=512'] },
      { relname: 'complaints_search_trgm_idx', reloptions: ['gin_pending_list_limit=512'] },
    ]);
  });

  /** The scans of a query drizzle builds, as PostgreSQL plans it with the query's own values. */
  async function queryScans(query: { toSQL(): { sql: string; params: unknown[] } }) {
    return scans(await explainPlan(t.database.pool, query.toSQL()));
  }

  it("finds a data subject's complaints by probes of the customer indexes, never a walk of the tenant", async () => {
    const repository = createDataSubjectsRepository(t.database.db);
    const indexesOf = async (input: DataSubjectInput) => {
      const found = await queryScans(
        repository.subjectComplaintsQuery(tenantId, parseDataSubject(input), EXPORT_COMPLAINT_LIMIT + 1),
      );
      expect(found, JSON.stringify(input)).not.toContainEqual(expect.objectContaining({ type: 'Seq Scan' }));
      return new Set(found.map((scan) => scan.index).filter(Boolean));
    };
    // A phone or an email is the key of some complaints and beside another identifier on others.
    expect(await indexesOf({ phone: '+86 138 0000 2500' })).toEqual(
      new Set(['complaints_tenant_customer_category_idx', 'complaints_tenant_phone_key_idx']),
    );
    expect(await indexesOf({ email: 'wang.fang@example.com' })).toEqual(
      new Set(['complaints_tenant_customer_category_idx', 'complaints_tenant_email_key_idx']),
    );
    // An external id is always the key.
    expect(await indexesOf({ externalId: 'CRM-0012345' })).toEqual(
      new Set(['complaints_tenant_customer_category_idx']),
    );
  });

  it('lists complaints newest first straight from the received index, on every page', async () => {
    const repository = createComplaintsRepository(t.database.db);
    const fromIndex = [
      { relation: 'complaints', type: 'Index Scan', index: 'complaints_tenant_received_idx' },
    ];
    expect(await queryScans(repository.listQuery(tenantId, {}, 25))).toEqual(fromIndex);
    const after = { receivedAt: new Date(Date.now() - 600_000), id: seededId };
    expect(await queryScans(repository.listQuery(tenantId, { after }, 25))).toEqual(fromIndex);
    // A word most complaints hold is found by reading newest first until the page is full.
    expect(await queryScans(repository.listQuery(tenantId, { text: '网络中断' }, 25))).toEqual(fromIndex);
  });

  it('pages the major-complaint file from its own index, most recently major first', async () => {
    const repository = createMajorComplaintsRepository(t.database.db);
    const fromIndex = [{ relation: 'complaints', type: 'Index Scan', index: 'complaints_tenant_major_idx' }];
    expect(await queryScans(repository.list(tenantId, {}, 25))).toEqual(fromIndex);
    const after = { majorSince: new Date(Date.now() - 600_000), id: seededId };
    expect(await queryScans(repository.list(tenantId, { after }, 25))).toEqual(fromIndex);
  });

  it('lists deadlines and follow-ups in due order from an index, narrowed to a status or not', async () => {
    const deadlines = createDeadlinesRepository(t.database.db);
    const byDue = { relation: 'deadlines', type: 'Index Scan', index: 'deadlines_tenant_due_idx' };
    expect(await queryScans(deadlines.list(tenantId, {}, 25))).toEqual([byDue]);
    const after = { dueAt: new Date(), id: seededId };
    expect(await queryScans(deadlines.list(tenantId, { after }, 25))).toEqual([byDue]);
    expect(await queryScans(deadlines.list(tenantId, { statuses: ['pending'] }, 25))).not.toContainEqual(
      expect.objectContaining({ type: 'Seq Scan' }),
    );
    // Met deadlines, most of the history, are in the due-order index only; the others have one by
    // status too (deadlines_tenant_status_due_idx).
    expect(await queryScans(deadlines.list(tenantId, { statuses: ['met'] }, 25))).toEqual([byDue]);
    expect(await queryScans(deadlines.list(tenantId, { statuses: ['breached'] }, 25))).toEqual([
      expect.objectContaining({ relation: 'deadlines', index: 'deadlines_tenant_status_due_idx' }),
    ]);
    const followUps = createFollowUpsRepository(t.database.db);
    const followUpScans = await queryScans(followUps.listQuery(tenantId, {}, 25));
    expect(followUpScans[0]).toEqual({
      relation: 'follow_ups',
      type: 'Index Scan',
      index: 'follow_ups_tenant_due_any_status_idx',
    });
    expect(followUpScans).not.toContainEqual(expect.objectContaining({ type: 'Seq Scan' }));
  });

  it('sweeps only the deadlines that need waking within the arming horizon, from the wake-up index', async () => {
    const deadlines = createDeadlinesRepository(t.database.db);
    const until = new Date(Date.now() + ARMING_HORIZON_MS);
    const after = { wakeAt: new Date(), id: seededId };
    for (const query of [
      deadlines.pendingWakingQuery(until, null, 2_000),
      deadlines.pendingWakingQuery(until, after, 2_000),
    ]) {
      const found = await queryScans(query);
      expect(found).toContainEqual(expect.objectContaining({ index: 'deadlines_pending_wake_idx' }));
      expect(found).not.toContainEqual(expect.objectContaining({ type: 'Seq Scan' }));
    }
  });

  it('answers searches of one or two characters by reading the newest complaints, then the character index', async () => {
    const repository = createComplaintsRepository(t.database.db);
    const query = (text: string) => repository.listQuery(tenantId, { text }, 25).toSQL();
    // Whatever the statistics say, the plan starts with a walk of the newest complaints bounded at
    // shortSearchHead. (How it walks depends on the table: among this file's few thousand rows,
    // reading them all and sorting can be cheaper than the received-at index; among a tenant's
    // million, the index.)
    type Node = PlanNode & { 'Subplan Name'?: string; 'Plan Rows': number; 'Actual Rows'?: number };
    const head = (nodes: PlanNode[]) => (nodes as Node[]).find((node) => node['Subplan Name'] === 'CTE head');
    for (const short of [seededName.slice(0, 2), seededName.slice(0, 1), '网络', 'zz']) {
      const walk = head(planNodes(await explainPlan(t.database.pool, query(short))));
      expect(walk?.['Node Type'], short).toBe('Limit');
      expect(walk?.['Plan Rows'], short).toBeLessThanOrEqual(shortSearchHead(short));
    }
    // 网络 is in every complaint: the newest fill the page, and nothing behind them is read.
    const common = await analyzedNodes(query('网络'));
    const behind = common.filter((node) => node['Node Type'].startsWith('Bitmap'));
    expect(behind.length).toBeGreaterThan(0);
    expect(behind.map((node) => node['Actual Loops'])).toEqual(behind.map(() => 0));
    // A customer's name is in a few: the walk stops after shortSearchHead complaints, and the
    // character index finds the rest (448 ms among 200,000 complaints without it; 4 ms with it).
    const rareText = seededName.slice(0, 2);
    const rare = await analyzedNodes(query(rareText));
    expect(head(rare)?.['Actual Rows']).toBe(shortSearchHead(rareText));
    expect(rare.find((node) => node['Index Name'] === 'complaints_search_chars_idx')?.['Actual Loops']).toBe(
      1,
    );

    const whole = await queryScans(repository.listQuery(tenantId, { text: seededName }, 25));
    expect(whole).toContainEqual(expect.objectContaining({ index: 'complaints_search_trgm_idx' }));
    expect(whole).not.toContainEqual(expect.objectContaining({ index: 'complaints_search_chars_idx' }));
  });

  /** Every node of a plan as run (EXPLAIN ANALYZE), with its actual rows and loops. */
  async function analyzedNodes(query: { sql: string; params: unknown[] }) {
    const result = await t.database.pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `explain (analyze, format json) ${query.sql}`,
      query.params,
    );
    return planNodes(result.rows[0]!['QUERY PLAN'][0].Plan) as Array<
      PlanNode & { 'Actual Rows': number; 'Actual Loops': number }
    >;
  }

  /** The rows a plan as run read from complaints: those it returned and those it read and dropped. */
  function complaintRowsRead(nodes: Array<PlanNode & { 'Actual Rows': number; 'Actual Loops': number }>) {
    type Read = { 'Rows Removed by Filter'?: number; 'Rows Removed by Index Recheck'?: number };
    return nodes
      .filter((node) => node['Relation Name'] === 'complaints')
      .reduce((sum, node) => {
        const read = node as typeof node & Read;
        const perLoop =
          read['Actual Rows'] +
          (read['Rows Removed by Filter'] ?? 0) +
          (read['Rows Removed by Index Recheck'] ?? 0);
        return sum + perLoop * read['Actual Loops'];
      }, 0);
  }

  it("lists complaints by a rare channel or category from that filter's own index", async () => {
    const repository = createComplaintsRepository(t.database.db);
    const listScans = (filters: Parameters<typeof repository.listQuery>[1]) =>
      queryScans(repository.listQuery(tenantId, filters, 25));
    // Fax: 100 complaints in 5,000. Walking the received index for them read every complaint of the
    // tenant (236 ms a page at 1M).
    expect(await listScans({ channels: ['fax'] })).toEqual([
      { relation: 'complaints', type: 'Index Scan', index: 'complaints_tenant_channel_idx' },
    ]);
    const after = { receivedAt: new Date(Date.now() - 600_000), id: seededId };
    expect(await listScans({ channels: ['fax'], after })).toEqual([
      { relation: 'complaints', type: 'Index Scan', index: 'complaints_tenant_channel_idx' },
    ]);
    expect(await listScans({ category: 'accessibility' })).toEqual([
      { relation: 'complaints', type: 'Index Scan', index: 'complaints_tenant_category_idx' },
    ]);
  });

  it('lists complaints by a channel and a category together reading only their matches, however rare the pair', async () => {
    const repository = createComplaintsRepository(t.database.db);
    const byBoth = [
      { relation: 'complaints', type: 'Index Scan', index: 'complaints_tenant_channel_category_idx' },
    ];
    // Fax and refunds: 5 complaints, of 100 by fax and 505 about refunds. Walking either filter's
    // own index read all 100 fax complaints for them (6,400 rows a page at 1M complaints).
    const after = { receivedAt: new Date(Date.now() - 60_000), id: seededId };
    for (const filters of [
      { channels: ['fax' as const], category: 'refund' },
      { channels: ['fax' as const], category: 'refund', after },
      { channels: ['fax' as const], category: 'accessibility' },
      { channels: ['fax' as const], category: 'refund', statuses: ['closed' as const] },
      { channels: ['fax' as const], category: 'refund', assignee: 'staff-7' },
    ]) {
      const query = repository.listQuery(tenantId, filters, 25);
      expect(await queryScans(query), JSON.stringify(filters)).toEqual(byBoth);
    }
    // As run: the five matches, and not one complaint more.
    const run = await analyzedNodes(
      repository.listQuery(tenantId, { channels: ['fax'], category: 'refund' }, 25).toSQL(),
    );
    expect(complaintRowsRead(run)).toBe(5);
    // A list of channels fetches the pair's matches from each channel's range and sorts them.
    const several = await analyzedNodes(
      repository.listQuery(tenantId, { channels: ['fax', 'letter'], category: 'refund' }, 25).toSQL(),
    );
    expect(several.find((node) => node['Relation Name'] === 'complaints')?.['Index Name']).toBe(
      'complaints_tenant_channel_category_idx',
    );
    expect(complaintRowsRead(several)).toBe(5);
  });

  it('lists complaints by a rare cause from the cause index, reading only its matches', async () => {
    const repository = createComplaintsRepository(t.database.db);
    const nodes = await analyzedNodes(
      repository.listQuery(tenantId, { cause: 'label_mismatch' }, 25).toSQL(),
    );
    const scan = nodes.find((node) => node['Relation Name'] === 'complaints');
    expect(scan).toMatchObject({ 'Node Type': 'Index Scan', 'Index Name': 'complaints_tenant_cause_idx' });
    expect(complaintRowsRead(nodes)).toBe(5);
    const quality = await analyzedNodes(
      repository.listQuery(tenantId, { qualityClass: 'quality', cause: 'label_mismatch' }, 25).toSQL(),
    );
    expect(complaintRowsRead(quality)).toBeLessThanOrEqual(5);
  });

  it('keeps other combinations to the walk of their most selective filter', async () => {
    const repository = createComplaintsRepository(t.database.db);
    /** The index a list page reads complaints from, and how many complaints it reads, as run. */
    const pageRead = async (filters: Parameters<typeof repository.listQuery>[1]) => {
      const nodes = await analyzedNodes(repository.listQuery(tenantId, filters, 25).toSQL());
      const scan = nodes.find((node) => node['Relation Name'] === 'complaints');
      return { type: scan?.['Node Type'], index: scan?.['Index Name'], read: complaintRowsRead(nodes) };
    };
    // Closed complaints, 97 % of them, are left out of the status index: the received index
    // fills a page of them at once, alone or with a channel's own walk.
    const closed = await pageRead({ statuses: ['closed'] });
    expect(closed).toMatchObject({ type: 'Index Scan', index: 'complaints_tenant_received_idx' });
    expect(closed.read).toBeLessThanOrEqual(40);
    const closedFax = await pageRead({ statuses: ['closed'], channels: ['fax'] });
    expect(closedFax).toMatchObject({ type: 'Index Scan', index: 'complaints_tenant_channel_idx' });
    expect(closedFax.read).toBeLessThanOrEqual(40);
    // The open backlog (150 received) is still read from the status index.
    // (It holds no id, so the page's last tie on received_at is read to sort by id.)
    const open = await pageRead({ statuses: ['received'] });
    expect(open).toMatchObject({ type: 'Index Scan', index: 'complaints_tenant_status_idx' });
    expect(open.read).toBeLessThanOrEqual(30);
    const received = await pageRead({ statuses: ['received'], channels: ['fax'] });
    expect(['complaints_tenant_status_idx', 'complaints_tenant_channel_idx']).toContain(received.index);
    expect(received.read).toBeLessThanOrEqual(150);
    // One of eight staff and refunds (a tenth): either filter's walk reads a few pages' worth.
    const assigned = await pageRead({ assignee: 'staff-7', category: 'refund' });
    expect(['complaints_tenant_category_idx', 'complaints_tenant_assignee_idx']).toContain(assigned.index);
    expect(assigned.read).toBeLessThanOrEqual(300);
  });

  it('builds statistics of channel and category together in the migrate step when they were never built', async () => {
    const client = await t.database.pool.connect();
    try {
      const built = async () =>
        (
          await client.query<{ combinations: number }>(
            `select cardinality(most_common_vals) as combinations from pg_stats_ext
             where statistics_name = 'complaints_channel_category_stats'`,
          )
        ).rows[0]?.combinations;
      expect(await built()).toBeGreaterThan(0);
      // Made again from its own definition, as a migration adds it: empty until an analysis.
      const { rows } = await client.query<{ definition: string }>(
        `select pg_get_statisticsobjdef(oid) as definition from pg_statistic_ext
         where stxname = 'complaints_channel_category_stats'`,
      );
      await client.query('drop statistics complaints_channel_category_stats');
      await client.query(rows[0]!.definition);
      expect(await built()).toBeUndefined();
      expect(await analyzeStaleTables(client)).toContain('complaints');
      expect(await built()).toBeGreaterThan(0);
      expect(await analyzeStaleTables(client)).not.toContain('complaints');
    } finally {
      client.release();
    }
  });

  it("narrows the feed by type from each type's range of the type index, even a type with no events", async () => {
    const events = createEventsRepository(t.database.db);
    const byType = { relation: 'event_feed', type: 'Index Scan', index: 'event_feed_tenant_type_idx' };
    const byKey = { relation: 'events', type: 'Index Scan', index: 'events_pkey' };
    // No event has these types: filtering the feed index on type read all 15,000 of the tenant's
    // events for an empty page (413 ms at 1M complaints). Each event a range yields is then read
    // by its key.
    for (const types of [
      ['webhook.disabled'],
      ['complaint.acceptance_overridden', 'deadline.*'],
      ['complaint.*'],
    ]) {
      for (const after of [0, 1]) {
        const query = events.feedPageQuery(tenantId, { after, types, limit: 100 });
        const found = scans(await explainPlan(t.database.pool, query!.toSQL()));
        const ranges = found.filter((scan) => scan.relation === 'event_feed');
        expect(ranges.length, types.join()).toBeGreaterThan(0);
        expect(ranges, types.join()).toEqual(ranges.map(() => byType));
        expect(
          found.filter((scan) => scan.relation !== 'event_feed'),
          types.join(),
        ).toEqual(ranges.map(() => byKey));
      }
    }
    const empty = await analyzedNodes(
      events.feedPageQuery(tenantId, { after: 0, types: ['webhook.disabled'], limit: 100 })!.toSQL(),
    );
    expect(empty.map((node) => node['Actual Rows'])).toEqual(empty.map(() => 0));
  });

  it('counts deadlines for /metrics from the backlog index and the maintained breach counts', async () => {
    const found = scans(await deadlineCountsByStatus.plan(t.database.pool, {}));
    expect(found.filter((scan) => scan.relation === 'deadlines')).toEqual([
      { relation: 'deadlines', type: 'Index Only Scan', index: 'deadlines_open_id_idx' },
    ]);
    expect(found.map((scan) => scan.relation).sort()).toEqual([
      'deadline_breach_changes',
      'deadline_breach_counts',
      'deadlines',
    ]);
  });

  it('reads complaints and their next pending deadlines by id or reference through their keys', async () => {
    const plan = await complaintsWithNext.plan(
      t.database.pool,
      complaintLookupValues([
        { tenantId, key: seededId },
        { tenantId, key: 'P-002500' },
      ]),
    );
    expect(scans(plan)).toEqual([
      { relation: 'complaints', type: 'Index Scan', index: 'complaints_pkey' },
      { relation: 'complaints', type: 'Index Scan', index: 'complaints_tenant_reference_key' },
      {
        relation: 'deadlines',
        type: expect.stringMatching(/^Index (Only )?Scan$/),
        index: 'deadlines_complaint_pending_due_idx',
      },
    ]);
  });
});
