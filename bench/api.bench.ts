/**
 * API scenario: complaint create and get-by-id through the real API, side by side with a bare
 * Fastify hello-world and PostgreSQL doing the same inserts directly, all in one run.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import pg from 'pg';
import { createDatabase } from '../src/db/client.js';
import { systemClock } from '../src/lib/clock.js';
import { createServices } from '../src/services.js';
import {
  benchResources,
  freePort,
  type LoadResult,
  load,
  percentile,
  redisUrl,
  startChild,
  table,
  verdict,
} from './lib.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

const complaintJson = JSON.stringify({
  channel: 'web',
  category: 'billing',
  subject: 'Charged twice for the November bill',
  description: 'My card was charged twice on 3 November for the same invoice. Please refund one payment.',
  customer: { name: 'Wang Fang', phone: '+86 138 0013 8000', email: 'wang.fang@example.com' },
  desiredOutcome: 'Refund the duplicate charge',
  tags: ['billing'],
  metadata: { accountNumber: '6222-0000-1234' },
});

/** The writes one API create makes (complaint, its deadlines, timeline, event), issued directly. */
async function rawPostgresInserts(
  databaseUrl: string,
  tenantId: string,
  policyId: string,
): Promise<LoadResult> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: CONNECTIONS });
  const sequence = `complaint_reference_${tenantId.replaceAll('-', '')}`;
  const latencies: number[] = [];
  let errors = 0;
  const insertOnce = async () => {
    const client = await pool.connect();
    const started = performance.now();
    try {
      await client.query('begin');
      const { rows } = await client.query(
        `insert into complaints (id, tenant_id, reference, channel, category, subject, description, customer_name,
           customer_phone, customer_email, desired_outcome, received_at, received_by, assignee, tags, metadata, event_sequence)
         values (gen_random_uuid(), $1, 'C-' || lpad(nextval($2::regclass)::text, 6, '0'), 'web', 'billing', $3, $4, 'Wang Fang',
           '+86 138 0013 8000', 'wang.fang@example.com', 'Refund', now(), 'bench', 'bench', '{billing}', '{}'::jsonb, 1)
         returning id`,
        [
          tenantId,
          sequence,
          'Charged twice for the November bill',
          'My card was charged twice on 3 November.',
        ],
      );
      const complaintId = rows[0].id;
      await client.query(
        `insert into deadlines (id, tenant_id, complaint_id, kind, starts_at, due_at, warn_ats, warn_fractions, clock,
           target_duration, duration_ms, policy_id, policy_version)
         select gen_random_uuid(), $1, $2, k.kind::deadline_kind, now(), now() + k.span, array[now() + k.span * 0.75],
           array[0.75]::real[], 'calendar', 'PT4H', 14400000, $3, 1
         from (values ('first_contact', interval '24 hours'), ('online_reply', interval '4 hours'),
                      ('resolution', interval '5 days')) as k(kind, span)`,
        [tenantId, complaintId, policyId],
      );
      await client.query(
        `insert into complaint_timeline (tenant_id, complaint_id, type, actor, data)
         values ($1, $2, 'complaint.created', '{"type":"api_key","id":null,"name":"bench","onBehalfOf":null}', '{}'::jsonb)`,
        [tenantId, complaintId],
      );
      await client.query(
        `insert into events (id, tenant_id, type, complaint_id, sequence, data)
         values ('evt_' || md5(random()::text), $1, 'complaint.created', $2, 1, '{}'::jsonb)`,
        [tenantId, complaintId],
      );
      await client.query('commit');
      latencies.push(performance.now() - started);
    } catch {
      errors += 1;
      await client.query('rollback').catch(() => {});
    } finally {
      client.release();
    }
  };
  const runFor = async (seconds: number) => {
    const until = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (Date.now() < until) await insertOnce();
      }),
    );
  };
  await runFor(3);
  latencies.length = 0;
  const started = Date.now();
  await runFor(DURATION);
  const elapsed = (Date.now() - started) / 1000;
  await pool.end();
  latencies.sort((a, b) => a - b);
  return {
    name: 'raw PostgreSQL inserts',
    requestsPerSecond: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
    total: latencies.length,
  };
}

