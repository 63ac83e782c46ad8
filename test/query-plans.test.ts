import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PlanNode, planNodes } from '../src/db/prepared.js';
import {
  complaintWithNextById,
  complaintWithNextByReference,
} from '../src/modules/complaints/complaints.repository.js';
import { complaintFromCustomerInCategory } from '../src/modules/major-complaints/major-complaints.repository.js';
import { call, complaintBody, createTestTenant, startTestApp, type TestApp } from './harness.js';

/**
 * Every intake and every read by id runs these statements, so each must stay one probe of the
 * index it was written for however many complaints a tenant has. Left to a plan that walks the
 * tenant's complaints instead, intake fell from 728/s to 166/s by 17,000 rows (bench/). The
 * planner picks from statistics, as a deployed PostgreSQL keeps them: the tables are analysed.
 */
describe('hot statements keep to their indexes', () => {
  const SEEDED = 5_000;
  let t: TestApp;
  let tenantId: string;
  let seededId: string;

  beforeAll(async () => {
    t = await startTestApp();
    let key: string;
    ({ tenantId, adminKey: key } = await createTestTenant(t.tenancy));
    // One complaint through the API opens real deadlines; the seeded ones copy them, so the
    // deadline index holds several pending rows per complaint, as in service.
    const created = await call(t.app, key, { method: 'POST', url: '/v1/complaints', json: complaintBody() });
    expect(created.statusCode).toBe(201);
    // All in the last hour, in one category: the received-at window of a repeat lookup covers
    // every one of them, so only the customer index narrows it.
    await t.database.pool.query(
      `insert into complaints (id, tenant_id, reference, channel, category, subject, description, customer_name,
         customer_phone, customer_key, received_at, received_by, assignee)
       select gen_random_uuid(), $1, 'P-' || lpad(g::text, 6, '0'), 'web', 'billing', 'Seeded ' || g,
         'Seeded for plan checks', 'Customer ' || g, '+86 138 ' || lpad(g::text, 8, '0'),
         'tel:+86138' || lpad(g::text, 8, '0'), now() - g * interval '500 ms', 'seed', 'seed'
       from generate_series(1, $2::int) g`,
      [tenantId, SEEDED],
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
    await t.database.pool.query('analyze complaints, deadlines');
    const { rows } = await t.database.pool.query<{ id: string }>(
      `select id from complaints where tenant_id = $1 and reference = 'P-002500'`,
      [tenantId],
    );
    seededId = rows[0]!.id;
  });
  afterAll(async () => t.close());

  /** The scans of a plan: which relation each reads and through which index, if any. */
  function scans(plan: PlanNode) {
    return planNodes(plan)
      .filter((node) => node['Relation Name'] !== undefined)
      .map((node) => ({
        relation: node['Relation Name'],
        type: node['Node Type'],
        index: node['Index Name'],
      }));
  }

  it("answers intake's repeat-complaint lookup from the customer's entries in the customer index", async () => {
    const now = Date.now();
    const plan = await complaintFromCustomerInCategory.plan(t.database.pool, {
      tenantId,
      customerKey: 'tel:+8613800002500',
      category: 'billing',
      from: new Date(now - 30 * 86_400_000).toISOString(),
      to: new Date(now).toISOString(),
    });
    expect(scans(plan)).toEqual([
      { relation: 'complaints', type: 'Index Only Scan', index: 'complaints_tenant_customer_category_idx' },
    ]);
  });

  it('reads a complaint and its next pending deadline by id or reference through their keys', async () => {
    const byId = await complaintWithNextById.plan(t.database.pool, { tenantId, key: seededId });
    const byReference = await complaintWithNextByReference.plan(t.database.pool, {
      tenantId,
      key: 'P-002500',
    });
    const nextDeadline = {
      relation: 'deadlines',
      type: expect.stringMatching(/^Index (Only )?Scan$/),
      index: 'deadlines_complaint_pending_due_idx',
    };
    expect(scans(byId)).toEqual([
      { relation: 'complaints', type: 'Index Scan', index: 'complaints_pkey' },
      nextDeadline,
    ]);
    expect(scans(byReference)).toEqual([
      { relation: 'complaints', type: 'Index Scan', index: 'complaints_tenant_reference_key' },
      nextDeadline,
    ]);
  });
});
