/**
 * Webhook scenario: events committed straight into the outbox for a few subscriptions, relayed
 * and delivered by the real worker process to a receiver in this process that answers 200.
 * Two phases: a paced one (events committed at BENCH_WEBHOOK_RATE per second, in small
 * transactions every 10 ms) for commit-to-delivery latency under a steady load, and a burst
 * (all events committed at once) for how fast a backlog drains. The baseline is this process
 * POSTing the same number of signed deliveries straight to the same receiver at the same
 * concurrency: what delivery costs without the outbox, the leases and the log.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createDatabase } from '../src/db/client.js';
import { systemClock } from '../src/lib/clock.js';
import { newEventId } from '../src/modules/events/events.repository.js';
import { createWebhookSender } from '../src/modules/webhooks/webhook-sender.js';
import { deliveryHeaders } from '../src/modules/webhooks/webhook-signing.js';
import { createWebhookUrlGuard } from '../src/modules/webhooks/webhook-url-policy.js';
import { createServices } from '../src/services.js';
import {
  benchResources,
  type CpuUse,
  percentile,
  redisEnv,
  sampleCpu,
  sleep,
  startChild,
  table,
  verdict,
} from './lib.js';

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 20_000);
const SUBSCRIPTIONS = Number(process.env.BENCH_WEBHOOK_SUBSCRIPTIONS ?? 4);
/** Events per second offered in the paced phase. */
const RATE = Number(process.env.BENCH_WEBHOOK_RATE ?? 1_000);
const CONCURRENCY = Number(process.env.BENCH_WEBHOOK_CONCURRENCY ?? 64);
const PER_ENDPOINT = Number(process.env.BENCH_WEBHOOK_PER_ENDPOINT ?? 16);
const TARGETS = { deliveriesPerSecond: 1_000, p99Ms: 500 };
const TICK_MS = 10;

/** What a complaint event's data looks like on the wire, near enough: about 1 KB. */
const eventData = (tenantId: string, n: number) => ({
  tenantId,
  complaintId: '0b6a3a4e-5d0e-4c8e-9b6f-3f1f2a6c7d8e',
  reference: `C-${String(n).padStart(6, '0')}`,
  sequence: n,
  complaint: {
    id: '0b6a3a4e-5d0e-4c8e-9b6f-3f1f2a6c7d8e',
    reference: `C-${String(n).padStart(6, '0')}`,
    status: 'investigating',
    channel: 'web',
    severity: 'general',
    priority: 'normal',
    category: 'billing',
    subject: `Charged twice for the November bill #${n}`,
    description:
      'My card was charged twice on 3 November for the same invoice. Please refund one payment. ' +
      'I have attached the bank statement showing both charges and the invoice number.',
    customer: { name: null, phone: null, email: null, address: null, externalId: 'CRM-88231' },
    assignee: 'li.na',
    escalationLevel: 0,
    tags: ['billing', 'refund'],
    version: 3,
  },
  actor: { type: 'api_key', id: null, name: 'CRM', onBehalfOf: 'li.na' },
});

