/**
 * Scale scenario: does the API stay as fast for a tenant with 1M complaints as for one with 10k?
 *
 * Tenants of 10k, 100k and 1M complaints (BENCH_SCALE_SIZES) and a small one sit in one database.
 * The small tenant's complaints are taken in and handled through the real API; the large tenants
 * are those cloned in SQL (scale-data.ts). Then every operation a client uses is timed through the
 * API, one request at a time (latency, not throughput), per tenant: p50, p99 and the
 * largest/smallest p50 ratio. Last, the small tenant's get, list and create are timed alone and
 * again while the largest tenant's reports run beside them.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { DateTime } from 'luxon';
import pg from 'pg';
import { createDatabase } from '../src/db/client.js';
import { systemClock } from '../src/lib/clock.js';
import { encodeCursor } from '../src/lib/cursor.js';
import { complaintListCursor } from '../src/modules/complaints/complaints.service.js';
import { createServices } from '../src/services.js';
import {
  apiEnv,
  appEnv,
  benchResources,
  type Child,
  type CpuSubjects,
  DEPLOYED_NODE_FLAGS,
  freePort,
  percentile,
  sampleCpu,
  startChild,
  table,
  verdict,
} from './lib.js';
import {
  type BuildTimings,
  CHINESE_WORD,
  COMMON_WORD,
  cloneToSize,
  HISTORY_YEARS,
  RARE_CATEGORY,
  type ScaleTenant,
  seedThroughApi,
} from './scale-data.js';

const TARGETS = {
  readP99Ms: 50,
  /** A report for a month, and the daily inventory (a report for a day) with it. */
  monthReportP99Ms: 200,
  yearReportP99Ms: 500,
  metricsP99Ms: 50,
  /** No operation may slow down more than this from the smallest tenant to the largest (p50). */
  maxRatio: 2,
  /** The small tenant beside the largest one: p50 at most this much above its p50 alone. */
  besideRatio: 1.5,
  /** Tables and indexes, all tenants, over all complaints. */
  storageKbPerComplaint: 5,
};
/** The tenant's time zone (settings default): report days are its days. */
const TIME_ZONE = 'Asia/Shanghai';
/** EVENT_RETENTION_DAYS as the API and worker run here (their default). */
const EVENT_RETENTION_DAYS = 30;
/** An event type the benchmark's complaints never have, for the feed filtered to no match. */
const UNMATCHED_EVENT_TYPE = 'complaint.conflict_declared';
const SAMPLE = 300;

