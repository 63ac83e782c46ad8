import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../src/db/client.js';
import { serverSettingWarnings } from '../src/db/server-settings.js';
import { createDeadlinesRepository } from '../src/modules/deadlines/deadlines.repository.js';
import { createReportCounts } from '../src/modules/reports/report-counts.js';
import {
  call,
  complaintBody,
  createTestTenant,
  startTestApp,
  type TestApp,
  type TestTenant,
} from './harness.js';
import { testRedisEnv } from './redis-keys.js';
import { startTcpProxy } from './tcp-proxy.js';
import { citusWorkerUrls } from './test-database.js';
import { eventually } from './worker-process.js';

const run = promisify(execFile);

let t: TestApp;
let tenant: TestTenant;

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTestTenant(t.tenancy);
});
afterAll(() => t.close());

describe('health', () => {
  it('answers /healthz and /readyz without a key', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'ready',
      checks: { postgres: { status: 'up' }, redis: { status: 'up' } },
    });
  });

  it('answers 503 from /readyz while Redis is unreachable, and the API keeps working', async () => {
    const degraded = await startTestApp({ REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const ready = await degraded.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({
        status: 'not_ready',
        checks: { redis: { status: 'down' }, postgres: { status: 'up' } },
      });
      const owner = await createTestTenant(degraded.tenancy);
      const created = await call(degraded.app, owner.adminKey, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody(),
      });
      expect(created.statusCode).toBe(201);
      // Metrics still answer, in bounded time, and say which source is down.
      const started = Date.now();
      const metrics = await degraded.app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(metrics.body).toContain('redress_metrics_source_up{source="redis"} 0');
      expect(metrics.body).toContain('redress_metrics_source_up{source="postgres"} 1');
    } finally {
      await degraded.close();
    }
  });

  it('answers 503 from /readyz while PostgreSQL is unreachable', async () => {
    const degraded = await startTestApp({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' });
    try {
      const ready = await degraded.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks.postgres.status).toBe('down');
    } finally {
      await degraded.close();
    }
  });
});

describe('database sessions', () => {
  it('run without JIT compilation, which costs the reports more than it saves', async () => {
    const { rows } = await t.database.pool.query(`select current_setting('jit') as jit`);
    expect(rows[0].jit).toBe('off');
  });

  it('fail the query under way when the connection drops, and the process carries on', async () => {
    const proxy = await startTcpProxy(t.env.DATABASE_URL);
    const database = createDatabase({
      url: proxy.through(t.env.DATABASE_URL),
      poolMax: 2,
      applicationName: 'redress-test',
    });
    try {
      // In a transaction, as most writes run: the client is checked out of the pool meanwhile.
      const sleeping = database.db.transaction((tx) => tx.execute(sql`select pg_sleep(10)`));
      sleeping.catch(() => {});
      // Cut while PostgreSQL is running the query, not before it arrived.
      await eventually(async () => {
        const { rowCount } = await t.database.pool.query(
          `select 1 from pg_stat_activity where query = 'select pg_sleep(10)' and state = 'active'`,
        );
        return (rowCount ?? 0) > 0;
      });
      // Before, the client in use emitted 'error' with nobody listening: an uncaught exception.
      await proxy.cut();
      await expect(sleeping).rejects.toThrow();
      await proxy.restore();
      const again = await database.pool.query('select 1 as one');
      expect(again.rows).toEqual([{ one: 1 }]);
    } finally {
      await database.close();
      await proxy.close();
    }
  });

  it('still take the settings an operator gives in PGOPTIONS, which win over ours', async () => {
    const saved = process.env.PGOPTIONS;
    process.env.PGOPTIONS = '-c jit=on -c client_connection_check_interval=250';
    const database = createDatabase({ url: t.env.DATABASE_URL, poolMax: 1, applicationName: 'redress-test' });
    try {
      const { rows } = await database.pool.query(
        `select current_setting('jit') as jit, current_setting('client_connection_check_interval') as interval`,
      );
      expect(rows[0]).toEqual({ jit: 'on', interval: '250ms' });
    } finally {
      if (saved === undefined) delete process.env.PGOPTIONS;
      else process.env.PGOPTIONS = saved;
      await database.close();
    }
  });
});

