/**
 * Shared plumbing for the benchmarks: a throw-away database and Redis prefix, child processes
 * for the real API and worker, autocannon runs, CPU sampling and the printed tables. Benchmarks
 * only ever talk to this machine (127.0.0.1) and stop by themselves.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import pg from 'pg';
import { loadEnv } from '../src/config/env.js';
import { runMigrations } from '../src/db/migrate.js';
import { createRedis, type RedisClient, redisTarget, scanKeys, unlinkKeys } from '../src/lib/redis.js';

export const adminDatabaseUrl =
  process.env.BENCH_DATABASE_URL ??
  process.env.DATABASE_URL ??
  'postgres://postgres:redress@127.0.0.1:5432/postgres';
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * The Redis every scenario's processes use: REDIS_CLUSTER_NODES's cluster when set (see
 * test/redis-cluster.sh), else REDIS_URL's server. Both are passed, one empty (which reads as
 * unset), so neither leaks in from the environment.
 */
export const redisEnv = process.env.REDIS_CLUSTER_NODES
  ? { REDIS_URL: '', REDIS_CLUSTER_NODES: process.env.REDIS_CLUSTER_NODES }
  : { REDIS_URL: redisUrl, REDIS_CLUSTER_NODES: '' };
export const benchRedisTarget = redisTarget(loadEnv({ DATABASE_URL: adminDatabaseUrl, ...redisEnv }));

/** A connection to the scenarios' Redis, connected. */
export async function connectBenchRedis(): Promise<RedisClient> {
  const redis = createRedis(benchRedisTarget, 'request');
  await redis.connect();
  return redis;
}

/** Seconds per measured run and per warm-up, and concurrent connections, shared by every scenario. */
export const benchDuration = positiveNumber('BENCH_DURATION', 10);
export const benchWarmup = positiveNumber('BENCH_WARMUP', 3);
export const benchConnections = positiveNumber('BENCH_CONNECTIONS', 50);

function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

// Everything still to undo, so Ctrl-C or a crash in one scenario does not leave databases,
// Redis keys or listening servers behind (earlier interrupted runs did exactly that).
const pendingCleanups = new Set<() => Promise<void>>();

/** Runs every registered cleanup once; safe to call from a signal handler. */
export async function cleanupAll(): Promise<void> {
  const cleanups = [...pendingCleanups].reverse();
  pendingCleanups.clear();
  for (const cleanup of cleanups) {
    await cleanup().catch((error) => console.error('cleanup failed:', error));
  }
}

function registerCleanup(cleanup: () => Promise<void>): () => Promise<void> {
  let done = false;
  const runOnce = async () => {
    if (done) return;
    done = true;
    pendingCleanups.delete(runOnce);
    await cleanup();
  };
  pendingCleanups.add(runOnce);
  return runOnce;
}

export interface BenchResources {
  databaseUrl: string;
  databaseName: string;
  redisPrefix: string;
  cleanup(): Promise<void>;
}

/**
 * A fresh, migrated database and a unique Redis prefix; `cleanup` drops both. With `keepDatabase`
 * the database outlives the run, and with `databaseName` an existing one (migrated up to date) is
 * used and kept: a scenario whose data takes long to build can build it once.
 */
