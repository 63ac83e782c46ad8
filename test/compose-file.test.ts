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
    });
  });
});