describe('cross-cutting HTTP behaviour', () => {
  it('answers unknown routes with a problem document', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'route_not_found', status: 404 });
  });

  it('answers a method an endpoint does not serve with 405 and the Allow list, whoever asks', async () => {
    const collection = await t.app.inject({ method: 'PUT', url: '/v1/complaints?limit=5' });
    expect(collection.statusCode).toBe(405);
    expect(collection.headers['content-type']).toContain('application/problem+json');
    expect(collection.headers.allow).toBe('GET, HEAD, POST');
    expect(collection.json()).toMatchObject({
      code: 'method_not_allowed',
      status: 405,
      allowedMethods: ['GET', 'HEAD', 'POST'],
      detail: '/v1/complaints answers GET, HEAD, POST, not PUT.',
    });
    // A path parameter matches any id: the answer is about the endpoint, never about whether a
    // complaint exists, so it is the same with or without a key.
    const anyId = randomUUID();
    for (const headers of [{}, { authorization: `Bearer ${tenant.adminKey}` }]) {
      const item = await t.app.inject({ method: 'DELETE', url: `/v1/complaints/${anyId}`, headers });
      expect(item.statusCode).toBe(405);
      expect(item.headers.allow).toBe('GET, HEAD, PATCH');
    }
    const unknown = await t.app.inject({ method: 'DELETE', url: '/v1/nothing-here' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers.allow).toBeUndefined();
  });

  it('answers a path the router cannot take apart with a problem document', async () => {
    for (const url of ['/v1/complaints/%ff', `/v1/complaints/${'a'.repeat(201)}`]) {
      const res = await call(t.app, tenant.adminKey, { method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
      expect(res.headers['content-type'], url).toContain('application/problem+json');
      expect(res.headers['x-request-id'], url).toBeTruthy();
      expect(res.json(), url).toMatchObject({
        code: 'validation_failed',
        requestId: res.headers['x-request-id'],
        errors: [{ field: 'path' }],
      });
    }
  });

  it('tells browsers not to sniff any answer as another content type', async () => {
    for (const url of ['/healthz', '/v1/complaints', '/v1/nowhere', '/docs/json']) {
      const res = await call(t.app, tenant.adminKey, { method: 'GET', url });
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
    }
  });

  it('keeps a sane caller X-Request-Id and makes one up otherwise', async () => {
    const kept = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'crm-req-123' },
    });
    expect(kept.headers['x-request-id']).toBe('crm-req-123');
    const replaced = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'bad id\twith spaces' },
    });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('limits each API key and answers 429 with Retry-After', async () => {
    const limited = await startTestApp({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_SECONDS: '60' });
    try {
      const owner = await createTestTenant(limited.tenancy);
      const second = await owner.keyWith('complaints:read');
      const statuses = [];
      for (let i = 0; i < 4; i += 1) {
        statuses.push(
          (await call(limited.app, owner.adminKey, { method: 'GET', url: '/v1/complaints' })).statusCode,
        );
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      const refused = await call(limited.app, owner.adminKey, { method: 'GET', url: '/v1/complaints' });
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect(refused.json()).toMatchObject({ code: 'rate_limited', status: 429 });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      // Another key has its own budget.
      expect((await call(limited.app, second, { method: 'GET', url: '/v1/complaints' })).statusCode).toBe(
        200,
      );
    } finally {
      await limited.close();
    }
  });

  it('counts concurrent requests exactly, across API processes sharing one budget', async () => {
    // Two apps stand for two API processes; requests arriving together are counted in one
    // pipelined write per process, and each still gets its own count.
    const first = await startTestApp({ RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_SECONDS: '60' });
    const second = await startTestApp({ RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_SECONDS: '60' });
    try {
      const owner = await createTestTenant(first.tenancy);
      const responses = await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          call(index % 2 === 0 ? first.app : second.app, owner.adminKey, {
            method: 'GET',
            url: '/v1/complaints',
          }),
        ),
      );
      const passed = responses.filter((response) => response.statusCode === 200);
      const refused = responses.filter((response) => response.statusCode === 429);
      expect(passed).toHaveLength(5);
      expect(refused).toHaveLength(7);
      expect(passed.map((response) => Number(response.headers['x-ratelimit-remaining'])).sort()).toEqual([
        0, 1, 2, 3, 4,
      ]);
      for (const response of refused) expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      // Counted under the deployment's REDIS_PREFIX, where the limit's own key lives.
      const { callerId: apiKeyId } = await first.tenancy.authenticate(`Bearer ${owner.adminKey}`);
      expect(await first.redis.get(`${first.env.REDIS_PREFIX}:rate-limit:${apiKeyId}`)).toBe('12');
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('serves the OpenAPI document and interactive docs', async () => {
    const docs = await t.app.inject({ method: 'GET', url: '/docs/json' });
    expect(docs.statusCode).toBe(200);
    const document = docs.json();
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/v1/complaints',
        '/v1/complaints/{id}',
        '/v1/complaints/{id}/timeline',
        '/v1/api-keys',
      ]),
    );
    expect((await t.app.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
  });
});