const QUERY = `query Page($first: Int!) {
  complaints(first: $first) {
    nodes {
      id reference status channel severity priority category subject
      customer { name phone } receivedAt assignee tags version
      nextDeadline { id kind dueAt }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;

function setting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

function sizesSetting(): number[] {
  const raw = process.env.BENCH_SCALE_SIZES ?? '10000,100000,1000000';
  const sizes = raw.split(',').map((item) => Number(item.trim()));
  if (sizes.length === 0 || sizes.some((size) => !Number.isInteger(size) || size <= 0)) {
    throw new Error('BENCH_SCALE_SIZES must be complaint counts separated by commas, e.g. 10000,100000');
  }
  return [...new Set(sizes)].sort((a, b) => a - b);
}

const sizeLabel = (size: number) =>
  size >= 1_000_000 && size % 100_000 === 0
    ? `${size / 1_000_000}M`
    : size >= 1_000 && size % 100 === 0
      ? `${size / 1_000}k`
      : String(size);

interface Request {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

interface Timing {
  p50: number;
  p99: number;
  max: number;
  requests: number;
  errors: number;
  errorSample?: string;
  /** Busy CPU of processes outside the benchmark while it ran, in % of one core. */
  otherCpu: number;
}

type OpKind = 'read' | 'write' | 'day-report' | 'month-report' | 'year-report';

interface Op {
  name: string;
  kind: OpKind;
  request: (i: number) => Request;
}

interface TenantSample {
  complaints: Array<{ id: string; reference: string; receivedAt: Date }>;
  feedCursors: string[];
}

const targetOf = (kind: OpKind): number | undefined =>
  kind === 'read'
    ? TARGETS.readP99Ms
    : kind === 'day-report' || kind === 'month-report'
      ? TARGETS.monthReportP99Ms
      : kind === 'year-report'
        ? TARGETS.yearReportP99Ms
        : undefined;

/** A local date in the tenant's zone, `days` before today. */
const daysAgo = (days: number) => DateTime.now().setZone(TIME_ZONE).minus({ days }).toISODate()!;

/** The operations timed for one tenant, each varying what it asks for from request to request. */
function operations(sample: TenantSample): Op[] {
  const pick = <T>(items: T[], i: number) => items[(i * 7919) % items.length]!;
  return [
    {
      name: 'GET complaint by id',
      kind: 'read',
      request: (i) => get(`/v1/complaints/${pick(sample.complaints, i).id}`),
    },
    {
      name: 'GET complaint by reference',
      kind: 'read',
      request: (i) => get(`/v1/complaints/${pick(sample.complaints, i).reference}`),
    },
    { name: 'list: first page', kind: 'read', request: () => get('/v1/complaints?limit=25') },
    {
      name: 'list: later page (cursor)',
      kind: 'read',
      request: (i) =>
        get(`/v1/complaints?limit=25&cursor=${complaintListCursor(pick(sample.complaints, i))}`),
    },
    {
      name: `list: channel=fax&category=${RARE_CATEGORY}`,
      kind: 'read',
      request: () => get(`/v1/complaints?limit=25&channel=fax&category=${RARE_CATEGORY}`),
    },
    {
      name: `search q=${COMMON_WORD}`,
      kind: 'read',
      request: () => get(`/v1/complaints?limit=25&q=${encodeURIComponent(COMMON_WORD)}`),
    },
    {
      name: `search q=${CHINESE_WORD}`,
      kind: 'read',
      request: () => get(`/v1/complaints?limit=25&q=${encodeURIComponent(CHINESE_WORD)}`),
    },
    {
      name: 'deadlines work queue',
      kind: 'read',
      request: () => get('/v1/deadlines?status=pending&limit=50'),
    },
    {
      name: 'event feed by cursor',
      kind: 'read',
      request: (i) =>
        sample.feedCursors.length > 0
          ? get(`/v1/events?limit=100&after=${pick(sample.feedCursors, i)}`)
          : get('/v1/events?limit=100'),
    },
    {
      name: 'event feed, type with no match',
      kind: 'read',
      request: () => get(`/v1/events?limit=100&types=${UNMATCHED_EVENT_TYPE}`),
    },
    {
      name: 'complaint timeline',
      kind: 'read',
      request: (i) => get(`/v1/complaints/${pick(sample.complaints, i).id}/timeline`),
    },
    {
      name: 'GraphQL complaints page',
      kind: 'read',
      request: () => ({ method: 'POST', path: '/graphql', body: { query: QUERY, variables: { first: 25 } } }),
    },
    {
      name: 'POST complaint',
      kind: 'write',
      request: () => ({ method: 'POST', path: '/v1/complaints', body: createBody() }),
    },
    {
      name: 'daily inventory, past day',
      kind: 'day-report',
      request: (i) => get(`/v1/reports/daily-inventory?date=${daysAgo(1 + ((i * 37) % 365))}`),
    },
    { name: 'daily inventory, today', kind: 'day-report', request: () => get('/v1/reports/daily-inventory') },
    {
      name: 'SLA compliance, a month',
      kind: 'month-report',
      request: (i) => {
        const month = DateTime.now()
          .setZone(TIME_ZONE)
          .startOf('month')
          .minus({ months: 1 + ((i * 5) % (HISTORY_YEARS * 12 - 1)) });
        return get(
          `/v1/reports/sla-compliance?from=${month.toISODate()}&to=${month.endOf('month').toISODate()}`,
        );
      },
    },
    {
      name: 'SLA compliance, a year',
      kind: 'year-report',
      request: (i) => {
        const from = DateTime.now()
          .setZone(TIME_ZONE)
          .startOf('day')
          .minus({ days: 365 + ((i * 41) % 365) });
        return get(
          `/v1/reports/sla-compliance?from=${from.toISODate()}&to=${from.plus({ days: 364 }).toISODate()}`,
        );
      },
    },
  ];
}

const get = (path: string): Request => ({ method: 'GET', path });

/** Creates sent so far, and a stamp of this run: a kept database is timed again by later runs. */
let created = 0;
const runStamp = String(Math.floor(Date.now() / 1000) % 100_000).padStart(5, '0');

/**
 * A create like the api scenario's: its own phone each time (in every tenant, and across runs on a
 * kept database), so no create is a repeat complaint, major and reported up.
 */
const createBody = () => {
  const n = ++created;
  return {
    channel: 'web',
    category: 'billing',
    subject: `Charged twice for the November bill #${n}`,
    description: 'My card was charged twice on 3 November for the same invoice. Please refund one payment.',
    customer: { name: 'Wang Fang', phone: `+86 137 ${runStamp}${String(n).padStart(6, '0')}` },
  };
};

