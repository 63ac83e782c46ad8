import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createQueue } from '../src/jobs/queues.js';
import { systemClock } from '../src/lib/clock.js';
import { openDeadlineQueue } from '../src/modules/deadlines/deadline-queue.js';
import type { DeadlineView } from '../src/modules/deadlines/deadline-views.js';
import { parseExposition, sample } from './exposition.js';
import { call, complaintBody, createFastLaneTenant, type TestApp, type TestTenant } from './harness.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';
import { onRedisCluster, testRedisEnv, testRedisTarget } from './redis-keys.js';
import { startTcpProxy } from './tcp-proxy.js';
import { citusWorkerUrls } from './test-database.js';
import { eventually, freePort, sleep, startWorkerProcess, type WorkerProcess } from './worker-process.js';

/**
 * The worker process as production runs it: its /metrics endpoint after a real breach, and a
 * worker killed with SIGKILL while PostgreSQL holds its breach statement behind a row lock.
 * The file has its own database and Redis prefix, so no other file's worker records (or sweeps)
 * its deadlines: every breach here is this file's worker's.
 */
let isolated: IsolatedTestApp;
let t: TestApp;
const workers: WorkerProcess[] = [];
const onCitus = citusWorkerUrls().length > 0;

beforeAll(async () => {
  isolated = await startIsolatedTestApp('worker');
  t = isolated.app;
});
afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.stop();
});
afterAll(() => isolated?.close());

async function startWorker(env: Record<string, string> = {}): Promise<WorkerProcess> {
  const worker = await startWorkerProcess({
    DATABASE_URL: isolated.databaseUrl,
    ...testRedisEnv(),
    REDIS_PREFIX: isolated.redisPrefix,
    SLA_RECONCILE_INTERVAL: '1',
    WORKER_CONCURRENCY: '10',
    HOST: '127.0.0.1',
    ...env,
  });
  workers.push(worker);
  return worker;
}

