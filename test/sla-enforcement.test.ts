import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { queuePrefix } from '../src/jobs/queues.js';
import { scanKeys, unlinkKeys } from '../src/lib/redis.js';
import { wakeUpJobId } from '../src/modules/deadlines/deadline-scheduler.js';
import type { DeadlineView } from '../src/modules/deadlines/deadline-views.js';
import { call, complaintBody, createFastLaneTenant, type TestApp, type TestTenant } from './harness.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';
import { connectTestRedis, listKeysUnder, patientDeadlineQueue, testRedisEnv } from './redis-keys.js';
import { eventually, sleep, startWorkerProcess, type WorkerProcess } from './worker-process.js';

/**
 * End to end: the API over real PostgreSQL and Redis, and the worker as its own process. The file
 * has its own database and Redis prefix (under the run's): a worker sweeps every tenant of its
 * database, so another file's worker would breach what this file's tests leave to no worker, and
 * flushing the prefix cannot disturb other files.
 */
let isolated: IsolatedTestApp;
let t: TestApp;
let worker: WorkerProcess;
let redisPrefix: string;

beforeAll(async () => {
  isolated = await startIsolatedTestApp('sla');
  t = isolated.app;
  redisPrefix = isolated.redisPrefix;
  worker = await startWorkerProcess(workerEnv());
});
afterAll(async () => {
  await worker?.stop();
  await isolated?.close();
});

function workerEnv(): Record<string, string> {
  return {
    DATABASE_URL: isolated.databaseUrl,
    ...testRedisEnv(),
    REDIS_PREFIX: redisPrefix,
    SLA_RECONCILE_INTERVAL: '1',
    WORKER_CONCURRENCY: '10',
  };
}

