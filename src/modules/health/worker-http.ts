import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { OUTAGE_RETRY_AFTER_SECONDS } from '../../lib/unreachable.js';
import type { Readiness } from './readiness.js';

/**
 * The worker's own small HTTP server, on WORKER_METRICS_PORT: `/metrics`, `/healthz` (the process
 * answers) and `/readyz` (PostgreSQL and Redis answer, the API's document and status codes). A
 * liveness probe asks /healthz, which touches neither store; /metrics reads both on every scrape.
 */
export function createWorkerHttpServer(deps: {
  registry: Registry;
  readiness: () => Promise<Readiness>;
  log: Logger;
}): Server {
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  });
  const routes: Record<
    string,
    () => Promise<{ status: number; headers: Record<string, string>; body: string }>
  > = {
    '/healthz': async () => json(200, { status: 'ok' }),
    '/readyz': async () => {
      const readiness = await deps.readiness();
      return readiness.status === 'ready'
        ? json(200, readiness)
        : json(503, readiness, { 'retry-after': String(OUTAGE_RETRY_AFTER_SECONDS) });
    },
    '/metrics': async () => ({
      status: 200,
      headers: { 'content-type': deps.registry.contentType },
      body: await deps.registry.metrics(),
    }),
  };
  return createServer(async (request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    const route = request.method === 'GET' || request.method === 'HEAD' ? routes[path] : undefined;
    if (!route) {
      response.writeHead(404).end();
      return;
    }
    try {
      const { status, headers, body } = await route();
      response.writeHead(status, headers).end(request.method === 'HEAD' ? undefined : body);
    } catch (err) {
      deps.log.error({ err, path }, 'worker HTTP endpoint failed');
      response.writeHead(500).end();
    }
  });
}