export async function runApiBenchmark(): Promise<void> {
  const resources = await benchResources('api');
  const database = createDatabase({ url: resources.databaseUrl, poolMax: 4, applicationName: 'bench' });
  const children: Array<{ stop(): Promise<void> }> = [];
  try {
    const services = createServices({ db: database.db, clock: systemClock, scheduler: null });
    const { tenant, plaintextKey } = await services.tenancy.createTenant('Bench');
    const [policy] = await services.policies.list(tenant.id);

    const apiPort = await freePort();
    const api = await startChild(
      'src/main.ts',
      {
        DATABASE_URL: resources.databaseUrl,
        REDIS_URL: redisUrl,
        REDIS_PREFIX: resources.redisPrefix,
        PORT: String(apiPort),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        NODE_ENV: 'production',
        DOCS_ENABLED: 'false',
        RATE_LIMIT_MAX: '1000000000',
        DATABASE_POOL_MAX: '20',
      },
      () => false,
      async () => (await fetch(`http://127.0.0.1:${apiPort}/readyz`)).ok,
    );
    children.push(api);
    const helloPort = await freePort();
    const hello = await startChild('bench/hello-server.ts', { PORT: String(helloPort) }, (line) =>
      line.includes('hello server listening'),
    );
    children.push(hello);

    const base = { connections: CONNECTIONS, duration: DURATION, pipelining: 1 };
    const auth = { authorization: `Bearer ${plaintextKey}`, 'content-type': 'application/json' };
    console.log(`api scenario: ${CONNECTIONS} connections, ${DURATION} s per measurement`);

    const helloResult = await load('fastify hello-world', { ...base, url: `http://127.0.0.1:${helloPort}/` });
    const createResult = await load('POST /v1/complaints', {
      ...base,
      url: `http://127.0.0.1:${apiPort}/v1/complaints`,
      method: 'POST',
      headers: auth,
      body: complaintJson,
    });
    // Static request objects that autocannon cycles through: a per-request setup callback would
    // make the load generator, not the API, the bottleneck.
    const { rows } = await database.pool.query('select id from complaints order by random() limit 1000');
    const getResult = await load('GET /v1/complaints/{id}', {
      ...base,
      url: `http://127.0.0.1:${apiPort}`,
      headers: { authorization: auth.authorization },
      requests: rows.map((row) => ({ method: 'GET' as const, path: `/v1/complaints/${row.id}` })),
    });
    for (const child of children.splice(0)) await child.stop();
    const rawResult = await rawPostgresInserts(resources.databaseUrl, tenant.id, policy!.id);

    const results = [helloResult, createResult, getResult, rawResult];
    console.log(
      `\n${table(
        results.map((r) => ({
          scenario: r.name,
          'req/s': r.requestsPerSecond,
          'p50 ms': r.p50,
          'p99 ms': r.p99,
          errors: r.errors,
          total: r.total,
        })),
      )}`,
    );
    const ratios = {
      'create / hello': createResult.requestsPerSecond / helloResult.requestsPerSecond,
      'get / hello': getResult.requestsPerSecond / helloResult.requestsPerSecond,
      'create / raw-postgres': createResult.requestsPerSecond / rawResult.requestsPerSecond,
    };
    console.log(`\n${table(Object.entries(ratios).map(([ratio, value]) => ({ ratio, value })))}`);
    console.log(
      `\ntargets: create ≥ 1,500/s ${verdict(createResult.requestsPerSecond >= 1500)}, ` +
        `create p99 ≤ 50 ms ${verdict(createResult.p99 <= 50)}, get ≥ 5,000/s ${verdict(getResult.requestsPerSecond >= 5000)}, ` +
        `no errors ${verdict(createResult.errors + getResult.errors === 0)}`,
    );
    await mkdir('bench/results', { recursive: true });
    await writeFile(
      `bench/results/api-${new Date().toISOString().replaceAll(':', '-')}.json`,
      JSON.stringify({ connections: CONNECTIONS, durationSeconds: DURATION, results, ratios }, null, 2),
    );
  } finally {
    for (const child of children) await child.stop();
    await database.close();
    await resources.cleanup();
  }
}