/** One request, timed from sending to the last byte of the answer; an error if not 2xx (or GraphQL errors). */
async function send(
  base: string,
  key: string | null,
  request: Request,
): Promise<{ ms: number; error?: string }> {
  const started = performance.now();
  const res = await fetch(`${base}${request.path}`, {
    method: request.method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
  });
  const text = await res.text();
  const ms = performance.now() - started;
  if (res.status < 200 || res.status > 299) return { ms, error: `${res.status} ${text.slice(0, 300)}` };
  if (request.path === '/graphql' && text.includes('"errors"'))
    return { ms, error: `200 ${text.slice(0, 300)}` };
  return { ms };
}

const requestsPerOp = setting('BENCH_SCALE_REQUESTS', 100);
const warmupPerOp = setting('BENCH_SCALE_WARMUP', 5);
const secondsPerOp = setting('BENCH_SCALE_OP_SECONDS', 20);

/**
 * Sends `requestsPerOp` requests one after another (after a warm-up), or as many as fit in
 * `secondsPerOp` if that comes first (at least 3): a slow report is timed, not waited out. Failed
 * requests count in the latencies too (a report that hits its statement timeout took that long)
 * and are counted apart.
 */
async function time(
  base: string,
  key: string | null,
  request: (i: number) => Request,
  cpu: CpuSubjects,
  limits = { requests: requestsPerOp, seconds: secondsPerOp },
): Promise<Timing> {
  let i = 0;
  const warmUntil = performance.now() + (limits.seconds * 1000) / 4;
  for (let w = 0; w < warmupPerOp && (w === 0 || performance.now() < warmUntil); w++) {
    await send(base, key, request(i++));
  }
  const latencies: number[] = [];
  let errors = 0;
  let errorSample: string | undefined;
  const stopCpu = await sampleCpu(cpu);
  const until = performance.now() + limits.seconds * 1000;
  while (latencies.length < limits.requests && (latencies.length < 3 || performance.now() < until)) {
    const result = await send(base, key, request(i++));
    latencies.push(result.ms);
    if (result.error) {
      errors += 1;
      errorSample ??= result.error;
    }
  }
  const used = await stopCpu();
  latencies.sort((a, b) => a - b);
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? Number.NaN,
    requests: latencies.length,
    errors,
    ...(errorSample ? { errorSample } : {}),
    otherCpu: Math.max(
      0,
      used.machine - (used.server ?? 0) - (used.worker ?? 0) - used.postgres - used.redis - used.loadgen,
    ),
  };
}

/** Runs requests one after another until stopped: load beside the measured tenant. */
function backgroundLoop(base: string, key: string, request: (i: number) => Request) {
  let stopped = false;
  let done = 0;
  let errors = 0;
  const running = (async () => {
    for (let i = 0; !stopped; i++) {
      const result = await send(base, key, request(i)).catch((error) => ({ ms: 0, error: String(error) }));
      if (result.error) errors += 1;
      else done += 1;
    }
  })();
  return async () => {
    stopped = true;
    await running;
    return { done, errors };
  };
}

async function sampleTenant(pool: pg.Pool, tenantId: string): Promise<TenantSample> {
  const { rows } = await pool.query<{ id: string; reference: string; received_at: Date }>(
    `select id, reference, received_at from complaints tablesample bernoulli (10)
     where tenant_id = $1 order by random() limit $2`,
    [tenantId, SAMPLE],
  );
  const complaints =
    rows.length >= 50
      ? rows
      : (
          await pool.query<{ id: string; reference: string; received_at: Date }>(
            'select id, reference, received_at from complaints where tenant_id = $1 order by random() limit $2',
            [tenantId, SAMPLE],
          )
        ).rows;
  const { rows: events } = await pool.query<{ feed_position: string }>(
    `select feed_position::text from event_feed where tenant_id = $1 order by random() limit $2`,
    [tenantId, SAMPLE],
  );
  return {
    complaints: complaints.map((row) => ({
      id: row.id,
      reference: row.reference,
      receivedAt: row.received_at,
    })),
    feedCursors: events.map((row) => encodeCursor([Number(row.feed_position)])),
  };
}

