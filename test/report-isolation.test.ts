import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGraphql } from './graphql-client.js';
import {
  call,
  complaintBody,
  createTestTenant,
  startTestApp,
  type TestApp,
  type TestTenant,
  testEnv,
} from './harness.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { citusWorkerUrls } from './test-database.js';

/**
 * Reports run on a pool of their own, cut off by a statement timeout, and on a read replica when
 * one is given (DATABASE_READ_URL): however many reports run and however long, intake keeps its
 * connections. A lock on report_follow_up_days, which the SLA compliance report reads and intake
 * does not (it writes the change rows), holds reports open for as long as the test wants, as a
 * report over years of history would.
 */
const REPORTS_POOL_MAX = 2;
const TIMEOUT_MS = 3_000;
let t: TestApp;
let tenant: TestTenant;
let readReplica: TcpProxy;

beforeAll(async () => {
  const databaseUrl = testEnv().DATABASE_URL;
  readReplica = await startTcpProxy(databaseUrl);
  t = await startTestApp({
    // A main pool no bigger than the reports in flight below: had reports shared it, they would
    // hold every connection and intake would wait for them.
    DATABASE_POOL_MAX: '4',
    REPORTS_POOL_MAX: String(REPORTS_POOL_MAX),
    REPORTS_STATEMENT_TIMEOUT_MS: String(TIMEOUT_MS),
    // The same server through a proxy stands in for a replica: what goes through it is counted.
    DATABASE_READ_URL: readReplica.through(databaseUrl),
  });
  tenant = await createTestTenant(t.tenancy);
});
afterAll(async () => {
  await t?.close();
  await readReplica?.close();
});

const compliance = () =>
  call(t.app, tenant.adminKey, {
    method: 'GET',
    url: '/v1/reports/sla-compliance?from=2026-01-01&to=2026-12-31',
  });

describe('reports', () => {
  it('read through DATABASE_READ_URL, and nothing else does', async () => {
    const before = readReplica.connections;
    const created = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(),
    });
    expect(created.statusCode).toBe(201);
    expect(readReplica.connections).toBe(before);
    expect((await compliance()).statusCode).toBe(200);
    expect(readReplica.connections).toBeGreaterThan(before);
    expect(readReplica.connections).toBeLessThanOrEqual(REPORTS_POOL_MAX);
  });

  it('held open cannot slow intake, and are cut off at their timeout with a problem document', async () => {
    const release = await lockReportFollowUpDays();
    try {
      // Four times as many reports as the main pool has connections, all stuck behind the lock.
      let reportsSettled = 0;
      const reports = Array.from({ length: 16 }, () =>
        compliance().finally(() => {
          reportsSettled += 1;
        }),
      );

      const latencies: number[] = [];
      for (let i = 0; i < 20; i += 1) {
        const started = performance.now();
        const res = await call(t.app, tenant.adminKey, {
          method: 'POST',
          url: '/v1/complaints',
          json: complaintBody(),
        });
        latencies.push(performance.now() - started);
        expect(res.statusCode, res.body).toBe(201);
      }
      // Every create came back while every report was still waiting, and none waited for them.
      expect(reportsSettled).toBe(0);
      expect(Math.max(...latencies)).toBeLessThan(TIMEOUT_MS / 2);

      const overGraphql = await postGraphql(
        t.app,
        tenant.adminKey,
        '{ slaCompliance(from: "2026-01-01", to: "2026-12-31") { from } }',
      );
      expect(overGraphql.errors[0]!.extensions).toMatchObject({ code: 'report_timed_out', status: 503 });

      const answers = await Promise.all(reports);
      for (const res of answers) {
        expect(res.statusCode, res.body).toBe(503);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.headers['retry-after']).toBe('30');
        expect(res.json()).toMatchObject({ code: 'report_timed_out', status: 503 });
      }
    } finally {
      await release();
    }
    expect((await compliance()).statusCode).toBe(200);
  });
});

/**
 * Locks report_follow_up_days until the returned function is called. On Citus its rows sit in
 * shards on the workers, where reports read them, and a lock taken on the coordinator does not hold
 * those reads: each worker's shards are locked there, in a transaction held open on that worker.
 */
async function lockReportFollowUpDays(): Promise<() => Promise<void>> {
  const databaseUrl = t.env.DATABASE_URL;
  const lockers: Array<{ client: pg.Client; tables: string[] }> = [];
  const workers = citusWorkerUrls();
  if (workers.length === 0) {
    lockers.push({
      client: new pg.Client({ connectionString: databaseUrl }),
      tables: ['report_follow_up_days'],
    });
  } else {
    const coordinator = new pg.Client({ connectionString: databaseUrl });
    await coordinator.connect();
    const { rows: shards } = await coordinator
      .query<{ shard_name: string; nodename: string; nodeport: number }>(
        `select shard_name, nodename, nodeport from citus_shards where table_name = 'report_follow_up_days'::regclass`,
      )
      .finally(() => coordinator.end());
    expect(shards.length).toBeGreaterThan(0);
    const databaseName = new URL(databaseUrl).pathname;
    for (const worker of workers) {
      const url = new URL(worker);
      const tables = shards
        .filter((shard) => shard.nodename === url.hostname && shard.nodeport === Number(url.port || 5432))
        .map((shard) => shard.shard_name);
      url.pathname = databaseName;
      if (tables.length > 0)
        lockers.push({ client: new pg.Client({ connectionString: url.toString() }), tables });
    }
  }
  for (const { client, tables } of lockers) {
    await client.connect();
    await client.query('begin');
    for (const table of tables) await client.query(`lock table ${table} in access exclusive mode`);
  }
  return async () => {
    for (const { client } of lockers) {
      await client.query('rollback');
      await client.end();
    }
  };
}