async function createFast(tenant: TestTenant) {
  const res = await call(t.app, tenant.adminKey, {
    method: 'POST',
    url: '/v1/complaints',
    json: complaintBody({ channel: 'web', category: 'fast' }),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string };
}

async function onlineReply(tenant: TestTenant, complaintId: string): Promise<DeadlineView> {
  const res = await call(t.app, tenant.adminKey, {
    method: 'GET',
    url: `/v1/complaints/${complaintId}/deadlines`,
  });
  expect(res.statusCode).toBe(200);
  return (res.json().data as DeadlineView[]).find((d) => d.kind === 'online_reply')!;
}

/** What a breach leaves behind: its events, its timeline entries and the escalations it set off. */
async function traces(tenant: TestTenant, complaintId: string, deadlineId: string) {
  const { rows: events } = await t.database.pool.query(
    `select id from events where type = 'deadline.breached' and data->'deadline'->>'id' = $1`,
    [deadlineId],
  );
  const timeline = await call(t.app, tenant.adminKey, {
    method: 'GET',
    url: `/v1/complaints/${complaintId}/timeline?limit=100`,
  });
  const escalations = await call(t.app, tenant.adminKey, {
    method: 'GET',
    url: `/v1/complaints/${complaintId}/escalations`,
  });
  return {
    events,
    timeline: (timeline.json().data as Array<{ type: string; data: { deadlineId?: string } }>).filter(
      (entry) => entry.type === 'deadline.breached' && entry.data.deadlineId === deadlineId,
    ),
    escalations: (escalations.json().data as Array<{ trigger: string; deadlineId: string | null }>).filter(
      (escalation) => escalation.trigger === 'breach',
    ),
  };
}

describe("the worker's /metrics", () => {
  it('counts a breach in the detection-lag histogram, with deadlines by status and queue depths', async () => {
    const port = await freePort();
    const worker = await startWorker({ WORKER_METRICS_PORT: String(port) });
    const tenant = await createFastLaneTenant(t, { targets: { onlineReply: 'PT1S' }, warnAt: [0.5] });
    // A reply due in ten minutes: within the arming horizon, so its wake-up waits in Redis.
    await createFast(await createFastLaneTenant(t, { targets: { onlineReply: 'PT10M' }, warnAt: [] }));
    const complaint = await createFast(tenant);
    const reply = await onlineReply(tenant, complaint.id);
    const breached = await eventually(async () => {
      const current = await onlineReply(tenant, complaint.id);
      return current.status === 'breached' ? current : undefined;
    }, 6_000);
    const lagSeconds = (new Date(breached.breachedAt!).getTime() - new Date(reply.dueAt).getTime()) / 1000;

    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const samples = parseExposition(await res.text());
    const lag = 'redress_deadline_detection_lag_seconds';
    const kind = { kind: 'online_reply' };
    expect(sample(samples, `${lag}_count`, kind)).toBe(1);
    expect(sample(samples, `${lag}_sum`, kind)).toBeCloseTo(lagSeconds, 2);
    // Detected within a second: the one observation sits in the 1 s bucket and every one above.
    expect(sample(samples, `${lag}_bucket`, { ...kind, le: '1' })).toBe(1);
    expect(sample(samples, `${lag}_bucket`, { ...kind, le: '+Inf' })).toBe(1);
    expect(sample(samples, 'redress_deadline_breaches_total', kind)).toBe(1);
    expect(sample(samples, 'redress_deadline_warnings_total', kind)).toBe(1);

    // Deadlines by status, all tenants of this file's database, as PostgreSQL counts them.
    const { rows } = await t.database.pool.query<{ status: string; n: number }>(
      'select status, count(*)::int as n from deadlines group by status',
    );
    const counted = Object.fromEntries(rows.map((row) => [row.status, row.n]));
    expect(counted.breached).toBe(1);
    for (const status of ['pending', 'paused', 'breached'])
      expect(sample(samples, 'redress_deadlines', { status }), status).toBe(counted[status] ?? 0);

    // Queue depths, as BullMQ counts them: the ten-minute reply's job, the maintenance schedule.
    // Counted on a connection that waits for Redis as the worker's does, not on the API's, whose
    // commands give up after a second: on a loaded machine a count across a cluster can take longer.
    const counting = openDeadlineQueue(testRedisTarget(), isolated.redisPrefix, systemClock, {
      failFast: false,
      shards: t.env.DEADLINE_QUEUE_SHARDS,
    });
    const maintenance = createQueue('maintenance', counting.connection, isolated.redisPrefix);
    try {
      const queues = {
        deadlines: await counting.jobCounts('wait', 'delayed', 'active', 'failed'),
        maintenance: await maintenance.getJobCounts('wait', 'delayed', 'active', 'failed'),
      };
      expect(queues.deadlines.delayed).toBeGreaterThan(0);
      expect(queues.maintenance.delayed).toBeGreaterThan(0);
      for (const [queue, counts] of Object.entries(queues)) {
        for (const [state, count] of Object.entries(counts))
          expect(sample(samples, 'redress_queue_jobs', { queue, state }), `${queue} ${state}`).toBe(count);
      }
    } finally {
      await maintenance.close();
      await counting.close();
    }
    expect(sample(samples, 'redress_metrics_source_up', { source: 'postgres' })).toBe(1);
    expect(sample(samples, 'redress_metrics_source_up', { source: 'redis' })).toBe(1);
    await worker.stop();
  });
});

describe('a worker killed with SIGKILL in the middle of recording a breach', () => {
  /**
   * Holds the complaint's row lock, as a long API transaction would, until `release`: the
   * worker's breach (record_deadline_wake_ups locks the complaint first) waits behind it.
   */
  async function lockComplaint(tenant: TestTenant, complaintId: string) {
    const holder = new pg.Client({
      connectionString: isolated.databaseUrl,
      application_name: 'test-lock-holder',
    });
    await holder.connect();
    await holder.query('begin');
    await holder.query('select id from complaints where tenant_id = $1 and id = $2 for update', [
      tenant.tenantId,
      complaintId,
    ]);
    const { rows } = await holder.query<{ pid: number; gpid: string | null }>(
      `select pg_backend_pid() as pid, ${onCitus ? 'citus_backend_gpid()' : 'null'} as gpid`,
    );
    return {
      pid: rows[0]!.pid,
      gpid: rows[0]!.gpid,
      async release() {
        await holder.query('rollback');
        await holder.end();
      },
    };
  }

  /**
   * The worker's statements waiting on the holder's lock inside record_deadline_wake_ups. On Citus
   * the wait is on the node that holds the complaint, between connections the coordinator opened,
   * so citus_lock_waits shows it, by global process id, where pg_blocking_pids sees nothing.
   */
  async function blockedBreaches(holder: { pid: number; gpid: string | null }) {
    if (onCitus) {
      const { rows } = await t.database.pool.query<{ query: string }>(
        `select w.blocked_statement as query from citus_lock_waits w
          join pg_stat_activity a on a.pid = citus_pid_for_gpid(w.waiting_gpid)
          where a.datname = current_database() and a.application_name = 'redress-worker' and w.blocking_gpid = $1`,
        [holder.gpid],
      );
      return rows;
    }
    const { rows } = await t.database.pool.query<{ query: string }>(
      `select query from pg_stat_activity
        where datname = current_database() and application_name = 'redress-worker'
          and wait_event_type = 'Lock' and $1 = any(pg_blocking_pids(pid))`,
      [holder.pid],
    );
    return rows;
  }

  /** Which of these backends still exist. */
  async function alive(pids: number[]) {
    const { rows } = await t.database.pool.query<{ pid: number }>(
      'select pid from pg_stat_activity where pid = any($1::int[])',
      [pids],
    );
    return rows.map((row) => row.pid);
  }

  async function workerBackends() {
    const { rows } = await t.database.pool.query<{ pid: number }>(
      `select pid from pg_stat_activity where datname = current_database() and application_name = 'redress-worker'`,
    );
    return rows.map((row) => row.pid);
  }

  async function expectBreachedOnce(tenant: TestTenant, complaintId: string, deadlineId: string) {
    await eventually(async () => (await traces(tenant, complaintId, deadlineId)).events.length > 0, 10_000);
    await sleep(2_500); // the next worker's reconciler sweeps (every second) have passed
    const left = await traces(tenant, complaintId, deadlineId);
    expect(left.events).toHaveLength(1);
    expect(left.timeline).toHaveLength(1);
    expect(left.escalations).toEqual([expect.objectContaining({ trigger: 'breach', deadlineId })]);
    const reply = await onlineReply(tenant, complaintId);
    expect(reply.status).toBe('breached');
    const complaint = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url: `/v1/complaints/${complaintId}`,
    });
    expect(complaint.json().escalationLevel).toBe(1);
  }

  // With PostgreSQL's defaults the server does not notice the dead client while its statement
  // waits for the lock: once the lock is released, the statement runs and commits (the breach
  // lands through the dead worker), and the next worker's job and sweeps must not repeat it.
  it('lands the breach exactly once: the lock released, a new worker started', async () => {
    // No warnings: the breach is the deadline's first and only wake-up.
    const tenant = await createFastLaneTenant(t, { targets: { onlineReply: 'PT2S' }, warnAt: [] });
    const first = await startWorker();
    const complaint = await createFast(tenant);
    const reply = await onlineReply(tenant, complaint.id);
    const lock = await lockComplaint(tenant, complaint.id);
    try {
      const blocked = await eventually(async () => {
        const rows = await blockedBreaches(lock);
        return rows.length > 0 ? rows : undefined;
      }, 8_000);
      expect(blocked[0]!.query).toContain('record_deadline_wake_ups');
      expect((await onlineReply(tenant, complaint.id)).status).toBe('pending');
      await first.kill();
    } finally {
      await lock.release();
    }
    await startWorker();
    await expectBreachedOnce(tenant, complaint.id, reply.id);
  });

  it('lands it through the next worker when PostgreSQL drops the dead worker’s statement', async () => {
    const tenant = await createFastLaneTenant(t, { targets: { onlineReply: 'PT2S' }, warnAt: [] });
    // The server checks every 100 ms whether the client is still there, and ends the session
    // (rolling back its statement) when it is not, so nothing of the killed worker commits.
    const first = await startWorker({ PGOPTIONS: '-c client_connection_check_interval=100' });
    const complaint = await createFast(tenant);
    const reply = await onlineReply(tenant, complaint.id);
    const lock = await lockComplaint(tenant, complaint.id);
    try {
      await eventually(async () => (await blockedBreaches(lock)).length > 0, 8_000);
      // Only the first worker runs: every worker backend of this database is its.
      const backends = await workerBackends();
      await first.kill();
      await eventually(async () => (await alive(backends)).length === 0, 5_000);
    } finally {
      await lock.release();
    }
    await sleep(300);
    expect((await onlineReply(tenant, complaint.id)).status).toBe('pending');
    expect((await traces(tenant, complaint.id, reply.id)).events).toHaveLength(0);
    await startWorker();
    await expectBreachedOnce(tenant, complaint.id, reply.id);
  });
});