export async function runScaleBenchmark(): Promise<void> {
  const sizes = sizesSetting();
  const smallSize = setting('BENCH_SCALE_SMALL', 1_000);
  const existing = process.env.BENCH_SCALE_DATABASE || undefined;
  const keep = process.env.BENCH_SCALE_KEEP === '1';
  const resources = await benchResources('scale', { keepDatabase: keep, databaseName: existing });
  const database = createDatabase({
    url: resources.databaseUrl,
    poolMax: 4,
    applicationName: 'redress-bench',
  });
  const children: Child[] = [];
  const startServices = async () => {
    const apiPort = await freePort();
    const workerMetricsPort = await freePort();
    const api = await startChild(
      'src/main.ts',
      apiEnv(resources, apiPort),
      () => false,
      async () => (await fetch(`http://127.0.0.1:${apiPort}/readyz`)).status === 200,
      DEPLOYED_NODE_FLAGS,
    );
    children.push(api);
    // The worker runs beside the API, as deployed: it relays events, breaches what falls due and
    // serves its own /metrics.
    const worker = await startChild(
      'src/worker.ts',
      appEnv(resources, { HOST: '127.0.0.1', WORKER_METRICS_PORT: String(workerMetricsPort) }),
      () => false,
      async () => (await fetch(`http://127.0.0.1:${workerMetricsPort}/metrics`)).status === 200,
      DEPLOYED_NODE_FLAGS,
    );
    children.push(worker);
    return {
      api,
      worker,
      base: `http://127.0.0.1:${apiPort}`,
      workerMetrics: `http://127.0.0.1:${workerMetricsPort}`,
    };
  };

  try {
    const services = createServices({ db: database.db, clock: systemClock, scheduler: null });
    const wanted = [
      { label: `small (${sizeLabel(smallSize)})`, name: 'Scale small', size: smallSize },
      ...sizes.map((size) => ({ label: sizeLabel(size), name: `Scale ${sizeLabel(size)}`, size })),
    ];
    const tenants: ScaleTenant[] = [];
    const build: Array<Record<string, string | number>> = [];
    let buildTimings: BuildTimings = {};
    console.log(
      `scale scenario: sizes ${sizes.map(sizeLabel).join(', ')} and a small tenant of ${sizeLabel(smallSize)}; ` +
        `${cpus().length} CPUs, load average ${loadavg()
          .map((value) => value.toFixed(2))
          .join(' ')}; database ${resources.databaseName}`,
    );

    if (existing) {
      for (const want of wanted) {
        const { rows } = await database.pool.query<{ id: string; count: number }>(
          `select t.id, (select count(*) from complaints c where c.tenant_id = t.id)::int as count
           from tenants t where t.name = $1`,
          [want.name],
        );
        if (!rows[0]) throw new Error(`BENCH_SCALE_DATABASE has no tenant '${want.name}'; build it first`);
        const { plaintextKey } = await services.tenancy.createApiKey(rows[0].id, {
          name: 'bench',
          scopes: ['admin'],
        });
        tenants.push({ ...want, tenantId: rows[0].id, key: plaintextKey });
        console.log(`  reusing tenant ${want.name}: ${rows[0].count.toLocaleString('en-US')} complaints`);
      }
    } else {
      for (const want of wanted) {
        const { tenant, plaintextKey } = await services.tenancy.createTenant(want.name);
        tenants.push({ ...want, tenantId: tenant.id, key: plaintextKey });
      }
      // The small tenant is made through the API; the others are cloned from it.
      const seeding = await startServices();
      const small = tenants[0]!;
      const started = performance.now();
      await seedThroughApi(seeding.base, small, small.size, database.pool);
      const seconds = (performance.now() - started) / 1000;
      console.log(`  ${small.label}: ${small.size} complaints through the API in ${seconds.toFixed(1)} s`);
      build.push({ tenant: small.label, complaints: small.size, how: 'through the API', seconds });
      for (const child of children.splice(0)) await child.stop();

      console.log('cloning:');
      const client = new pg.Client({
        connectionString: resources.databaseUrl,
        application_name: 'redress-bench-build',
      });
      await client.connect();
      try {
        buildTimings = await cloneToSize(client, small, tenants.slice(1), {
          eventRetentionDays: EVENT_RETENTION_DAYS,
          log: (line) => console.log(line),
        });
      } finally {
        await client.end();
      }
      for (const tenant of tenants.slice(1)) {
        build.push({
          tenant: tenant.label,
          complaints: tenant.size,
          how: `cloned from ${small.label}`,
          seconds: buildTimings[`clone ${tenant.label}`] ?? 0,
        });
      }
      for (const [name, seconds] of Object.entries(buildTimings)) {
        if (!name.startsWith('clone ')) build.push({ tenant: '', complaints: '', how: name, seconds });
      }
      console.log(`\n${table(build)}`);
    }
    const counts = await rowCounts(database.pool, tenants);
    console.log(`\n${table(counts)}`);
    const storage = await storagePerComplaint(database.pool);
    console.log(
      `\n${table(storage.rows)}\n\nstorage: ${storage.kbPerComplaint.toFixed(2)} KB per complaint, tables and ` +
        `indexes of the whole database over its ${storage.complaints.toLocaleString('en-US')} complaints ` +
        `(target ≤ ${TARGETS.storageKbPerComplaint} KB): ${verdict(storage.kbPerComplaint <= TARGETS.storageKbPerComplaint)}`,
    );

    const { base, workerMetrics, api, worker } = await startServices();
    const samples = new Map<string, TenantSample>();
    for (const tenant of tenants)
      samples.set(tenant.tenantId, await sampleTenant(database.pool, tenant.tenantId));

    const cpu: CpuSubjects = { serverPid: api.pid, workerPid: worker.pid, database: resources.databaseName };
    const small = tenants[0]!;
    const measured = tenants.slice(1);
    const largest = measured.at(-1)!;
    // A fresh API compiles as it goes: a pass over every operation first, on the small tenant,
    // so the first size timed does not pay for it.
    for (const op of operations(samples.get(small.tenantId)!)) {
      await time(base, small.key, op.request, cpu, { requests: 20, seconds: 3 });
    }
    // Each operation for every size in turn, so the sizes compared ran moments apart.
    const results = new Map<string, Map<string, Timing>>();
    const opsBySize = measured.map((tenant) => operations(samples.get(tenant.tenantId)!));
    for (const [k, { name }] of opsBySize[0]!.entries()) {
      const bySize = new Map<string, Timing>();
      results.set(name, bySize);
      for (const [index, tenant] of measured.entries()) {
        bySize.set(tenant.label, await time(base, tenant.key, opsBySize[index]![k]!.request, cpu));
      }
      console.log(
        `  ${name}: ${[...bySize]
          .map(([label, timing]) => `${label} p50 ${timing.p50.toFixed(1)} / p99 ${timing.p99.toFixed(1)} ms`)
          .join(', ')}`,
      );
    }
    const metrics = {
      api: await time(base, null, () => get('/metrics'), cpu),
      worker: await time(workerMetrics, null, () => get('/metrics'), cpu),
    };

    // The small tenant alone, then beside the largest one's heaviest reports.
    const smallOps = operations(samples.get(small.tenantId)!).filter((op) =>
      ['GET complaint by id', 'list: first page', 'POST complaint'].includes(op.name),
    );
    const alone = new Map<string, Timing>();
    for (const op of smallOps) alone.set(op.name, await time(base, small.key, op.request, cpu));
    const heavy = operations(samples.get(largest.tenantId)!).filter((op) =>
      ['daily inventory, past day', 'SLA compliance, a year'].includes(op.name),
    );
    const stopBeside = backgroundLoop(base, largest.key, (i) => heavy[i % heavy.length]!.request(i));
    const beside = new Map<string, Timing>();
    for (const op of smallOps) beside.set(op.name, await time(base, small.key, op.request, cpu));
    const besideLoad = await stopBeside();

    // The tables.
    const first = measured[0]!;
    const last = largest;
    const ratioName = measured.length > 1 ? `${last.label}/${first.label} p50` : 'ratio';
    const rows: Array<Record<string, string | number>> = [];
    const verdicts: Record<string, boolean> = {
      [`storage ≤ ${TARGETS.storageKbPerComplaint} KB per complaint`]:
        storage.kbPerComplaint <= TARGETS.storageKbPerComplaint,
    };
    for (const op of operations(samples.get(first.tenantId)!)) {
      const bySize = results.get(op.name)!;
      const row: Record<string, string | number> = { operation: op.name };
      for (const tenant of measured) {
        const timing = bySize.get(tenant.label)!;
        row[`${tenant.label} p50`] = timing.p50;
        row[`${tenant.label} p99`] = timing.p99;
      }
      const ratio = bySize.get(last.label)!.p50 / bySize.get(first.label)!.p50;
      row[ratioName] = measured.length > 1 ? ratio : Number.NaN;
      const target = targetOf(op.kind);
      const p99 = bySize.get(last.label)!.p99;
      const errors = [...bySize.values()].reduce((sum, timing) => sum + timing.errors, 0);
      const misses = [
        ...(errors > 0 ? [`${errors} errors`] : []),
        ...(target !== undefined && !(p99 <= target) ? ['p99'] : []),
        ...(measured.length > 1 && !(ratio <= TARGETS.maxRatio) ? ['ratio'] : []),
      ];
      row.target = `${target === undefined ? '' : `p99 ≤ ${target} ms, `}ratio ≤ ${TARGETS.maxRatio}`;
      row.result = misses.length === 0 ? 'PASS' : `MISS (${misses.join(', ')})`;
      verdicts[op.name] = misses.length === 0;
      rows.push(row);
    }
    for (const [name, timing] of [
      ['API /metrics', metrics.api],
      ['worker /metrics', metrics.worker],
    ] as const) {
      // /metrics counts across every tenant: one figure, for the whole database.
      const row: Record<string, string | number> = { operation: `${name} (whole database)` };
      for (const tenant of measured) {
        row[`${tenant.label} p50`] = tenant === last ? timing.p50 : '';
        row[`${tenant.label} p99`] = tenant === last ? timing.p99 : '';
      }
      row[ratioName] = '';
      const ok = timing.errors === 0 && timing.p99 <= TARGETS.metricsP99Ms;
      row.target = `p99 ≤ ${TARGETS.metricsP99Ms} ms`;
      row.result = verdict(ok);
      verdicts[name] = ok;
      rows.push(row);
    }
    const fewer = [...results].flatMap(([name, bySize]) =>
      [...bySize]
        .filter(([, timing]) => timing.requests < requestsPerOp)
        .map(([label, timing]) => `${name} at ${label}: ${timing.requests}`),
    );
    console.log(
      `\n${table(rows)}\n\nms, one request at a time, ${requestsPerOp} per operation and size after up to ` +
        `${warmupPerOp} warm-up (fewer when they took over ${secondsPerOp} s, never under 3; then p99 is about ` +
        `the slowest); the ratio is of p50; targets apply to the largest tenant (${last.label}).` +
        (fewer.length > 0 ? `\nfewer requests: ${fewer.join('; ')}.` : ''),
    );
    const noisy = [...results].flatMap(([name, bySize]) =>
      [...bySize]
        .filter(([, timing]) => timing.otherCpu > 20)
        .map(([label, timing]) => `${name} at ${label} (${Math.round(timing.otherCpu)} %)`),
    );
    if (noisy.length > 0) {
      console.log(
        `warning: processes outside the benchmark used CPU (of ${cpus().length * 100} %) during: ` +
          `${noisy.join('; ')}. Those figures are skewed; rerun on a quiet machine.`,
      );
    }
    for (const [name, bySize] of results) {
      for (const [label, timing] of bySize) {
        if (timing.errors > 0)
          console.log(`errors: ${name} at ${label}: ${timing.errors}, e.g. ${timing.errorSample}`);
      }
    }

    const besideRows = smallOps.map((op) => {
      const a = alone.get(op.name)!;
      const b = beside.get(op.name)!;
      const ratio = b.p50 / a.p50;
      const ok =
        a.errors + b.errors === 0 &&
        ratio <= TARGETS.besideRatio &&
        (op.kind !== 'read' || b.p99 <= TARGETS.readP99Ms);
      verdicts[`small tenant beside ${last.label}: ${op.name}`] = ok;
      return {
        [`small tenant (${sizeLabel(small.size)})`]: op.name,
        'alone p50': a.p50,
        'alone p99': a.p99,
        'beside p50': b.p50,
        'beside p99': b.p99,
        'p50 ratio': ratio,
        'p99 ratio': b.p99 / a.p99,
        target: `p50 ratio ≤ ${TARGETS.besideRatio}${op.kind === 'read' ? `, p99 ≤ ${TARGETS.readP99Ms} ms` : ''}`,
        result: verdict(ok),
      };
    });
    console.log(
      `\n${table(besideRows)}\n\nbeside: while one client ran ${last.label}'s past-day inventory and year ` +
        `compliance in a loop (${besideLoad.done} done, ${besideLoad.errors} errors).`,
    );

    await mkdir('bench/results', { recursive: true });
    const file = `bench/results/scale-${new Date().toISOString().replaceAll(':', '-')}.json`;
    await writeFile(
      file,
      `${JSON.stringify(
        {
          scenario: 'scale',
          at: new Date().toISOString(),
          machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
          database: resources.databaseName,
          sizes,
          smallSize,
          requestsPerOp,
          warmupPerOp,
          secondsPerOp,
          build,
          buildTimings,
          rowCounts: counts,
          storage,
          operations: Object.fromEntries(
            [...results].map(([name, bySize]) => [name, Object.fromEntries(bySize)]),
          ),
          metrics,
          smallTenant: { alone: Object.fromEntries(alone), beside: Object.fromEntries(beside), besideLoad },
          targets: TARGETS,
          verdicts,
        },
        null,
        2,
      )}\n`,
    );
    console.log(`\nwrote ${file}`);
    if (keep || existing) {
      console.log(
        `kept database ${resources.databaseName}: BENCH_SCALE_DATABASE=${resources.databaseName} times it again ` +
          `without building; drop it with: psql -c 'drop database "${resources.databaseName}"'`,
      );
    }
  } finally {
    for (const child of children) await child.stop();
    await database.close();
    await resources.cleanup();
  }
}

