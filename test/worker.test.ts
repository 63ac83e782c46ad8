import net, { type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createQueue } from '../src/jobs/queues.js';
import type { DeadlineView } from '../src/modules/deadlines/deadline-views.js';
import {
  call,
  complaintBody,
  createTestTenant,
  startTestApp,
  type TestApp,
  type TestTenant,
} from './harness.js';
import { createIsolatedDatabase, type IsolatedDatabase } from './isolated-database.js';
import { deleteKeysUnder } from './redis-keys.js';
import { eventually, startWorkerProcess, type WorkerProcess } from './worker-process.js';

/**
 * The worker process as production runs it: its /metrics endpoint after a real breach.
 * The file has its own database and Redis prefix, so no other file's worker records (or sweeps)
 * its deadlines: every breach here is this file's worker's.
 */
let database: IsolatedDatabase;
let redisPrefix: string;
let t: TestApp;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  database = await createIsolatedDatabase('worker');
  redisPrefix = `${inject('redisPrefix')}:worker`;
  t = await startTestApp({ DATABASE_URL: database.url, REDIS_PREFIX: redisPrefix });
});
afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.stop();
});
afterAll(async () => {
  await t?.close();
  await database?.drop();
  if (redisPrefix) await deleteKeysUnder(inject('redisUrl'), redisPrefix);
});

async function startWorker(env: Record<string, string> = {}): Promise<WorkerProcess> {
  const worker = await startWorkerProcess({
    DATABASE_URL: database.url,
    REDIS_URL: t.env.REDIS_URL,
    REDIS_PREFIX: redisPrefix,
    SLA_RECONCILE_INTERVAL: '1',
    WORKER_CONCURRENCY: '10',
    HOST: '127.0.0.1',
    ...env,
  });
  workers.push(worker);
  return worker;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A tenant whose web complaints in category `fast` run on a policy with this online reply target. */
async function tenantWithReplyIn(duration: string, warnAt: number[]) {
  const tenant = await createTestTenant(t.tenancy);
  const policy = await call(t.app, tenant.adminKey, {
    method: 'POST',
    url: '/v1/sla-policies',
    json: {
      name: 'Fast lane',
      priority: 1,
      match: { categories: ['fast'] },
      warnAt,
      targets: { onlineReply: { duration, clock: 'calendar' } },
    },
  });
  expect(policy.statusCode, policy.body).toBe(201);
  return tenant;
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

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Samples of the Prometheus text exposition format. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) throw new Error(`not a sample: ${line}`);
    const labels = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

function sample(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find(
    (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  )?.value;
}

describe("the worker's /metrics", () => {
  it('counts a breach in the detection-lag histogram, with deadlines by status and queue depths', async () => {
    const port = await freePort();
    const worker = await startWorker({ WORKER_METRICS_PORT: String(port) });
    const tenant = await tenantWithReplyIn('PT1S', [0.5]);
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

    // Queue depths, as BullMQ counts them: the other deadlines' jobs, the maintenance schedule.
    const maintenance = createQueue('maintenance', t.deadlineQueue.connection, redisPrefix);
    try {
      const queues = {
        deadlines: await t.deadlineQueue.queue.getJobCounts('wait', 'delayed', 'active', 'failed'),
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
    }
    expect(sample(samples, 'redress_metrics_source_up', { source: 'postgres' })).toBe(1);
    expect(sample(samples, 'redress_metrics_source_up', { source: 'redis' })).toBe(1);
    await worker.stop();
  });
});