describe('a worker cut off from PostgreSQL', () => {
  it('keeps running through the outage, and breaches what fell due once it is back', async () => {
    const proxy = await startTcpProxy(isolated.databaseUrl);
    try {
      const worker = await startWorker({ DATABASE_URL: proxy.through(isolated.databaseUrl) });
      const tenant = await createFastLaneTenant(t, { targets: { onlineReply: 'PT2S' }, warnAt: [] });
      await proxy.cut();
      // The deadline falls due during the outage, through which sweeps (every second) fail.
      const complaint = await createFast(tenant);
      const reply = await onlineReply(tenant, complaint.id);
      await sleep(3_500);
      expect(worker.child.exitCode).toBeNull();
      expect((await onlineReply(tenant, complaint.id)).status).toBe('pending');
      await proxy.restore();
      await eventually(async () => (await onlineReply(tenant, complaint.id)).status === 'breached', 10_000);
      expect((await traces(tenant, complaint.id, reply.id)).events).toHaveLength(1);
      expect(worker.child.exitCode).toBeNull();
    } finally {
      await proxy.close();
    }
  });
});

describe('a worker cut off from Redis', () => {
  // One proxy stands for one server: a cluster client would learn the nodes' own addresses and
  // go round it.
  it.skipIf(onRedisCluster())('still breaches overdue deadlines, which need only PostgreSQL', async () => {
    const redisUrl = inject('redisUrl');
    const proxy = await startTcpProxy(redisUrl);
    try {
      const worker = await startWorker({ REDIS_URL: proxy.through(redisUrl) });
      const tenant = await createFastLaneTenant(t, { targets: { onlineReply: 'PT2S' }, warnAt: [] });
      await proxy.cut();
      // Armed by the API in Redis, which the worker cannot reach: only its sweeps can breach it.
      const complaint = await createFast(tenant);
      const reply = await onlineReply(tenant, complaint.id);
      await eventually(async () => (await onlineReply(tenant, complaint.id)).status === 'breached', 15_000);
      expect((await traces(tenant, complaint.id, reply.id)).events).toHaveLength(1);
      expect(worker.child.exitCode).toBeNull();
      // Back before it stops: a worker stopping while Redis is away waits out its grace period.
      await proxy.restore();
      await worker.stop();
    } finally {
      await proxy.close();
    }
  });
});
