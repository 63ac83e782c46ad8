import { once } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, complaintBody, createFastLaneTenant, type TestApp } from './harness.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';
import { type Receiver, startReceiver } from './receiver.js';
import { testRedisEnv } from './redis-keys.js';
import { eventually, startApiProcess, startWorkerProcess, type WorkerProcess } from './worker-process.js';

/**
 * End to end with tracing on: the API and the worker as their own processes, exporting to a real
 * OTLP/HTTP receiver (JSON protocol, so the test reads what an OpenTelemetry collector would).
 */
interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

/** A query's span, by either generation of the database semantic conventions. */
const isPostgres = (span: ExportedSpan) =>
  (span.attributes['db.system.name'] ?? span.attributes['db.system']) === 'postgresql';

/** SpanKind as OTLP numbers it. */
const SERVER = 2;
const CONSUMER = 5;

interface Collector {
  url: string;
  spans: ExportedSpan[];
  close(): Promise<void>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean };
type OtlpAttribute = { key: string; value: OtlpValue };
const attributesOf = (list: OtlpAttribute[] = []) =>
  Object.fromEntries(
    list.map(({ key, value }) => [key, value.stringValue ?? value.intValue ?? value.boolValue]),
  );

/** A stand-in OpenTelemetry collector: takes OTLP/HTTP JSON on POST /v1/traces and keeps the spans. */
async function startCollector(): Promise<Collector> {
  const spans: ExportedSpan[] = [];
  const server: Server = createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const resourceSpans of body.resourceSpans ?? []) {
        const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name']);
        for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
          for (const span of scopeSpans.spans ?? []) {
            spans.push({
              service,
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId || undefined,
              name: span.name,
              kind: span.kind,
              attributes: attributesOf(span.attributes),
            });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  return port;
}

/** Loading the SDK adds a second or two of CPU to each start, which a busy machine stretches. */
const STARTUP_MS = 480_000;

let isolated: IsolatedTestApp;
let t: TestApp;
let collector: Collector;
let receiver: Receiver;
let worker: WorkerProcess;
let api: WorkerProcess & { url: string };

beforeAll(async () => {
  isolated = await startIsolatedTestApp('tracing', { WEBHOOK_ALLOW_PRIVATE: 'true' });
  t = isolated.app;
  [collector, receiver] = await Promise.all([startCollector(), startReceiver()]);
  const shared = {
    DATABASE_URL: isolated.databaseUrl,
    ...testRedisEnv(),
    REDIS_PREFIX: isolated.redisPrefix,
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '1',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
  [worker, api] = await Promise.all([
    startWorkerProcess(
      {
        ...shared,
        // The reconciler sweeps once, at start: one sweeping later could arm the breach before the
        // warning job does, outside the complaint's trace (which is right: it starts its own).
        SLA_RECONCILE_INTERVAL: '300',
        WORKER_CONCURRENCY: '10',
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_RETRY_SCHEDULE: '0,1,1',
      },
      STARTUP_MS,
    ),
    startApiProcess(
      { ...shared, PORT: String(await freePort()), NODE_ENV: 'test', LOG_LEVEL: 'info' },
      STARTUP_MS,
    ),
  ]);
}, 2 * STARTUP_MS);
afterAll(async () => {
  await Promise.all([worker?.stop(), api?.stop()]);
  await collector?.close();
  await isolated?.close();
  // Last: it fails the file when a delivery was off the event catalogue.
  await receiver?.close();
});

describe('tracing', () => {
  it('follows a complaint from its request through its SQL, the breach job, the relay and the webhook delivery', async () => {
    const tenant = await createFastLaneTenant(t);
    const subscription = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/webhooks',
      json: { url: `${receiver.url}/hooks/breaches`, events: ['deadline.breached'] },
    });
    expect(subscription.statusCode, subscription.body).toBe(201);

    // Through the API process, over HTTP, as a client would.
    const created = await fetch(`${api.url}/v1/complaints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(complaintBody({ channel: 'web', category: 'fast' })),
    });
    expect(created.status).toBe(201);
    const complaint = (await created.json()) as { id: string };

    const request = await eventually(
      async () =>
        collector.spans.find(
          (span) =>
            span.service === 'redress-api' &&
            span.kind === SERVER &&
            span.attributes['http.request.method'] === 'POST',
        ),
      30_000,
    );
    const traceId = request.traceId;
    const inTrace = (match: (span: ExportedSpan) => boolean) =>
      collector.spans.filter((span) => span.traceId === traceId && match(span));

    // The breach is delivered, and the receiver is told the trace it belongs to.
    const delivered = await eventually(() => Promise.resolve(receiver.on('/hooks/breaches')[0]), 60_000);
    expect(JSON.parse(delivered.rawBody)).toMatchObject({
      type: 'deadline.breached',
      data: { complaintId: complaint.id },
    });
    expect(delivered.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

    await eventually(
      async () => inTrace((span) => span.name === 'webhook deliver deadline.breached').length > 0,
      30_000,
    );
    // The request's SQL, in the API.
    expect(inTrace((span) => span.service === 'redress-api' && isPostgres(span)).length).toBeGreaterThan(0);
    // The worker's job that recorded the breach, and its SQL.
    const jobs = inTrace((span) => span.service === 'redress-worker' && span.kind === CONSUMER);
    expect(jobs.map((span) => span.name)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^process deadlines/)]),
    );
    expect(inTrace((span) => span.service === 'redress-worker' && isPostgres(span)).length).toBeGreaterThan(
      0,
    );
    // The relay of the breach event, and each delivery attempt, under the trace of what wrote it.
    expect(inTrace((span) => span.name === 'event relay deadline.breached')).toHaveLength(1);
    const [delivery] = inTrace((span) => span.name === 'webhook deliver deadline.breached');
    expect(delivery!.attributes).toMatchObject({
      'redress.event.type': 'deadline.breached',
      'redress.webhook.attempt': expect.anything(),
      'http.response.status_code': expect.anything(),
    });
    // Everything above is one trace: no span of it is left without its parent.
    const ids = new Set(inTrace(() => true).map((span) => span.spanId));
    const orphans = inTrace((span) => span.parentSpanId !== undefined && !ids.has(span.parentSpanId));
    expect(orphans.map((span) => span.name)).toEqual([]);

    // Log lines written in a sampled span name it.
    const logged = api.lines.filter((line) => line.includes(`"trace_id":"${traceId}"`));
    expect(logged.length).toBeGreaterThan(0);
    // As long as its waits above may take together, on a busy machine.
  }, 150_000);

  it("continues a caller's trace: its traceparent is the request span's parent, with the route named", async () => {
    const tenant = await createFastLaneTenant(t);
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const listed = await fetch(`${api.url}/v1/complaints?limit=1`, {
      headers: {
        authorization: `Bearer ${tenant.adminKey}`,
        traceparent: `00-${callerTrace}-${callerSpan}-01`,
      },
    });
    expect(listed.status).toBe(200);
    const request = await eventually(
      async () =>
        collector.spans.find(
          (span) => span.traceId === callerTrace && span.service === 'redress-api' && span.kind === SERVER,
        ),
      30_000,
    );
    expect(request.parentSpanId).toBe(callerSpan);
    expect(request.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/v1/complaints',
    });
    // One server span per request: none from node:http beside the route's.
    expect(
      collector.spans.filter((span) => span.traceId === callerTrace && span.kind === SERVER),
    ).toHaveLength(1);
  }, 60_000);
});
