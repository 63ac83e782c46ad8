import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queuePrefix } from '../src/jobs/queues.js';
import { slotOf } from '../src/lib/redis.js';
import { call, complaintBody, createFastLaneTenant, type TestApp } from './harness.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';
import { connectTestRedis, onRedisCluster, redisTargetOf } from './redis-keys.js';
import { eventually, sleep, startWorkerProcess, type WorkerProcess } from './worker-process.js';

const run = promisify(execFile);

/**
 * A Redis Cluster losing the master that holds the deadline queue, while deadlines fall due. The
 * file starts a cluster of its own (test/redis-cluster.sh), since it kills one of its servers; it
 * runs in the cluster pass of CI (TEST_REDIS_CLUSTER_NODES set), where redis-server is at hand.
 */
const RECONCILE_SECONDS = 2;
const COMPLAINTS = 30;

let clusterDir: string | undefined;
let nodes: string;
let isolated: IsolatedTestApp;
let t: TestApp;
let worker: WorkerProcess;

describe.skipIf(!onRedisCluster())('a Redis Cluster failover', () => {
  beforeAll(async () => {
    clusterDir = await mkdtemp(path.join(tmpdir(), 'redress-failover-'));
    await run('bash', ['test/redis-cluster.sh', 'start', clusterDir]);
    nodes = (await readFile(path.join(clusterDir, 'nodes'), 'utf8')).trim();
    const redisEnv = { REDIS_URL: '', REDIS_CLUSTER_NODES: nodes };
    isolated = await startIsolatedTestApp('failover', redisEnv);
    t = isolated.app;
    worker = await startWorkerProcess({
      DATABASE_URL: isolated.databaseUrl,
      ...redisEnv,
      REDIS_PREFIX: isolated.redisPrefix,
      SLA_RECONCILE_INTERVAL: String(RECONCILE_SECONDS),
      WORKER_CONCURRENCY: '20',
    });
  }, 90_000);
  afterAll(async () => {
    await worker?.stop();
    await isolated?.close();
    if (clusterDir) await run('bash', ['test/redis-cluster.sh', 'stop', clusterDir]);
  }, 60_000);

  it('breaches every deadline once, within the reconcile interval, when the queue’s master dies as they fall due', async () => {
    const tenant = await createFastLaneTenant(t, { targets: { onlineReply: 'PT5S' }, warnAt: [] });
    // A burst: the deadlines fall due over about a second, each armed in Redis by the API.
    const complaints = await Promise.all(
      Array.from({ length: COMPLAINTS }, async () => {
        const res = await call(t.app, tenant.adminKey, {
          method: 'POST',
          url: '/v1/complaints',
          json: complaintBody({ channel: 'web', category: 'fast' }),
        });
        expect(res.statusCode, res.body).toBe(201);
        return res.json() as { id: string };
      }),
    );
    const { rows: deadlines } = await t.database.pool.query<{ id: string; due_at: Date }>(
      `select id, due_at from deadlines where tenant_id = $1 and kind = 'online_reply'`,
      [tenant.tenantId],
    );
    expect(deadlines).toHaveLength(COMPLAINTS);

    // The master serving the deadline queue's slot, found as a client finds it.
    const redis = await connectTestRedis(redisTargetOf({ REDIS_CLUSTER_NODES: nodes }));
    const slot = slotOf(`${queuePrefix(isolated.redisPrefix, 'deadlines')}:deadlines:delayed`);
    const ranges = await redis.cluster('SLOTS');
    redis.disconnect();
    const owner = ranges.find(([first, last]) => slot >= first && slot <= last);
    const [, port] = owner![2]!;
    const pid = Number(await readFile(path.join(clusterDir!, `redis-${port}.pid`), 'utf8'));

    // Killed as the first deadline falls due: no shutdown, no last word to its replica.
    const firstDue = Math.min(...deadlines.map((deadline) => deadline.due_at.getTime()));
    await sleep(Math.max(0, firstDue - Date.now()));
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();

    const lastDue = Math.max(...deadlines.map((deadline) => deadline.due_at.getTime()));
    await eventually(
      async () => {
        const { rows } = await t.database.pool.query<{ n: number }>(
          `select count(*)::int as n from deadlines where tenant_id = $1 and kind = 'online_reply' and status = 'breached'`,
          [tenant.tenantId],
        );
        return rows[0]!.n === COMPLAINTS;
      },
      Math.max(0, lastDue - Date.now()) + 20_000,
      200,
    );
    // Sweeps and the worker's jobs, once the replica took over, have had their time to repeat anything.
    await sleep(RECONCILE_SECONDS * 2_000);

    const { rows: lags } = await t.database.pool.query<{ lag: number }>(
      `select extract(epoch from breached_at - due_at)::float8 as lag
         from deadlines where tenant_id = $1 and kind = 'online_reply'`,
      [tenant.tenantId],
    );
    // A sweep breaches what is overdue from PostgreSQL alone, whatever Redis is doing: each
    // deadline is breached within one reconcile interval (and the sweep's own time) of its due time.
    const worst = Math.max(...lags.map((row) => row.lag));
    expect(worst).toBeLessThanOrEqual(RECONCILE_SECONDS + 1.5);

    const { rows: events } = await t.database.pool.query<{ id: string; n: number }>(
      `select data->'deadline'->>'id' as id, count(*)::int as n from events
        where tenant_id = $1 and type = 'deadline.breached' group by 1`,
      [tenant.tenantId],
    );
    expect(events).toHaveLength(COMPLAINTS);
    expect(events.filter((row) => row.n !== 1)).toEqual([]);
    const { rows: escalations } = await t.database.pool.query<{ complaint_id: string; n: number }>(
      `select complaint_id, count(*)::int as n from escalations
        where tenant_id = $1 and trigger = 'breach' group by 1`,
      [tenant.tenantId],
    );
    expect(escalations).toHaveLength(complaints.length);
    expect(escalations.filter((row) => row.n !== 1)).toEqual([]);

    // The worker rode it out on the promoted replica.
    expect(worker.child.exitCode).toBeNull();
    console.log(
      `failover: master on port ${port} killed ${killedAt - firstDue} ms after the first due time; worst breach lag ${worst.toFixed(2)} s`,
    );
  }, 90_000);
});