/** The receiver: answers 200 at once and notes when each webhook-id first arrived. */
async function startReceiver() {
  const firstArrival = new Map<string, number>();
  let requests = 0;
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      requests += 1;
      const id = request.headers['webhook-id'];
      if (typeof id === 'string' && !firstArrival.has(id)) firstArrival.set(id, performance.now());
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    firstArrival,
    get requests() {
      return requests;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

interface PhaseResult {
  name: string;
  events: number;
  commitSeconds: number;
  /** Events whose first attempt arrived, per second, from the first commit to the last arrival. */
  deliveriesPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  cpu: CpuUse;
}

/**
 * Commits `count` events for the tenants, `perCommit` to a transaction, one transaction every
 * `everyMs` (0: back to back), and waits until each has reached the receiver.
 */
async function runPhase(
  name: string,
  pool: pg.Pool,
  receiver: Receiver,
  tenants: string[],
  options: { count: number; perCommit: number; everyMs: number; cpu: Parameters<typeof sampleCpu>[0] },
): Promise<PhaseResult> {
  const committedAt = new Map<string, number>();
  const stopCpu = await sampleCpu(options.cpu);
  const started = performance.now();
  let n = 0;
  let tick = 0;
  while (n < options.count) {
    const size = Math.min(options.perCommit, options.count - n);
    const ids: string[] = [];
    const owners: string[] = [];
    const data: string[] = [];
    for (let i = 0; i < size; i += 1, n += 1) {
      const tenantId = tenants[n % tenants.length]!;
      ids.push(newEventId());
      owners.push(tenantId);
      data.push(JSON.stringify(eventData(tenantId, n)));
    }
    await pool.query(
      `insert into events (id, tenant_id, type, data)
       select id, tenant_id, 'complaint.updated', data from unnest($1::text[], $2::uuid[], $3::jsonb[]) as v(id, tenant_id, data)`,
      [ids, owners, data],
    );
    const at = performance.now();
    for (const id of ids) committedAt.set(id, at);
    if (options.everyMs > 0) {
      tick += 1;
      const wait = started + tick * options.everyMs - performance.now();
      if (wait > 0) await sleep(wait);
    }
  }
  const commitSeconds = (performance.now() - started) / 1000;
  const giveUpAt = performance.now() + 300_000;
  const arrived = () => [...committedAt.keys()].filter((id) => receiver.firstArrival.has(id)).length;
  while (arrived() < options.count && performance.now() < giveUpAt) await sleep(50);
  const cpu = await stopCpu();
  const latencies: number[] = [];
  let last = started;
  for (const [id, at] of committedAt) {
    const arrival = receiver.firstArrival.get(id);
    if (arrival === undefined) continue;
    latencies.push(arrival - at);
    last = Math.max(last, arrival);
  }
  latencies.sort((a, b) => a - b);
  return {
    name,
    events: options.count,
    commitSeconds,
    deliveriesPerSecond: latencies.length / ((last - started) / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? Number.NaN,
    cpu,
  };
}

/** The baseline: the same number of signed POSTs from this process, at the same concurrency. */
async function directPosts(receiver: Receiver, count: number, concurrency: number, secret: string) {
  const sender = createWebhookSender({ allowPrivate: true, timeoutMs: 15_000 });
  let next = 0;
  let failures = 0;
  const body = JSON.stringify({
    id: 'evt_baseline',
    type: 'complaint.updated',
    timestamp: new Date().toISOString(),
    data: eventData('00000000-0000-4000-8000-000000000000', 1),
  });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const eventId = `evt_baseline_${next++}`;
        const headers = deliveryHeaders({ eventId, body, secrets: [secret], at: new Date() });
        const result = await sender.send(`${receiver.url}/baseline`, body, headers);
        if (result.status !== 200) failures += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  sender.close();
  return { postsPerSecond: count / seconds, failures };
}

/** Runs the webhook scenario on its own database and prints its table, baseline and targets. */
export async function runWebhookBenchmark(): Promise<void> {
  const resources = await benchResources('webhooks');
  const database = createDatabase({ url: resources.databaseUrl, poolMax: 4, applicationName: 'bench' });
  const pool = new pg.Pool({ connectionString: resources.databaseUrl, max: 2, application_name: 'bench' });
  const receiver = await startReceiver();
  let worker: Awaited<ReturnType<typeof startChild>> | null = null;
  try {
    const services = createServices({
      db: database.db,
      clock: systemClock,
      scheduler: null,
      webhookUrlGuard: createWebhookUrlGuard({ allowPrivate: true }),
    });
    const tenants: string[] = [];
    let secret = '';
    for (let i = 0; i < SUBSCRIPTIONS; i += 1) {
      const { tenant } = await services.tenancy.createTenant(`Bench ${i}`);
      // As the tenant's admin key would, which reads complaints and personal data.
      const created = await services.webhooks.create(
        tenant.id,
        { url: `${receiver.url}/hooks/${i}`, events: ['complaint.*'], personalData: 'clear', active: true },
        { readsComplaints: true, readsPersonalData: true },
      );
      secret = created.secret;
      tenants.push(tenant.id);
    }
    const effectiveConcurrency = Math.min(CONCURRENCY, PER_ENDPOINT * SUBSCRIPTIONS);
    console.log(
      `webhook scenario: ${EVENTS.toLocaleString('en-US')} events per phase over ${SUBSCRIPTIONS} subscriptions; ` +
        `WEBHOOK_CONCURRENCY ${CONCURRENCY}, ${PER_ENDPOINT} per endpoint; paced at ${RATE}/s`,
    );

    worker = await startChild(
      'src/worker.ts',
      {
        DATABASE_URL: resources.databaseUrl,
        ...redisEnv,
        REDIS_PREFIX: resources.redisPrefix,
        LOG_LEVEL: 'info',
        WORKER_METRICS_PORT: '0',
        SLA_RECONCILE_INTERVAL: '300',
        NODE_ENV: 'production',
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_CONCURRENCY: String(CONCURRENCY),
        WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: String(PER_ENDPOINT),
      },
      (line) => line.includes('"worker started"'),
    );
    const cpuSubjects = { serverPid: worker.pid, database: resources.databaseName };

    // A short warm-up so JIT and connection pools are not measured.
    await runPhase('warm-up', pool, receiver, tenants, {
      count: Math.min(2_000, EVENTS),
      perCommit: 50,
      everyMs: 0,
      cpu: cpuSubjects,
    });
    const perTick = Math.max(1, Math.round((RATE * TICK_MS) / 1000));
    const paced = await runPhase(`paced ${RATE}/s`, pool, receiver, tenants, {
      count: EVENTS,
      perCommit: perTick,
      everyMs: TICK_MS,
      cpu: cpuSubjects,
    });
    const burst = await runPhase('burst', pool, receiver, tenants, {
      count: EVENTS,
      perCommit: 500,
      everyMs: 0,
      cpu: cpuSubjects,
    });
    await worker.stop();
    worker = null;

    const { rows: statuses } = await database.pool.query(
      `select status, count(*)::int as n from webhook_deliveries group by status order by status`,
    );
    const { rows: attempts } = await database.pool.query(
      `select count(*)::int as attempts, count(distinct delivery_id)::int as deliveries from webhook_delivery_attempts`,
    );
    const baseline = await directPosts(receiver, EVENTS, effectiveConcurrency, secret);

    const cpu = (value: number | undefined) => (value === undefined ? '-' : `${Math.round(value)} %`);
    console.log(
      `\n${table(
        [paced, burst].map((phase) => ({
          phase: phase.name,
          events: phase.events,
          'commit s': phase.commitSeconds,
          'deliveries/s': phase.deliveriesPerSecond,
          'p50 ms': phase.p50,
          'p99 ms': phase.p99,
          'max ms': phase.max,
          'worker cpu': cpu(phase.cpu.server),
          'pg cpu': cpu(phase.cpu.postgres),
          'bench cpu': cpu(phase.cpu.loadgen),
          'machine cpu': cpu(phase.cpu.machine),
        })),
      )}`,
    );
    const ratio = burst.deliveriesPerSecond / baseline.postsPerSecond;
    console.log(
      `\nbaseline: ${EVENTS.toLocaleString('en-US')} signed POSTs straight to the receiver at concurrency ${effectiveConcurrency}: ` +
        `${Math.round(baseline.postsPerSecond).toLocaleString('en-US')}/s (${baseline.failures} failed)` +
        `\nratio worker deliveries/s (burst) ÷ direct POSTs/s: ${ratio.toFixed(2)}` +
        `\ndeliveries by status: ${statuses.map((row) => `${row.status} ${row.n}`).join(', ')}; ` +
        `${attempts[0].attempts} attempts for ${attempts[0].deliveries} deliveries; receiver saw ${receiver.requests} requests` +
        `\ntargets: ≥ ${TARGETS.deliveriesPerSecond.toLocaleString('en-US')} deliveries/s ` +
        `(paced ${verdict(paced.deliveriesPerSecond >= TARGETS.deliveriesPerSecond * 0.95)}, ` +
        `burst ${verdict(burst.deliveriesPerSecond >= TARGETS.deliveriesPerSecond)}), ` +
        `p99 commit-to-delivery ≤ ${TARGETS.p99Ms} ms at ${RATE}/s ${verdict(paced.p99 <= TARGETS.p99Ms)}`,
    );
    await mkdir('bench/results', { recursive: true });
    await writeFile(
      `bench/results/webhooks-${new Date().toISOString().replaceAll(':', '-')}.json`,
      JSON.stringify(
        {
          events: EVENTS,
          subscriptions: SUBSCRIPTIONS,
          concurrency: CONCURRENCY,
          perEndpoint: PER_ENDPOINT,
          rate: RATE,
          paced,
          burst,
          baseline,
          ratio,
          statuses,
        },
        null,
        2,
      ),
    );
  } finally {
    await worker?.stop();
    await receiver.close();
    await pool.end();
    await database.close();
    await resources.cleanup();
  }
}
