/**
 * Starts OpenTelemetry tracing before anything it instruments is loaded: every process runs with
 * `node --import ./dist/src/tracing.js` (or `--import ./src/tracing.ts` under tsx). With tracing
 * off (tracingEnabledIn) it returns at once, loading no SDK and patching nothing.
 *
 * Configured only by the standard variables, read by the SDK itself: OTEL_TRACES_EXPORTER,
 * OTEL_EXPORTER_OTLP_ENDPOINT / _PROTOCOL / _HEADERS, OTEL_TRACES_SAMPLER / _ARG (parent-based,
 * so a sampled complaint is traced end to end), OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES and
 * the OTEL_BSP_* batching settings.
 */
import { tracingEnabledIn, tracingLifecycle } from './lib/tracing-switch.js';

/** Paths whose requests are not traced: probes and scrapes would drown the traces that matter. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** `redress-api` for main.ts, `redress-worker` for worker.ts, `redress-cli` for cli.ts. */
function serviceNameOf(entry: string): string {
  const name = /(\w+)\.[cm]?[jt]s$/.exec(entry)?.[1];
  return name === 'main' ? 'redress-api' : name ? `redress-${name}` : 'redress';
}

if (tracingEnabledIn(process.env)) {
  // Packages such as pg and fastify are CommonJS and patched as they are required, but node:http
  // is imported as ES modules are, which only this loader hook can patch. It looks at nothing
  // else: hooking every module slowed start-up severalfold.
  const { register } = await import('node:module');
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
    data: { include: ['http', 'https'] },
  });

  const [{ NodeSDK }, { HttpInstrumentation }, { PgInstrumentation }, { FastifyOtelInstrumentation }] =
    await Promise.all([
      import('@opentelemetry/sdk-node'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-pg'),
      import('@fastify/otel'),
    ]);
  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME wins; otherwise each process is named after its entry point.
    serviceName: process.env.OTEL_SERVICE_NAME ?? serviceNameOf(process.argv[1] ?? ''),
    instrumentations: [
      // Outgoing calls only (an issuer's keys, say): @fastify/otel's request span is the server
      // span, continuing the caller's traceparent. A second server span from node:http would
      // cost every request, traced or not, and say nothing more.
      new HttpInstrumentation({ disableIncomingRequestInstrumentation: true }),
      // Queries outside any request or job (the relay's polling, the reconciler's sweeps) would
      // each start a trace of their own. A pool checkout is no work of its own: its span would
      // double the spans of every query and say nothing the query's does not.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        // The request and its handler, not each of the dozen hooks every request passes (auth,
        // rate limit, idempotency, metrics): their spans cost intake more than they tell.
        instrumentHooks: false,
        ignorePaths: (route) => UNTRACED_PATHS.has(route.url),
      }),
    ],
  });
  sdk.start();
  tracingLifecycle.shutdown = () => sdk.shutdown();
}
