/**
 * Shared plumbing for the benchmarks: a throw-away database and Redis prefix, child processes
 * for the real API and worker, autocannon runs and the printed tables. Benchmarks only ever talk
 * to this machine (127.0.0.1) and stop by themselves.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';
import { runMigrations } from '../src/db/migrate.js';

export const adminDatabaseUrl =
  process.env.BENCH_DATABASE_URL ??
  process.env.DATABASE_URL ??
  'postgres://postgres:redress@127.0.0.1:5432/postgres';
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface BenchResources {
  databaseUrl: string;
  redisPrefix: string;
  cleanup(): Promise<void>;
}

/** A fresh, migrated database and a unique Redis prefix; `cleanup` drops both. */
export async function benchResources(name: string): Promise<BenchResources> {
  const id = `${name}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const databaseName = `redress_bench_${id}`;
  const admin = new pg.Client({ connectionString: adminDatabaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${databaseName}"`);
  await admin.end();
  const url = new URL(adminDatabaseUrl);
  url.pathname = `/${databaseName}`;
  await runMigrations(url.toString());
  const redisPrefix = `redress-bench-${id}`;
  return {
    databaseUrl: url.toString(),
    redisPrefix,
    async cleanup() {
      const redis = new Redis(redisUrl);
      for await (const keys of redis.scanStream({ match: `${redisPrefix}:*`, count: 1000 })) {
        if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
      }
      redis.disconnect();
      const dropper = new pg.Client({ connectionString: adminDatabaseUrl });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
      await dropper.end();
    },
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
  lines: string[];
  stop(): Promise<void>;
}

/** Starts a TypeScript entry point with tsx and waits until `ready` says so. */
export async function startChild(
  entry: string,
  env: Record<string, string>,
  ready: (line: string) => boolean | Promise<boolean>,
  pollReady?: () => Promise<boolean>,
): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let isReady = false;
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', async (line) => {
      if (lines.length < 2_000) lines.push(line);
      if (!isReady && (await ready(line))) isReady = true;
    });
  }
  const exited = once(child, 'exit');
  const started = Date.now();
  while (!isReady) {
    if (child.exitCode !== null) throw new Error(`${entry} exited early:\n${lines.join('\n')}`);
    if (Date.now() - started > 30_000) throw new Error(`${entry} did not start:\n${lines.join('\n')}`);
    if (pollReady && (await pollReady().catch(() => false))) isReady = true;
    await sleep(100);
  }
  return {
    process: child,
    lines,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface LoadResult {
  name: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  max?: number;
  errors: number;
  total: number;
}

/** One autocannon run: a short warm-up, then the measured run. */
export async function load(
  name: string,
  options: autocannon.Options,
  warmupSeconds = 3,
): Promise<LoadResult> {
  await autocannon({ ...options, duration: warmupSeconds });
  const result = await autocannon(options);
  return {
    name,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors + result.timeouts + result.non2xx,
    total: result.requests.total,
  };
}

/** Percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function table(rows: Array<Record<string, string | number>>): string {
  const columns = Object.keys(rows[0] ?? {});
  const cell = (value: string | number) => (typeof value === 'number' ? formatNumber(value) : value);
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => cell(row[column] ?? '').length)),
  );
  const line = (values: string[]) => values.map((value, i) => value.padEnd(widths[i]!)).join('  ');
  return [
    line(columns),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((row) => line(columns.map((c) => cell(row[c] ?? '')))),
  ].join('\n');
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
}

export const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
