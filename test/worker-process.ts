import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';

export interface WorkerProcess {
  child: ChildProcess;
  /** Log lines the worker printed (pino JSON). */
  lines: string[];
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<void>;
  /** SIGKILL: the process dies wherever it is, as in a crash. */
  kill(): Promise<void>;
}

/** Starts `src/worker.ts` as its own process, as production runs it, and waits until it is up. */
export async function startWorkerProcess(
  env: Record<string, string>,
  startTimeoutMs = 45_000,
): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', './src/tracing.ts', 'src/worker.ts'],
    {
      env: { ...process.env, LOG_LEVEL: 'info', WORKER_METRICS_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  const started = new Promise<void>((resolve, reject) => {
    // A worker that did not start in time is killed, or it would run on after the test, unseen.
    const timeout = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker did not start:\n${lines.join('\n')}`));
    }, startTimeoutMs);
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        if (line.includes('"worker started"')) {
          clearTimeout(timeout);
          resolve();
        }
      });
    }
    child.once('exit', (code) => {
      clearTimeout(timeout);
      reject(new Error(`worker exited with ${code}:\n${lines.join('\n')}`));
    });
  });
  await started;
  const exited = once(child, 'exit');
  return {
    child,
    lines,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts `src/main.ts` as its own API process, as production runs it, and waits until it is ready. */
export async function startApiProcess(
  env: Record<string, string>,
  startTimeoutMs = 45_000,
): Promise<WorkerProcess & { url: string }> {
  const port = env.PORT ?? '0';
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', './src/tracing.ts', 'src/main.ts'], {
    env: { ...process.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env, PORT: port },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => lines.push(line));
  }
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;
  try {
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`API exited with ${child.exitCode}:\n${lines.join('\n')}`);
      const res = await fetch(`${url}/readyz`).catch(() => null);
      return res?.status === 200;
    }, startTimeoutMs);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    child,
    lines,
    url,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A TCP port nothing listens on now, for a process that takes its port from the environment. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
