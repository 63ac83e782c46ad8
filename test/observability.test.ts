import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { metricFamilies, parseExposition, sample } from './exposition.js';
import { call, complaintBody, createTestTenant, type TestApp, type TestTenant } from './harness.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';
import { testRedisEnv } from './redis-keys.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { eventually, freePort, startWorkerProcess, type WorkerProcess } from './worker-process.js';

/**
 * What an operator scrapes, from the real API and a real worker process: HTTP request metrics by
 * route pattern, build info, the outbox relay's lag, the worker's /healthz and /readyz, promtool's
 * lint of both scrapes, and every metric the shipped dashboard and alert rules use. The file has a
 * database of its own, so its worker relays this file's events only.
 */
let isolated: IsolatedTestApp;
let t: TestApp;
let tenant: TestTenant;
let worker: WorkerProcess;
let workerUrl: string;
/** The worker's way to PostgreSQL, to cut it off. */
let postgresProxy: TcpProxy;
const COMMIT = '0123abcd';
const packageJson = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const apiScrape = async () => (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
const workerScrape = async () => (await fetch(`${workerUrl}/metrics`)).text();

beforeAll(async () => {
  isolated = await startIsolatedTestApp('observability');
  t = isolated.app;
  tenant = await createTestTenant(t.tenancy);
  postgresProxy = await startTcpProxy(isolated.databaseUrl);
});
afterAll(async () => {
  await worker?.stop();
  await postgresProxy?.close();
  await isolated?.close();
});

async function startWorker() {
  const port = await freePort();
  worker = await startWorkerProcess({
    DATABASE_URL: postgresProxy.through(isolated.databaseUrl),
    ...testRedisEnv(),
    REDIS_PREFIX: isolated.redisPrefix,
    HOST: '127.0.0.1',
    WORKER_METRICS_PORT: String(port),
    REDRESS_BUILD_COMMIT: COMMIT,
  });
  workerUrl = `http://127.0.0.1:${port}`;
}

describe("the API's /metrics", () => {
  it('counts each request once under its route pattern, method and status code, never its URL', async () => {
    const count = (text: string, labels: Record<string, string>) =>
      sample(parseExposition(text), 'redress_http_request_duration_seconds_count', labels) ?? 0;
    const missingId = randomUUID();
    const before = await apiScrape();
    const created = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(),
    });
    expect(created.statusCode).toBe(201);
    const missing = await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${missingId}` });
    expect(missing.statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: `/no/such/${missingId}` })).statusCode).toBe(404);
    const after = await apiScrape();

    const post = { method: 'POST', route: '/v1/complaints', status_code: '201' };
    const get = { method: 'GET', route: '/v1/complaints/:id', status_code: '404' };
    const unmatched = { method: 'GET', route: 'unmatched', status_code: '404' };
    expect(count(after, post) - count(before, post)).toBe(1);
    expect(count(after, get) - count(before, get)).toBe(1);
    expect(count(after, unmatched) - count(before, unmatched)).toBe(1);
    expect(
      sample(parseExposition(after), 'redress_http_request_duration_seconds_bucket', { ...get, le: '+Inf' }),
    ).toBe(count(after, get));
    expect(after).not.toContain(missingId);
  });

  it('tells the version from package.json, the Node.js version, and an unknown commit when none is given', async () => {
    const samples = parseExposition(await apiScrape());
    const info = samples.find((s) => s.name === 'redress_build_info');
    expect(info).toEqual({
      name: 'redress_build_info',
      labels: { version: packageJson.version, commit: 'unknown', node_version: process.version },
      value: 1,
    });
  });

  it('shows the events waiting for the outbox relay and how long the oldest has waited', async () => {
    // No worker runs yet on this file's database: what the tenant's writes queued stays queued.
    const { rows } = await t.database.pool.query<{ n: number }>(
      'select count(*)::int as n from event_outbox',
    );
    expect(rows[0]!.n).toBeGreaterThan(0);
    // Gauges read from the stores are read once a second at most, for scrapes close together.
    const samples = await eventually(async () => {
      const scraped = parseExposition(await apiScrape());
      return sample(scraped, 'redress_outbox_events') === rows[0]!.n ? scraped : undefined;
    }, 3_000);
    expect(sample(samples, 'redress_outbox_oldest_age_seconds')).toBeGreaterThan(0);
    expect(sample(samples, 'redress_dependency_up', { dependency: 'postgres' })).toBe(1);
    expect(sample(samples, 'redress_dependency_up', { dependency: 'redis' })).toBe(1);
  });
});

describe("the worker's HTTP endpoints", () => {
  beforeAll(startWorker);

  it('relays the waiting events, after which the outbox gauges read zero', async () => {
    const samples = await eventually(async () => {
      const scraped = parseExposition(await workerScrape());
      return sample(scraped, 'redress_outbox_events') === 0 ? scraped : undefined;
    });
    expect(sample(samples, 'redress_outbox_oldest_age_seconds')).toBe(0);
    expect(sample(samples, 'redress_metrics_source_up', { source: 'postgres' })).toBe(1);
    expect(samples.find((s) => s.name === 'redress_build_info')?.labels).toEqual({
      version: packageJson.version,
      commit: COMMIT,
      node_version: process.version,
    });
  });

  it('answers /healthz and /readyz, and nothing else', async () => {
    const health = await fetch(`${workerUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${workerUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: { postgres: { status: 'up' }, redis: { status: 'up' } },
    });
    expect((await fetch(`${workerUrl}/nothing-here`)).status).toBe(404);
    expect((await fetch(`${workerUrl}/healthz`, { method: 'POST' })).status).toBe(404);
  });
});

