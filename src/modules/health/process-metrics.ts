import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';

/**
 * prom-client's default metrics that `promtool check metrics` refuses: gauges named `_total`,
 * the suffix of counters. Each is the sum of its by-type gauge (`…_active_handles{type}` and so
 * on), which stays, so nothing is lost: `sum(redress_api_nodejs_active_handles)` is the total.
 */
const MISNAMED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** The version in the nearest package.json above this file: the checkout's, or the image's /app. */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file))
      return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

/**
 * A process's own metrics under `prefix` (CPU, memory, event loop, GC), less the misnamed ones,
 * and `redress_build_info`: which version, commit and Node.js the process runs.
 */
export function registerProcessMetrics(
  registry: Registry,
  options: { prefix: string; commit?: string },
): void {
  collectDefaultMetrics({ register: registry, prefix: options.prefix });
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(`${options.prefix}${name}`);
  new Gauge({
    name: 'redress_build_info',
    help: 'Always 1; its labels say which version, commit and Node.js version this process runs',
    labelNames: ['version', 'commit', 'node_version'],
    registers: [registry],
  }).set(
    { version: packageVersion(), commit: options.commit ?? 'unknown', node_version: process.version },
    1,
  );
}