describe('admin CLI', () => {
  const cli = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      env: {
        ...process.env,
        DATABASE_URL: t.env.DATABASE_URL,
        ...testRedisEnv(),
        LOG_LEVEL: 'silent',
      },
    });

  it('creates a tenant with an admin key, then creates and revokes keys', async () => {
    const created = await cli('tenant', 'create', '--name', 'Acme CLI');
    const lines = created.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const tenantOut = JSON.parse(lines[0]!);
    expect(tenantOut).toMatchObject({
      id: expect.any(String),
      name: 'Acme CLI',
      apiKey: expect.stringMatching(/^rdk_/),
    });
    expect((await call(t.app, tenantOut.apiKey, { method: 'GET', url: '/v1/api-keys' })).statusCode).toBe(
      200,
    );

    const key = JSON.parse(
      (
        await cli(
          'apikey',
          'create',
          '--tenant',
          tenantOut.id,
          '--name',
          'crm',
          '--scopes',
          'complaints:read',
        )
      ).stdout,
    );
    expect(key.scopes).toEqual(['complaints:read']);
    expect((await call(t.app, key.apiKey, { method: 'GET', url: '/v1/complaints' })).statusCode).toBe(200);
    expect((await call(t.app, key.apiKey, { method: 'GET', url: '/v1/api-keys' })).statusCode).toBe(403);

    await cli('apikey', 'revoke', '--id', key.id);
    expect((await call(t.app, key.apiKey, { method: 'GET', url: '/v1/complaints' })).statusCode).toBe(401);
  });

  it('makes the Demo tenant once and shows its key again, as often as asked', async () => {
    const demoTenants = async () =>
      (await t.database.pool.query(`select id from tenants where name = 'Demo'`)).rows.length;
    const noKey = { code: 1, stderr: expect.stringContaining('"code":"not_found"') };
    await expect(cli('demo', '--show')).rejects.toMatchObject(noKey);
    expect(await demoTenants()).toBe(0);

    // Two migrate containers started together both run `demo`: one tenant, one key.
    const [first, second] = (await Promise.all([cli('demo'), cli('demo')])).map((out) =>
      JSON.parse(out.stdout),
    );
    expect(await demoTenants()).toBe(1);
    expect([first.created, second.created].sort()).toEqual([false, true]);
    expect(second.apiKey).toBe(first.apiKey);
    expect(first).toMatchObject({ name: 'Demo', apiKey: expect.stringMatching(/^rdk_/) });
    const shown = JSON.parse((await cli('demo', '--show')).stdout);
    expect(shown).toEqual({ ...first, created: false });
    expect((await call(t.app, shown.apiKey, { method: 'GET', url: '/v1/api-keys' })).statusCode).toBe(200);

    // A revoked Demo key is not shown; `demo` replaces it and shows the new one from then on.
    await cli('apikey', 'revoke', '--id', first.apiKeyId);
    await expect(cli('demo', '--show')).rejects.toMatchObject(noKey);
    const renewed = JSON.parse((await cli('demo')).stdout);
    expect(renewed).toMatchObject({ id: first.id, created: false });
    expect(renewed.apiKey).not.toBe(first.apiKey);
    expect(JSON.parse((await cli('demo', '--show')).stdout).apiKey).toBe(renewed.apiKey);
    expect((await call(t.app, renewed.apiKey, { method: 'GET', url: '/v1/api-keys' })).statusCode).toBe(200);
    expect(await demoTenants()).toBe(1);
    // Eight runs of the CLI, each a Node process of its own: about 18 s on a quiet 2-core machine.
  }, 60_000);

  it('distributes a database only over Citus, and says so on plain PostgreSQL, changing nothing', async () => {
    const before = await t.database.pool.query(
      'select count(*)::int as tables from pg_tables where schemaname = current_schema()',
    );
    if (citusWorkerUrls().length > 0) {
      // On Citus the test database was distributed as it was made: a second run finds every
      // table placed already and leaves it so.
      const { stdout } = await cli('db', 'distribute');
      expect(JSON.parse(stdout)).toEqual({
        reference: [],
        distributed: [],
        unchanged: expect.arrayContaining(['tenants', 'complaints', 'events']),
      });
    } else {
      await expect(cli('db', 'distribute')).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining('"code":"citus_missing"'),
      });
    }
    const after = await t.database.pool.query(
      'select count(*)::int as tables from pg_tables where schemaname = current_schema()',
    );
    expect(after.rows).toEqual(before.rows);
  });

  it('explains bad usage and exits non-zero', async () => {
    await expect(
      cli('apikey', 'create', '--tenant', tenant.tenantId, '--name', 'x', '--scopes', 'root'),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("unknown scope 'root'"),
    });
    await expect(cli('tenant', 'create')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--name'),
    });
  });

  it('migrates, and says so when the server has autovacuum or track_counts off', async () => {
    const { rows } = await t.database.pool.query<{ name: string; setting: string }>(
      "select name, setting from pg_settings where name in ('autovacuum', 'track_counts') and setting <> 'on'",
    );
    const out = JSON.parse((await cli('migrate')).stdout);
    if (rows.length === 0) expect(out).toEqual({ migrated: true });
    else {
      expect(out.migrated).toBe(true);
      expect(out.warnings).toHaveLength(rows.length);
      for (const { name } of rows) expect(out.warnings.join('\n')).toContain(`PostgreSQL has ${name} off`);
    }
  });

  it('warns of each required setting that is off, and of nothing that is on', async () => {
    const client = await t.database.pool.connect();
    try {
      const autovacuumOff = (await client.query('show autovacuum')).rows[0].autovacuum !== 'on';
      await client.query('set track_counts = on');
      const withCounts = await serverSettingWarnings(client);
      expect(withCounts.some((warning) => warning.includes('track_counts'))).toBe(false);
      expect(withCounts.some((warning) => warning.includes('autovacuum off'))).toBe(autovacuumOff);
      await client.query('set track_counts = off');
      expect(await serverSettingWarnings(client)).toEqual([
        ...withCounts,
        expect.stringMatching(/^PostgreSQL has track_counts off: .+ Turn it on\.$/),
      ]);
    } finally {
      await client.query('reset track_counts').catch(() => {});
      client.release();
    }
  });

  it('recounts the kept report counts of a tenant, or of all, from the deadlines', async () => {
    const own = await createTestTenant(t.tenancy);
    const res = await call(t.app, own.adminKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody({ channel: 'phone' }),
    });
    expect(res.statusCode, res.body).toBe(201);
    await createReportCounts(t.database.db).fold();
    const pending = sql`select coalesce(sum(pending), 0)::int as pending from report_deadline_days
      where tenant_id = ${own.tenantId}::uuid and dimension = 'none'`;
    const [before] = (await t.database.db.execute<{ pending: number }>(pending)).rows;
    expect(before!.pending).toBeGreaterThan(0);
    await t.database.db.execute(sql`update report_deadline_days set pending = pending + 5
      where tenant_id = ${own.tenantId}::uuid and dimension = 'none'`);

    const recounted = JSON.parse((await cli('reports', 'recount', '--tenant', own.tenantId)).stdout);
    expect(recounted).toEqual({ recounted: own.tenantId, groupsCorrected: expect.any(Number) });
    expect(recounted.groupsCorrected).toBeGreaterThan(0);
    expect((await t.database.db.execute<{ pending: number }>(pending)).rows[0]).toEqual(before);
    expect(JSON.parse((await cli('reports', 'recount')).stdout)).toEqual({
      recounted: 'all',
      groupsCorrected: 0,
    });
  });

  it('names a tenant that does not exist in one line, and refuses a --tenant that is no UUID', async () => {
    const unknown = '7d3c1a56-0f5e-4c1e-9a51-6b0d3c2e9f10';
    const [notUuid, missing] = await Promise.allSettled([
      cli('apikey', 'create', '--tenant', 'nope', '--name', 'x', '--scopes', 'admin'),
      cli('apikey', 'create', '--tenant', unknown, '--name', 'x', '--scopes', 'admin'),
    ]);
    expect(notUuid).toMatchObject({
      status: 'rejected',
      reason: {
        code: 2,
        stderr: expect.stringContaining("--tenant must be a tenant id (a UUID), not 'nope'"),
      },
    });
    expect(missing).toMatchObject({ status: 'rejected', reason: { code: 1, stdout: '' } });
    const stderr = (missing as PromiseRejectedResult).reason.stderr as string;
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(stderr)).toEqual({ error: `Tenant '${unknown}' not found.`, code: 'not_found' });
    for (const output of [stderr, (notUuid as PromiseRejectedResult).reason.stderr as string]) {
      expect(output).not.toMatch(/unexpected|Failed query|params:|\n\s+at /);
    }
  });

  it('bounds tenant names to 1–200 characters and key names to 1–100', async () => {
    const longest = `Acme ${'x'.repeat(195)}`;
    const [tooLong, longestOk, keyTooLong] = await Promise.allSettled([
      cli('tenant', 'create', '--name', `${longest}y`),
      cli('tenant', 'create', '--name', longest),
      cli('apikey', 'create', '--tenant', tenant.tenantId, '--name', 'k'.repeat(101), '--scopes', 'admin'),
    ]);
    expect(tooLong).toMatchObject({
      status: 'rejected',
      reason: { code: 2, stderr: expect.stringContaining('--name must be at most 200 characters') },
    });
    expect(keyTooLong).toMatchObject({
      status: 'rejected',
      reason: { code: 2, stderr: expect.stringContaining('--name must be at most 100 characters') },
    });
    expect(longestOk.status).toBe('fulfilled');
    const created = JSON.parse((longestOk as PromiseFulfilledResult<{ stdout: string }>).value.stdout);
    expect(created.name).toBe(longest);
    const { rows } = await t.database.pool.query('select name from tenants where starts_with(name, $1)', [
      longest,
    ]);
    expect(rows).toEqual([{ name: longest }]);
  });
});