interface Panel {
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}
/** Every query of the dashboard, with the panel it is in. */
const dashboardExpressions = async () => {
  const dashboard = JSON.parse(
    await readFile(new URL('../ops/grafana/dashboards/redress.json', import.meta.url), 'utf8'),
  ) as { panels: Panel[] };
  const panels = (list: Panel[]): Panel[] => list.flatMap((panel) => [panel, ...panels(panel.panels ?? [])]);
  return panels(dashboard.panels).flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ where: `dashboard: ${panel.title}`, expr: target.expr })),
  );
};

describe('promtool', () => {
  const promtool = spawnSync('promtool', ['--version']).error === undefined;

  // Skipped on a machine without promtool, never in CI: .ci/run installs it there.
  it.skipIf(!promtool && !process.env.CI)('finds nothing to complain of in either scrape', async () => {
    expect(promtool, 'promtool is not on PATH; .ci/run installs it').toBe(true);
    for (const [process, text] of [
      ['api', await apiScrape()],
      ['worker', await workerScrape()],
    ] as const) {
      const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect({ process, status: result.status, output: result.stdout + result.stderr }).toEqual({
        process,
        status: 0,
        output: '',
      });
    }
  });

  it.skipIf(!promtool && !process.env.CI)('parses and type-checks every query of the dashboard', async () => {
    expect(promtool, 'promtool is not on PATH; .ci/run installs it').toBe(true);
    // As recording rules, the queries go through Prometheus's own parser and type checks.
    const rules = (await dashboardExpressions()).map(({ expr }, i) => ({
      record: `dashboard:query_${i}`,
      expr: grafanaToPromql(expr),
    }));
    const dir = await mkdtemp(join(tmpdir(), 'redress-dashboard-'));
    try {
      await writeFile(
        join(dir, 'dashboard.rules.yml'),
        stringify({ groups: [{ name: 'dashboard', rules }] }),
      );
      const result = spawnSync('promtool', ['check', 'rules', join(dir, 'dashboard.rules.yml')], {
        encoding: 'utf8',
      });
      expect(result.stdout + result.stderr).toContain(`SUCCESS: ${rules.length} rules found`);
      expect(result.status).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Series Prometheus makes itself for every target, which no /metrics shows. */
const PROMETHEUS_OWN = new Set(['up']);

/** Grafana's interval variables are not PromQL; any duration stands in for them. */
const grafanaToPromql = (expr: string) => expr.replace(/\$__(rate_interval|interval|range)/g, '5m');

/** Every metric name a PromQL expression selects; throws on an expression that does not parse. */
function metricNames(expr: string): string[] {
  const promql = grafanaToPromql(expr);
  const tree = parser.parse(promql);
  const names: string[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) throw new Error(`not PromQL at ${node.from}: ${expr}`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector')
        names.push(promql.slice(node.from, node.to));
    },
  });
  return names;
}

describe('the dashboard and the alert rules', () => {
  const alertRules = async () =>
    (
      parse(await readFile(new URL('../ops/prometheus/alerts.yml', import.meta.url), 'utf8')) as {
        groups: { rules: { alert: string; expr: string }[] }[];
      }
    ).groups.flatMap((group) => group.rules);

  it('use only metrics that the API or the worker shows, after some activity', async () => {
    const families = new Map([...metricFamilies(await apiScrape()), ...metricFamilies(await workerScrape())]);
    const exists = (name: string) => {
      if (families.has(name) || PROMETHEUS_OWN.has(name)) return true;
      const histogram = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
      return histogram !== undefined && families.get(histogram) === 'histogram';
    };
    const uses = [
      ...(await dashboardExpressions()),
      ...(await alertRules()).map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr })),
    ];
    const used = uses.flatMap(({ where, expr }) => metricNames(expr).map((name) => ({ where, name })));
    expect(used.length).toBeGreaterThan(20);
    expect(used.filter(({ name }) => !exists(name))).toEqual([]);
  });

  it('have a unit test for every alert (ops/prometheus/alerts.test.yml)', async () => {
    const tests = parse(
      await readFile(new URL('../ops/prometheus/alerts.test.yml', import.meta.url), 'utf8'),
    ) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const firing = new Set(
      tests.tests.flatMap((test) =>
        test.alert_rule_test.filter((check) => check.exp_alerts.length > 0).map((check) => check.alertname),
      ),
    );
    const alerts = (await alertRules()).map((rule) => rule.alert);
    expect(alerts.filter((alert) => !firing.has(alert))).toEqual([]);
  });

  it('read a metric name the checks above would miss as missing', () => {
    expect(
      metricNames('sum by (le) (rate(redress_nonexistent_bucket{a="b"}[$__rate_interval] offset 1d))'),
    ).toEqual(['redress_nonexistent_bucket']);
    expect(() => metricNames('sum(rate(redress_http_request_duration_seconds_count[5m])')).toThrow(
      /not PromQL/,
    );
  });
});

describe("the worker's /readyz while PostgreSQL is away", () => {
  it('answers 503 naming PostgreSQL, while /healthz stays 200 and the readiness gauge reads 0', async () => {
    await postgresProxy.cut();
    try {
      const ready = await fetch(`${workerUrl}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.headers.get('retry-after')).toBe('5');
      expect(await ready.json()).toMatchObject({
        status: 'not_ready',
        checks: { postgres: { status: 'down' }, redis: { status: 'up' } },
      });
      expect((await fetch(`${workerUrl}/healthz`)).status).toBe(200);
      // A scrape within a second of the last reuses its reading of the stores.
      const samples = await eventually(async () => {
        const scraped = parseExposition(await workerScrape());
        return sample(scraped, 'redress_dependency_up', { dependency: 'postgres' }) === 0
          ? scraped
          : undefined;
      }, 5_000);
      expect(sample(samples, 'redress_dependency_up', { dependency: 'redis' })).toBe(1);
    } finally {
      await postgresProxy.restore();
    }
    await eventually(async () => (await fetch(`${workerUrl}/readyz`)).status === 200);
  });
});