/**
 * What the database takes per complaint: each table with its indexes and TOAST, over every
 * complaint of every tenant. Rows rewritten by a migration leave dead space until VACUUM FULL, so
 * the figure that counts is a fresh build's.
 */
async function storagePerComplaint(pool: pg.Pool) {
  const { rows: sized } = await pool.query<{ name: string; bytes: string }>(
    `select c.relname as name, pg_total_relation_size(c.oid)::text as bytes
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p') order by pg_total_relation_size(c.oid) desc`,
  );
  const { rows: counted } = await pool.query<{ complaints: number }>(
    'select count(*)::int as complaints from complaints',
  );
  const complaints = Math.max(1, counted[0]!.complaints);
  const total = sized.reduce((sum, row) => sum + Number(row.bytes), 0);
  const rows = sized
    .filter((row) => Number(row.bytes) >= total / 200)
    .map((row) => ({
      table: row.name,
      MB: Number(row.bytes) / 1_048_576,
      'bytes per complaint': Number(row.bytes) / complaints,
      share: `${((100 * Number(row.bytes)) / total).toFixed(1)} %`,
    }));
  return { rows, complaints, kbPerComplaint: total / complaints / 1024 };
}

/** Rows per table and per complaint for each tenant: the clones keep the seeds' proportions. */
async function rowCounts(
  pool: pg.Pool,
  tenants: ScaleTenant[],
): Promise<Array<Record<string, string | number>>> {
  const tables = [
    'complaints',
    'deadlines',
    'complaint_timeline',
    'events',
    'communications',
    'escalations',
    'follow_ups',
  ];
  const rows: Array<Record<string, string | number>> = [];
  for (const tenant of tenants) {
    const row: Record<string, string | number> = { tenant: tenant.label };
    let complaints = 1;
    for (const name of tables) {
      const { rows: counted } = await pool.query<{ count: number }>(
        `select count(*)::int as count from "${name}" where tenant_id = $1`,
        [tenant.tenantId],
      );
      const count = counted[0]!.count;
      if (name === 'complaints') complaints = Math.max(1, count);
      row[name] =
        name === 'complaints'
          ? count
          : `${count.toLocaleString('en-US')} (${(count / complaints).toFixed(2)})`;
    }
    const { rows: open } = await pool.query<{ open: number; breached: number }>(
      `select (select count(*) from complaints where tenant_id = $1
                 and status in ('received', 'acknowledged', 'investigating', 'awaiting_customer'))::int as open,
              (select count(*) from deadlines where tenant_id = $1 and status = 'breached')::int as breached`,
      [tenant.tenantId],
    );
    row['open %'] = (100 * open[0]!.open) / complaints;
    row['breached deadlines'] = open[0]!.breached;
    rows.push(row);
  }
  return rows;
}
