import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueue } from '../src/jobs/queues.js';
import { call, createTestTenant, type TestApp, type TestTenant } from './harness.js';
import { complaintClient, eventsOf } from './intake-helpers.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';
import { connectTestRedis, testRedisEnv } from './redis-keys.js';
import { eventually, startWorkerProcess } from './worker-process.js';

/**
 * Followed to closure (确保关闭, seed 002): a resolved complaint closes by itself once it stayed
 * quiet for the tenant's autoCloseAfter with no follow-up visit pending. The file has its own
 * database and Redis prefix, so its worker's sweep closes only this file's complaints.
 */
let isolated: IsolatedTestApp;
let t: TestApp;
beforeAll(async () => {
  isolated = await startIsolatedTestApp('auto_close');
  t = isolated.app;
});
afterAll(() => isolated?.close());

const DAY = 86_400_000;

/** A complaint taken in and resolved; anonymous ones are exempt from the follow-up visit. */
async function resolved(tenant: TestTenant, overrides: Record<string, unknown> = {}) {
  const api = complaintClient(t, tenant.adminKey);
  const complaint = await api.create(overrides);
  for (const to of ['acknowledged', 'investigating', 'resolved']) {
    const res = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${complaint.id}/transitions`,
      json: { to },
    });
    expect(res.statusCode, res.body).toBe(200);
  }
  return complaint.id as string;
}

const anonymous = { customer: { phone: '+86 138 0000 0000' } };

/** Makes the complaint look untouched for `ms`, as if that long had passed. */
async function quietFor(tenant: TestTenant, complaintId: string, ms: number) {
  await t.database.pool.query(
    "update complaints set updated_at = now() - $3 * interval '1 millisecond' where tenant_id = $1 and id = $2",
    [tenant.tenantId, complaintId, ms],
  );
}

async function statusOf(tenant: TestTenant, id: string) {
  return (await complaintClient(t, tenant.adminKey).get(id)).status;
}

describe('closing quiet resolved complaints', () => {
  it('closes one quiet for the period with no visit owed, by the system, saying why', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const id = await resolved(tenant, anonymous);
    await quietFor(tenant, id, 7 * DAY + 60_000);
    const fresh = await resolved(tenant, anonymous);
    await quietFor(tenant, fresh, 7 * DAY - 60_000);

    expect(await t.services.complaints.closeQuietResolved(tenant.tenantId)).toBe(1);
    expect(await statusOf(tenant, id)).toBe('closed');
    expect(await statusOf(tenant, fresh)).toBe('resolved');
    const closed = (await eventsOf(t, id)).find((event) => event.type === 'complaint.closed');
    expect(closed?.data).toMatchObject({
      reason: 'Closed automatically: resolved and quiet for P7D with no follow-up visit pending.',
      automatic: true,
      complaint: { status: 'closed' },
      actor: { type: 'system' },
    });
    const timeline = await complaintClient(t, tenant.adminKey).timeline(id);
    expect(timeline.at(-1)).toMatchObject({
      type: 'complaint.status_changed',
      actor: { type: 'system' },
      data: { from: 'resolved', to: 'closed' },
    });
    // Run again, nothing more to close: the sweep is idempotent.
    expect(await t.services.complaints.closeQuietResolved(tenant.tenantId)).toBe(0);
  });

  it('waits for the follow-up visit, and counts the quiet period from it', async () => {
    const tenant = await createTestTenant(t.tenancy);
    // A named customer with a phone gets a follow-up visit when resolved.
    const id = await resolved(tenant);
    await quietFor(tenant, id, 30 * DAY);
    expect(await t.services.complaints.closeQuietResolved(tenant.tenantId)).toBe(0);

    const [followUp] = (
      await t.database.pool.query('select id from follow_ups where tenant_id = $1 and complaint_id = $2', [
        tenant.tenantId,
        id,
      ])
    ).rows;
    const visit = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `/v1/follow-ups/${followUp.id}/outcome`,
      // The customer wants no visits: none is owed any more, and the complaint stays resolved.
      json: { outcome: 'declined', contactedBy: 'li.na' },
    });
    expect(visit.statusCode, visit.body).toBe(200);
    await quietFor(tenant, id, 30 * DAY);
    // Visited just now: quiet only from the visit on.
    expect(await t.services.complaints.closeQuietResolved(tenant.tenantId)).toBe(0);
    await t.database.pool.query(
      "update follow_ups set completed_at = now() - interval '8 days' where tenant_id = $1 and id = $2",
      [tenant.tenantId, followUp.id],
    );
    expect(await t.services.complaints.closeQuietResolved(tenant.tenantId)).toBe(1);
    expect(await statusOf(tenant, id)).toBe('closed');
  });

  it("follows the tenant's quiet period, and refuses one out of bounds", async () => {
    const tenant = await createTestTenant(t.tenancy);
    const api = complaintClient(t, tenant.adminKey);
    await api.settings({ autoCloseAfter: 'PT2H' });
    const id = await resolved(tenant, anonymous);
    await quietFor(tenant, id, 3 * 3_600_000);
    expect(await t.services.complaints.closeQuietResolved(tenant.tenantId)).toBe(1);
    for (const autoCloseAfter of ['PT30M', 'P2Y', 'soon']) {
      const res = await call(t.app, tenant.adminKey, {
        method: 'PUT',
        url: '/v1/settings/workflow',
        headers: { 'if-match': '*' },
        json: { autoCloseAfter },
      });
      expect(res.statusCode, autoCloseAfter).toBe(400);
      expect(res.json().errors.map((e: { field: string }) => e.field)).toContain('body.autoCloseAfter');
    }
  });

  it('says complaint.closed when a person closes one too, not automatic', async () => {
    const tenant = await createTestTenant(t.tenancy);
    const id = await resolved(tenant, anonymous);
    const res = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${id}/transitions`,
      json: { to: 'closed', reason: 'Customer confirmed by phone' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const closed = (await eventsOf(t, id)).find((event) => event.type === 'complaint.closed');
    expect(closed?.data).toMatchObject({ reason: 'Customer confirmed by phone', automatic: false });
  });

  it("is a worker's maintenance task, a tenant at a time, leaving other tenants' complaints to their own period", async () => {
    const tenant = await createTestTenant(t.tenancy);
    const patient = await createTestTenant(t.tenancy);
    await complaintClient(t, patient.adminKey).settings({ autoCloseAfter: 'P30D' });
    const id = await resolved(tenant, anonymous);
    const kept = await resolved(patient, anonymous);
    await quietFor(tenant, id, 8 * DAY);
    await quietFor(patient, kept, 8 * DAY);
    const worker = await startWorkerProcess({
      DATABASE_URL: isolated.databaseUrl,
      ...testRedisEnv(),
      REDIS_PREFIX: isolated.redisPrefix,
      HOST: '127.0.0.1',
    });
    const redis = await connectTestRedis();
    const queue = createQueue('maintenance', redis, isolated.redisPrefix);
    try {
      await queue.add('close-quiet-resolved', { task: 'close-quiet-resolved' });
      await eventually(async () => (await statusOf(tenant, id)) === 'closed', 30_000);
      expect(await statusOf(patient, kept)).toBe('resolved');
    } finally {
      await queue.close();
      redis.disconnect();
      await worker.stop();
    }
  }, 90_000);
});