async function createFast(tenant: TestTenant, overrides: Record<string, unknown> = {}) {
  const res = await call(t.app, tenant.adminKey, {
    method: 'POST',
    url: '/v1/complaints',
    json: complaintBody({ channel: 'web', category: 'fast', ...overrides }),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function deadlinesOf(tenant: TestTenant, complaintId: string) {
  const res = await call(t.app, tenant.adminKey, {
    method: 'GET',
    url: `/v1/complaints/${complaintId}/deadlines`,
  });
  expect(res.statusCode).toBe(200);
  return res.json().data as DeadlineView[];
}

async function deadline(tenant: TestTenant, complaintId: string, kind: string) {
  return (await deadlinesOf(tenant, complaintId)).find((d) => d.kind === kind)!;
}

async function eventsFor(deadlineId: string, type: string) {
  const { rows } = await t.database.pool.query(
    `select * from events where type = $1 and data->'deadline'->>'id' = $2 order by position`,
    [type, deadlineId],
  );
  return rows;
}

describe('deadline enforcement', () => {
  it('breaches an online reply of PT2S within a second of its due time, once', async () => {
    const tenant = await createFastLaneTenant(t);
    const complaint = await createFast(tenant);
    const reply = await deadline(tenant, complaint.id, 'online_reply');
    expect(reply).toMatchObject({
      status: 'pending',
      policyId: tenant.policyId,
      policyVersion: 1,
      targetDuration: 'PT2S',
    });
    expect(new Date(reply.dueAt).getTime() - new Date(reply.startsAt).getTime()).toBe(2000);
    expect(complaint.nextDeadline).toMatchObject({ id: reply.id, kind: 'online_reply' });
    // The API armed the first wake-up itself, at once: the warning. The worker arms the breach
    // when the warning is recorded, so Redis holds one job per pending deadline.
    const armedFor = new Date(reply.dueAt).getTime();
    const warnJob = wakeUpJobId({ action: 'warn', deadlineId: reply.id, index: 0, armedFor });
    const breachJob = wakeUpJobId({ action: 'breach', deadlineId: reply.id, armedFor });
    const looking = patientDeadlineQueue(t.env.REDIS_PREFIX, t.env.DEADLINE_QUEUE_SHARDS);
    onTestFinished(() => looking.close());
    // Armed after the intake committed, on the API's connection: a look on another connection may
    // come first, so it waits for the job a moment.
    expect(
      await eventually(async () => await looking.queueFor(reply.id).getJob(warnJob), 2_000),
    ).toBeDefined();
    expect(await looking.queueFor(reply.id).getJob(breachJob)).toBeUndefined();

    const breached = await eventually(async () => {
      const current = await deadline(tenant, complaint.id, 'online_reply');
      return current.status === 'breached' ? current : undefined;
    }, 6_000);
    const lag = new Date(breached.breachedAt!).getTime() - new Date(breached.dueAt).getTime();
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(1000);
    await sleep(1_500); // a reconciler sweep passes; nothing fires twice
    expect(await eventsFor(reply.id, 'deadline.breached')).toHaveLength(1);
    const timeline = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url: `/v1/complaints/${complaint.id}/timeline`,
    });
    expect(timeline.json().data.filter((e: { type: string }) => e.type === 'deadline.breached')).toHaveLength(
      1,
    );
    // The worker escalated in the same transaction: one level up, citing the breach.
    const escalations = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url: `/v1/complaints/${complaint.id}/escalations`,
    });
    expect(escalations.json().data).toEqual([
      expect.objectContaining({ level: 1, trigger: 'breach', deadlineId: reply.id }),
    ]);
  });

  it('meets the online reply when an outbound reply reaches the customer in time', async () => {
    const tenant = await createFastLaneTenant(t);
    const complaint = await createFast(tenant);
    const reply = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${complaint.id}/communications`,
      json: { direction: 'outbound', channel: 'web', body: 'We are on it', contactMade: true },
    });
    expect(reply.statusCode).toBe(201);
    const met = await deadline(tenant, complaint.id, 'online_reply');
    expect(met).toMatchObject({ status: 'met', breachedAt: null, metLate: false });
    expect((await deadline(tenant, complaint.id, 'first_contact')).status).toBe('met');
    await sleep(2_500);
    expect((await deadline(tenant, complaint.id, 'online_reply')).status).toBe('met');
    expect(await eventsFor(met.id, 'deadline.breached')).toHaveLength(0);
    expect(await eventsFor(met.id, 'deadline.met')).toHaveLength(1);
  });

  it('records a late reply as met with its breach kept', async () => {
    const tenant = await createFastLaneTenant(t, { targets: { onlineReply: 'PT1S' } });
    const complaint = await createFast(tenant);
    const id = (await deadline(tenant, complaint.id, 'online_reply')).id;
    await eventually(
      async () => (await deadline(tenant, complaint.id, 'online_reply')).status === 'breached',
      5_000,
    );
    await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${complaint.id}/communications`,
      json: { direction: 'outbound', channel: 'email', body: 'Sorry for the wait', contactMade: true },
    });
    const late = await deadline(tenant, complaint.id, 'online_reply');
    expect(late).toMatchObject({ id, status: 'met', metLate: true });
    expect(late.breachedAt).not.toBeNull();
    expect((await eventsFor(id, 'deadline.met'))[0].data.late).toBe(true);
  });

  it('fires warnings at their fraction of the allowed time', async () => {
    const tenant = await createFastLaneTenant(t, { warnAt: [0.5] });
    const complaint = await createFast(tenant);
    const reply = await deadline(tenant, complaint.id, 'online_reply');
    const warnAt = new Date(reply.warnAts[0]!).getTime();
    expect(warnAt - new Date(reply.startsAt).getTime()).toBe(1000);
    const [warning] = await eventually(async () => {
      const rows = await eventsFor(reply.id, 'deadline.warning');
      return rows.length > 0 ? rows : undefined;
    }, 5_000);
    expect(warning.data.warning).toEqual({ index: 0, fraction: 0.5 });
    const lag = new Date(warning.occurred_at).getTime() - warnAt;
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(1000);
    await eventually(async () => (await eventsFor(reply.id, 'deadline.breached')).length === 1, 5_000);
    expect(await eventsFor(reply.id, 'deadline.warning')).toHaveLength(1);
  });

  it('pauses resolution while awaiting the customer and resumes it with the time that was left', async () => {
    const tenant = await createFastLaneTenant(t, { targets: { resolution: 'PT4S' } });
    const complaint = await createFast(tenant, { channel: 'phone' });
    const move = (to: string) =>
      call(t.app, tenant.adminKey, {
        method: 'POST',
        url: `/v1/complaints/${complaint.id}/transitions`,
        json: { to },
      });
    await move('acknowledged');
    await move('investigating');
    await sleep(1_000);
    await move('awaiting_customer');
    const paused = await deadline(tenant, complaint.id, 'resolution');
    expect(paused.status).toBe('paused');
    expect(paused.remainingMs).toBeGreaterThan(2_500);
    expect(paused.remainingMs).toBeLessThanOrEqual(3_000);

    await sleep(4_500); // longer than the whole target: a running clock would have breached by now
    expect((await deadline(tenant, complaint.id, 'resolution')).status).toBe('paused');

    const inbound = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${complaint.id}/communications`,
      json: {
        direction: 'inbound',
        channel: 'phone',
        body: 'Here are the photos you asked for',
        contactMade: true,
      },
    });
    expect(inbound.statusCode).toBe(201);
    const after = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url: `/v1/complaints/${complaint.id}`,
    });
    expect(after.json().status).toBe('investigating');
    const resumed = await deadline(tenant, complaint.id, 'resolution');
    expect(resumed.status).toBe('pending');
    const resumedAt = Date.now();
    const left = new Date(resumed.dueAt).getTime() - resumedAt;
    expect(Math.abs(left - paused.remainingMs!)).toBeLessThan(300);
    const breached = await eventually(async () => {
      const current = await deadline(tenant, complaint.id, 'resolution');
      return current.status === 'breached' ? current : undefined;
    }, 6_000);
    expect(new Date(breached.breachedAt!).getTime() - new Date(breached.dueAt).getTime()).toBeLessThan(1000);
  });

  it('cancels what is pending on withdrawal, and opens a follow-up on resolution', async () => {
    const tenant = await createFastLaneTenant(t, { targets: { followUp: 'PT1H' } });
    const withdrawn = await createFast(tenant);
    await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${withdrawn.id}/transitions`,
      json: { to: 'withdrawn', reason: 'Customer withdrew' },
    });
    const all = await deadlinesOf(tenant, withdrawn.id);
    expect(all.map((d) => d.status)).toEqual(all.map(() => 'cancelled'));

    const resolved = await createFast(tenant, { channel: 'phone' });
    for (const to of ['acknowledged', 'investigating', 'resolved']) {
      await call(t.app, tenant.adminKey, {
        method: 'POST',
        url: `/v1/complaints/${resolved.id}/transitions`,
        json: { to },
      });
    }
    const list = await deadlinesOf(tenant, resolved.id);
    expect(list.find((d) => d.kind === 'resolution')!.status).toBe('met');
    const followUp = list.find((d) => d.kind === 'follow_up')!;
    expect(followUp.status).toBe('pending');
    const done = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${resolved.id}/deadlines/${followUp.id}/complete`,
    });
    expect(done.statusCode).toBe(200);
    expect(done.json().status).toBe('met');
  });
});

describe('nothing is lost', () => {
  it('re-arms every pending deadline after Redis loses its data, and breaches each once', async () => {
    const tenant = await createFastLaneTenant(t, { targets: { onlineReply: 'PT3S' } });
    const complaints = await Promise.all(Array.from({ length: 5 }, () => createFast(tenant)));
    const replies = await Promise.all(complaints.map((c) => deadline(tenant, c.id, 'online_reply')));

    // FLUSHALL, limited to this file's own keys so other test files sharing the server are unaffected.
    const redis = await connectTestRedis();
    const keys = await listKeysUnder(redis, redisPrefix);
    expect(keys.length).toBeGreaterThan(0);
    await unlinkKeys(redis, keys);
    const jobKeys = async () => {
      const found: string[] = [];
      for await (const batch of scanKeys(redis, `${queuePrefix(redisPrefix, 'deadlines')}:deadlines:[wb].*`))
        found.push(...batch);
      return found;
    };
    expect(await jobKeys()).toHaveLength(0);
    await eventually(async () => (await jobKeys()).length >= 5, 5_000);
    redis.disconnect();

    for (const reply of replies) {
      await eventually(async () => (await eventsFor(reply.id, 'deadline.breached')).length === 1, 8_000);
    }
    await sleep(1_500);
    for (const reply of replies) expect(await eventsFor(reply.id, 'deadline.breached')).toHaveLength(1);
  });

  it('lands the breach of a worker killed with SIGKILL exactly once, through the next worker', async () => {
    await worker.kill();
    try {
      const tenant = await createFastLaneTenant(t, { targets: { onlineReply: 'PT1S' } });
      const complaint = await createFast(tenant);
      const reply = await deadline(tenant, complaint.id, 'online_reply');
      await sleep(2_000); // due while no worker runs
      expect((await deadline(tenant, complaint.id, 'online_reply')).status).toBe('pending');
      worker = await startWorkerProcess(workerEnv());
      await eventually(async () => (await eventsFor(reply.id, 'deadline.breached')).length === 1, 8_000);
      await sleep(1_500);
      expect(await eventsFor(reply.id, 'deadline.breached')).toHaveLength(1);
    } finally {
      if (worker.child.exitCode !== null || worker.child.signalCode !== null)
        worker = await startWorkerProcess(workerEnv());
    }
  });
});
