/**
 * `npm run bench [-- api|deadlines …]`: runs the chosen scenarios (all by default), each on its
 * own database and Redis prefix, printing figures and ratios against baselines from the same run.
 */
import { runApiBenchmark } from './api.bench.js';
import { runDeadlineBenchmark } from './deadlines.bench.js';

const scenarios: Record<string, () => Promise<void>> = {
  api: runApiBenchmark,
  deadlines: runDeadlineBenchmark,
};

const chosen = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const names = chosen.length > 0 ? chosen : Object.keys(scenarios);
for (const name of names) {
  const scenario = scenarios[name];
  if (!scenario) {
    console.error(`unknown scenario '${name}'; choose from ${Object.keys(scenarios).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n=== ${name} ===`);
  await scenario();
}
process.exit(0);
