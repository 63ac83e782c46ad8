/**
 * `npm run bench [-- api|deadlines|graphql|scale|webhooks …]`: runs the chosen scenarios (all but scale by default), each on its
 * own database and Redis prefix, printing figures and ratios against baselines from the same run.
 * A missed target is reported, not an exit status: the figures depend on the machine.
 */
import { runApiBenchmark } from './api.bench.js';
import { runDeadlineBenchmark } from './deadlines.bench.js';
import { runGraphqlBenchmark } from './graphql.bench.js';
import { cleanupAll } from './lib.js';
import { runScaleBenchmark } from './scale.bench.js';
import { runWebhookBenchmark } from './webhooks.bench.js';

const scenarios: Record<string, () => Promise<void>> = {
  api: runApiBenchmark,
  deadlines: runDeadlineBenchmark,
  graphql: runGraphqlBenchmark,
  scale: runScaleBenchmark,
  webhooks: runWebhookBenchmark,
};

/** Scenarios that run only when named: scale builds a million complaints, which takes a while. */
const onlyWhenNamed = new Set(['scale']);

const chosen = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const names = chosen.length > 0 ? chosen : Object.keys(scenarios).filter((name) => !onlyWhenNamed.has(name));
const unknown = names.filter((name) => !scenarios[name]);
if (unknown.length > 0) {
  console.error(`unknown scenario '${unknown[0]}'; choose from ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}

// try/finally does not run when a signal ends the process, so Ctrl-C would otherwise leave the
// bench database, its Redis keys and the child servers behind. npm and tsx pass on a second
// signal of their own right after the first; exiting on that one would cut the cleanup short.
let cleaningUp = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (cleaningUp) return;
    cleaningUp = true;
    console.error(`\n${signal}: cleaning up`);
    setTimeout(() => process.exit(130), 30_000).unref();
    void cleanupAll().finally(() => process.exit(130));
  });
}

let failed = false;
for (const name of names) {
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  try {
    await scenarios[name]!();
  } catch (error) {
    failed = true;
    console.error(`scenario ${name} failed:`, error);
  } finally {
    await cleanupAll();
  }
  console.log(`${name} took ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
// Open handles (pg pools, ioredis) must not keep the process alive after the report.
process.exit(failed ? 1 : 0);