export async function benchResources(
  name: string,
  options: { keepDatabase?: boolean; databaseName?: string } = {},
): Promise<BenchResources> {
  const id = `${name}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const databaseName = options.databaseName ?? `redress_bench_${id}`;
  const keep = options.keepDatabase === true || options.databaseName !== undefined;
  const redisPrefix = `redress-bench-${id}`;
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${databaseName}`;
  const cleanup = registerCleanup(async () => {
    const redis = await connectBenchRedis();
    try {
      for await (const keys of scanKeys(redis, `${redisPrefix}:*`, 1000)) await unlinkKeys(redis, keys);
    } finally {
      redis.disconnect();
    }
    if (!keep) {
      await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`));
    }
  });
  try {
    if (options.databaseName === undefined) {
      await withAdmin((admin) => admin.query(`CREATE DATABASE "${databaseName}"`));
    }
    await runMigrations(url.toString());
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { databaseUrl: url.toString(), databaseName, redisPrefix, cleanup };
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminDatabaseUrl, application_name: 'redress-bench' });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

/**
 * With BENCH_TRACING=<ratio> (0.1 for 10 %), the environment that turns tracing on in the API and
 * the worker: sampled at that ratio, exported over OTLP/HTTP (protobuf, the default a collector
 * expects) to a sink in this process that reads each export and answers 200, so what is measured
 * is the processes' own cost and not a collector's. Empty, and no sink, when unset.
 */
export async function benchTracingEnv(): Promise<Record<string, string>> {
  const ratio = process.env.BENCH_TRACING;
  if (!ratio) return {};
  if (!(Number(ratio) >= 0 && Number(ratio) <= 1))
    throw new Error(`BENCH_TRACING must be a ratio from 0 to 1, not '${ratio}'`);
  let exported = 0;
  const sink = createHttpServer((request, response) => {
    request.on('data', (chunk: Buffer) => {
      exported += chunk.length;
    });
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  sink.listen(0, '127.0.0.1');
  await once(sink, 'listening');
  const { port } = sink.address() as AddressInfo;
  registerCleanup(async () => {
    console.log(`  tracing at ${ratio}: ${(exported / 1e6).toFixed(1)} MB of spans exported`);
    sink.closeAllConnections();
    await new Promise<void>((resolve) => sink.close(() => resolve()));
  });
  return {
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: ratio,
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface Child {
  process: ChildProcess;
  pid: number;
  lines: string[];
  stop(): Promise<void>;
}

/**
 * The Node flags the image runs the API and the worker with (NODE_OPTIONS in the Dockerfile), read
 * from the Dockerfile itself so the benchmark measures the processes as deployed.
 */
export const DEPLOYED_NODE_FLAGS: string[] = (
  /^ENV NODE_OPTIONS=(.*)$/m.exec(readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8'))?.[1] ?? ''
)
  .split(' ')
  .filter(Boolean);

/** The environment every Redress process of a scenario starts with: its database, Redis prefix, production mode. */
export function appEnv(
  resources: BenchResources,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: resources.databaseUrl,
    ...redisEnv,
    REDIS_PREFIX: resources.redisPrefix,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    ...extra,
  };
}

/** The environment of the API under test, listening on 127.0.0.1:`port`. */
export function apiEnv(resources: BenchResources, port: number, extra: Record<string, string> = {}) {
  return appEnv(resources, {
    PORT: String(port),
    HOST: '127.0.0.1',
    // Far above what a run can send, so the limiter counts (its Redis round trip is part of every
    // real request) but never throttles.
    RATE_LIMIT_MAX: '100000000',
    ...extra,
  });
}

/**
 * Starts a TypeScript entry point under node with the tsx loader (so the pid is the server
 * itself, not an npx wrapper, and its CPU can be sampled) and waits until it is ready: when
 * `ready` accepts an output line or `pollReady` answers true.
 */
export async function startChild(
  entry: string,
  env: Record<string, string>,
  ready: (line: string) => boolean | Promise<boolean>,
  pollReady?: () => Promise<boolean>,
  nodeArgs: string[] = [],
): Promise<Child> {
  // Redress's entry points start with the tracing preload, as the image starts them.
  const preload = entry.startsWith('src/') ? ['--import', './src/tracing.ts'] : [];
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', ...preload, entry], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  const stop = registerCleanup(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  });
  const lines: string[] = [];
  let isReady = false;
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', async (line) => {
      if (lines.length < 2_000) lines.push(line);
      if (!isReady && (await ready(line))) isReady = true;
    });
  }
  const started = Date.now();
  try {
    while (!isReady) {
      if (child.exitCode !== null) throw new Error(`${entry} exited early:\n${lines.join('\n')}`);
      if (Date.now() - started > 30_000) throw new Error(`${entry} did not start:\n${lines.join('\n')}`);
      if (pollReady && (await pollReady().catch(() => false))) isReady = true;
      else await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { process: child, pid: child.pid!, lines, stop };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU used during a measured run, in % of one core (so 200 % is this whole 2-core machine). */
export interface CpuUse {
  /** The server under test (API or hello-world child), when there is one. */
  server?: number;
  /** The worker running beside the API (the outbox relay), when there is one. */
  worker?: number;
  /** PostgreSQL: its shared processes and the benchmark database's backends. */
  postgres: number;
  /** The Redis server. */
  redis: number;
  /** This process: the load generator (autocannon or the raw pg client). */
  loadgen: number;
  /** The whole machine, busy time of all cores. */
  machine: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

async function processTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the ')' closing the command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
}

/**
 * CPU of the PostgreSQL server (shared processes such as the WAL writer, plus the backends of
 * `database` but not those serving other databases, so a test run next door is not counted as
 * ours) and of Redis (where the API counts rate limits and arms deadline jobs), per process.
 */
async function serviceTicks(
  database?: string,
): Promise<Map<number, { service: 'postgres' | 'redis'; ticks: number }>> {
  const ticks = new Map<number, { service: 'postgres' | 'redis'; ticks: number }>();
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '');
    if (comm.startsWith('redis-server')) {
      ticks.set(Number(entry), { service: 'redis', ticks: await processTicks(Number(entry)) });
      continue;
    }
    if (!comm.startsWith('postgres')) continue;
    const title = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    // A backend's title is `postgres: <cluster>: <user> <database> <host>(<port>) <state>`.
    const backendOf = /^postgres: [^:]+: \S+ (\S+) (?:\S+\(\d+\)|\[local\])/.exec(title)?.[1];
    if (database && backendOf && backendOf !== database) continue;
    ticks.set(Number(entry), { service: 'postgres', ticks: await processTicks(Number(entry)) });
  }
  return ticks;
}

/**
 * Ticks each service used between two readings. Per process: one that ended in between (a
 * connection closed, a parallel worker done) would otherwise subtract its whole lifetime, and one
 * that started in between counts from zero.
 */
function serviceTicksBetween(
  start: Map<number, { service: 'postgres' | 'redis'; ticks: number }>,
  end: Map<number, { service: 'postgres' | 'redis'; ticks: number }>,
): { postgres: number; redis: number } {
  const used = { postgres: 0, redis: 0 };
  for (const [pid, { service, ticks }] of end) {
    const before = start.get(pid);
    used[service] += Math.max(0, ticks - (before?.service === service ? before.ticks : 0));
  }
  return used;
}

async function machineTicks(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8').catch(() => 'cpu 0')).split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((sum, value) => sum + value, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

export interface CpuSubjects {
  /** The server under test. */
  serverPid?: number;
  /** The worker process deployed beside it. */
  workerPid?: number;
  /** The benchmark's database, whose backends count as PostgreSQL's share. */
  database?: string;
}

/** Starts sampling CPU; the returned function ends the sample and gives the use since the start. */
export async function sampleCpu({
  serverPid,
  workerPid,
  database,
}: CpuSubjects = {}): Promise<() => Promise<CpuUse>> {
  const cores = cpus().length;
  const read = async () => ({
    at: performance.now(),
    server: serverPid === undefined ? 0 : await processTicks(serverPid),
    worker: workerPid === undefined ? 0 : await processTicks(workerPid),
    services: await serviceTicks(database),
    loadgen: process.cpuUsage(),
    machine: await machineTicks(),
  });
  const start = await read();
  return async () => {
    const end = await read();
    const seconds = (end.at - start.at) / 1000;
    const percent = (ticks: number) => (100 * ticks) / TICKS_PER_SECOND / seconds;
    const loadgen = process.cpuUsage(start.loadgen);
    const machineTotal = end.machine.total - start.machine.total;
    const services = serviceTicksBetween(start.services, end.services);
    return {
      ...(serverPid === undefined ? {} : { server: percent(end.server - start.server) }),
      ...(workerPid === undefined ? {} : { worker: percent(end.worker - start.worker) }),
      postgres: percent(services.postgres),
      redis: percent(services.redis),
      loadgen: (100 * (loadgen.user + loadgen.system)) / 1e6 / seconds,
      machine: machineTotal > 0 ? (100 * cores * (end.machine.busy - start.machine.busy)) / machineTotal : 0,
    };
  };
}

export interface LoadResult {
  name: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  max?: number;
  /** Responses outside 2xx. */
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  total: number;
  statusCodes?: Record<string, number>;
  /** A few non-2xx answers, to say what went wrong. */
  errorSamples?: string[];
  cpu?: CpuUse;
}

/**
 * One autocannon run: a short warm-up, then the measured run with CPU sampled alongside.
 * `afterWarmup` runs between the two, outside the measurement.
 */
export async function load(
  name: string,
  options: autocannon.Options,
  sample: CpuSubjects = {},
  afterWarmup?: () => Promise<void>,
): Promise<LoadResult> {
  await autocannon({ ...options, duration: benchWarmup });
  await afterWarmup?.();
  const errorSamples: string[] = [];
  // Bodies are only kept for failures, so the measured run pays for one callback per response.
  const keepErrors = (status: number, body: string) => {
    if ((status < 200 || status > 299) && errorSamples.length < 3)
      errorSamples.push(`${status} ${body.slice(0, 300)}`);
  };
  const measured = {
    ...options,
    duration: benchDuration,
    ...(options.requests
      ? { requests: options.requests.map((request) => ({ ...request, onResponse: keepErrors })) }
      : { requests: [{ onResponse: keepErrors }] }),
  };
  const stopCpu = await sampleCpu(sample);
  const result = await autocannon(measured);
  const cpu = await stopCpu();
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0]),
  );
  return {
    name,
    requestsPerSecond: result.requests.total / benchDuration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
    statusCodes,
    errorSamples,
    cpu,
  };
}

/**
 * Runs `task` on `concurrency` loops for the warm-up and then the measured duration, timing each
 * call: the baseline for work done without the API in between.
 */
export async function closedLoop(
  name: string,
  concurrency: number,
  task: () => Promise<void>,
  sample: CpuSubjects = {},
): Promise<LoadResult> {
  let latencies: number[] = [];
  let errors = 0;
  let firstError: unknown;
  const runFor = async (seconds: number) => {
    const until = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) {
          const started = performance.now();
          try {
            await task();
            latencies.push(performance.now() - started);
          } catch (error) {
            errors += 1;
            firstError ??= error;
          }
        }
      }),
    );
  };
  await runFor(benchWarmup);
  latencies = [];
  errors = 0;
  const stopCpu = await sampleCpu(sample);
  const started = performance.now();
  await runFor(benchDuration);
  const elapsed = (performance.now() - started) / 1000;
  const cpu = await stopCpu();
  latencies.sort((a, b) => a - b);
  return {
    name,
    requestsPerSecond: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1),
    non2xx: 0,
    errors,
    total: latencies.length,
    errorSamples: firstError === undefined ? [] : [String(firstError)],
    cpu,
  };
}

/** Percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The side-by-side table every scenario prints for its load results. */
export function resultsTable(results: LoadResult[]): string {
  const cpu = (value: number | undefined) => (value === undefined ? '-' : `${Math.round(value)} %`);
  return table(
    results.map((r) => ({
      scenario: r.name,
      'req/s': r.requestsPerSecond,
      'p50 ms': r.p50,
      'p99 ms': r.p99,
      'max ms': r.max ?? Number.NaN,
      errors: r.non2xx + r.errors,
      total: r.total,
      'server cpu': cpu(r.cpu?.server),
      'worker cpu': cpu(r.cpu?.worker),
      'pg cpu': cpu(r.cpu?.postgres),
      'redis cpu': cpu(r.cpu?.redis),
      'loadgen cpu': cpu(r.cpu?.loadgen),
      'machine cpu': cpu(r.cpu?.machine),
      // Busy time nobody in this benchmark accounts for: another job on the machine skews the run.
      'other cpu': cpu(otherCpu(r)),
    })),
  );
}

/** Busy CPU not accounted to the benchmark's own processes, in % of one core. */
export function otherCpu(result: LoadResult): number | undefined {
  const cpu = result.cpu;
  if (!cpu) return undefined;
  return Math.max(
    0,
    cpu.machine - (cpu.server ?? 0) - (cpu.worker ?? 0) - cpu.postgres - cpu.redis - cpu.loadgen,
  );
}

/** One line per run that shared the machine with something else, or none. */
export function noiseWarnings(results: LoadResult[], thresholdPercent = 20): string[] {
  return results.flatMap((result) => {
    const other = otherCpu(result);
    return other !== undefined && other > thresholdPercent
      ? [
          `warning: other processes used ${Math.round(other)} % CPU during '${result.name}'; ` +
            'its figures are low and the ratios skewed. Rerun on a quiet machine.',
        ]
      : [];
  });
}

export function table(rows: Array<Record<string, string | number>>): string {
  const columns = Object.keys(rows[0] ?? {});
  const cell = (value: string | number) => (typeof value === 'number' ? formatNumber(value) : value);
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => cell(row[column] ?? '').length)),
  );
  // Numbers right-aligned so magnitudes line up; text left-aligned.
  const align = (value: string | number | undefined, i: number) =>
    typeof value === 'number' ? cell(value).padStart(widths[i]!) : cell(value ?? '').padEnd(widths[i]!);
  return [
    columns.map((column, i) => column.padEnd(widths[i]!)).join('  '),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map((row) => columns.map((column, i) => align(row[column], i)).join('  ')),
  ].join('\n');
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(Math.abs(value) >= 10 ? 1 : 2);
}

export const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
