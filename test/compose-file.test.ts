import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { composeFileProblems } from '../.ci/compose/check-compose.js';

const composeText = await readFile(new URL('../docker-compose.yml', import.meta.url), 'utf8');

/** The committed compose file with one change made to it. */
function composeWith(path: string[], value: unknown): string {
  const document = parseDocument(composeText, { merge: true });
  document.setIn(path, value);
  return document.toString();
}

describe('docker-compose.yml', () => {
  it('matches the Compose Specification and builds its one image once', () => {
    expect(composeFileProblems(composeText)).toEqual([]);
  });

  it('is refused when a second service builds the image, as every app service once did', () => {
    expect(composeFileProblems(composeWith(['services', 'api', 'build'], '.'))).toEqual([
      'exactly one service must build the image; these build: migrate, api',
    ]);
  });

  it('is refused when a service that runs the built image may look for it in a registry', () => {
    expect(composeFileProblems(composeWith(['services', 'worker', 'pull_policy'], 'missing'))).toEqual([
      "service 'worker' runs redress:local, which 'migrate' builds, so it needs pull_policy: never",
    ]);
  });

  it('is refused when it says something the Compose Specification does not know', () => {
    expect(composeFileProblems(composeWith(['services', 'api', 'restart_policy'], 'always'))).toEqual([
      '/services/api must NOT have additional properties ("restart_policy")',
    ]);
    const condition = ['services', 'api', 'depends_on', 'migrate', 'condition'];
    expect(composeFileProblems(composeWith(condition, 'service_done'))).toContainEqual(
      '/services/api/depends_on/migrate/condition must be equal to one of the allowed values ' +
        '(["service_started","service_healthy","service_completed_successfully"])',
    );
  });

  it('publishes every host port at today’s number unless a REDRESS_*_PORT variable moves it', () => {
    const { services } = parse(composeText, { merge: true }) as {
      services: Record<string, { ports?: string[] }>;
    };
    // "127.0.0.1:${REDRESS_API_PORT:-3000}:3000" → [variable, default host port, container port]
    const published = Object.fromEntries(
      Object.entries(services)
        .filter(([, service]) => service.ports)
        .map(([name, service]) => [
          name,
          service.ports?.map((port) => /\$\{(\w+):-(\d+)\}:(\d+)$/.exec(port)?.slice(1)),
        ]),
    );
    expect(published).toEqual({
      postgres: [['REDRESS_POSTGRES_PORT', '5432', '5432']],
      redis: [['REDRESS_REDIS_PORT', '6379', '6379']],
      api: [['REDRESS_API_PORT', '3000', '3000']],
      worker: [['REDRESS_WORKER_METRICS_PORT', '9464', '9464']],
      prometheus: [['REDRESS_PROMETHEUS_PORT', '9090', '9090']],
      grafana: [['REDRESS_GRAFANA_PORT', '3001', '3000']],
    });
  });

  it('adds Prometheus and Grafana under the observability profile, scraping the API and the worker where they listen', async () => {
    interface Service {
      profiles?: string[];
      volumes?: string[];
      environment?: Record<string, string>;
      healthcheck?: { test: string[] };
    }
    const { services } = parse(composeText, { merge: true }) as { services: Record<string, Service> };
    expect(services.prometheus?.profiles).toEqual(['observability']);
    expect(services.grafana?.profiles).toEqual(['observability']);
    // What they mount from the checkout is there.
    const mounted = [...(services.prometheus?.volumes ?? []), ...(services.grafana?.volumes ?? [])]
      .map((volume) => volume.split(':')[0]!)
      .filter((source) => source.startsWith('./'));
    expect(mounted.length).toBeGreaterThanOrEqual(3);
    for (const source of mounted)
      expect(existsSync(new URL(`.${source}`, import.meta.url)), source).toBe(true);

    const read = async (path: string) =>
      parse(await readFile(new URL(`../${path}`, import.meta.url), 'utf8'));
    const prometheus = (await read('ops/prometheus/prometheus.yml')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = Object.fromEntries(
      prometheus.scrape_configs.map((job) => [job.job_name, job.static_configs.flatMap((c) => c.targets)]),
    );
    const workerPort = services.worker?.environment?.WORKER_METRICS_PORT;
    expect(targets).toEqual({
      'redress-api': [`api:${services.api?.environment?.PORT}`],
      'redress-worker': [`worker:${workerPort}`],
    });
    // The worker's liveness is its /healthz, which touches neither PostgreSQL nor Redis.
    expect(services.worker?.healthcheck?.test.join(' ')).toContain(`127.0.0.1:${workerPort}/healthz`);

    const datasources = (await read('ops/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: { uid: string; url: string }[];
    };
    const dashboard = (await read('ops/grafana/dashboards/redress.json')) as {
      panels: { datasource?: { uid: string } }[];
    };
    const uids = new Set(
      dashboard.panels.flatMap((panel) => (panel.datasource ? [panel.datasource.uid] : [])),
    );
    expect(datasources.datasources.map(({ uid, url }) => ({ uid, url }))).toEqual([
      { uid: [...uids][0], url: 'http://prometheus:9090' },
    ]);
    expect(uids.size).toBe(1);
  });
});