describe('start-up configuration', () => {
  it('refuses to start with a missing or bad variable, naming it', async () => {
    const { DATABASE_URL: _d, REDIS_URL: _r, ...rest } = process.env;
    await expect(
      run('npx', ['tsx', 'src/main.ts'], {
        env: { ...rest, REDIS_URL: 'redis://127.0.0.1:6379', PORT: 'eighty' },
      }),
    ).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/DATABASE_URL[\s\S]*PORT|PORT[\s\S]*DATABASE_URL/),
    });
  });
});

describe('metrics', () => {
  it('serves Prometheus metrics with deadline counts and queue depths, behind the metrics token when set', async () => {
    const guarded = await startTestApp({ METRICS_TOKEN: 'metrics-token-0123456789' });
    try {
      expect((await guarded.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      const wrong = await guarded.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: 'Bearer metrics-token-012345678X' },
      });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.headers['content-type']).toContain('application/problem+json');
      expect(wrong.json().code).toBe('unauthenticated');
      const res = await guarded.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: 'Bearer metrics-token-0123456789' },
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/plain');
      // The contract names the type the endpoint answers with, not JSON.
      const documented = (
        guarded.app.swagger() as {
          paths: Record<string, { get: { responses: Record<string, { content: object }> } }>;
        }
      ).paths['/metrics']!.get.responses['200']!.content;
      expect(Object.keys(documented)).toEqual([res.headers['content-type']]);
      expect(res.body).toMatch(/redress_deadlines\{status="pending"\} \d+/);
      expect(res.body).toMatch(/redress_queue_jobs\{queue="deadlines",state="delayed"\} \d+/);
    } finally {
      await guarded.close();
    }
  });

  it("keeps each tenant's breach count equal to its breached deadlines, through every change and fold", async () => {
    const own = await createTestTenant(t.tenancy);
    const created = await call(t.app, own.adminKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(),
    });
    expect(created.statusCode).toBe(201);
    const { pool } = t.database;
    const deadlines = createDeadlinesRepository(t.database.db);
    const ids = (
      await pool.query<{ id: string }>('select id from deadlines where tenant_id = $1 order by id', [
        own.tenantId,
      ])
    ).rows.map((row) => row.id);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    /** The tenant's breached deadlines, as counted and as kept (folded counts plus changes since). */
    const counts = async () =>
      (
        await pool.query<{ breached: number; kept: number; unfolded: number }>(
          `select (select count(*) from deadlines where tenant_id = $1 and status = 'breached')::int as breached,
             (coalesce((select breached from deadline_breach_counts where tenant_id = $1), 0)
               + coalesce((select sum(change) from deadline_breach_changes where tenant_id = $1), 0))::int as kept,
             (select count(*) from deadline_breach_changes where tenant_id = $1)::int as unfolded`,
          [own.tenantId],
        )
      ).rows[0]!;
    const copyBreached = `insert into deadlines (id, tenant_id, complaint_id, kind, status, starts_at, due_at, clock,
        duration_ms, policy_id, policy_version, breached_at)
      select gen_random_uuid(), tenant_id, complaint_id, kind, 'breached', starts_at, due_at, clock, duration_ms,
        policy_id, policy_version, due_at from deadlines where id = $1`;

    await pool.query(`update deadlines set status = 'breached', breached_at = due_at where id = any($1)`, [
      ids.slice(0, 2),
    ]);
    // A change that leaves the status alone writes nothing to the counts.
    await pool.query('update deadlines set warnings_fired = warnings_fired + 1 where id = $1', [ids[0]]);
    expect(await counts()).toEqual({ breached: 2, kept: 2, unfolded: 2 });
    await deadlines.foldBreachCounts();
    expect(await counts()).toEqual({ breached: 2, kept: 2, unfolded: 0 });

    // Met late, copied in (also by a bulk copy that skips ordinary triggers), deleted.
    await pool.query(`update deadlines set status = 'met', met_at = now() where id = $1`, [ids[0]]);
    await pool.query(copyBreached, [ids[1]]);
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query('set local session_replication_role = replica');
      await client.query(copyBreached, [ids[1]]);
      await client.query('commit');
    } finally {
      client.release();
    }
    await pool.query('delete from deadlines where id = $1', [ids[1]]);
    expect(await counts()).toEqual({ breached: 2, kept: 2, unfolded: 4 });
    await deadlines.foldBreachCounts();
    expect(await counts()).toEqual({ breached: 2, kept: 2, unfolded: 0 });
    expect((await deadlines.countByStatus()).breached).toBeGreaterThanOrEqual(2);
  });
});
