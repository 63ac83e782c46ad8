import pg from 'pg';
import { createDatabase } from '../src/db/client.js';
import { distributeTables } from '../src/db/distribution.js';
import { runMigrations } from '../src/db/migrate.js';

/**
 * The worker nodes of a Citus cluster whose coordinator is the test server, when the suite runs on
 * Citus: their admin URLs, comma-separated, in TEST_CITUS_WORKER_URLS. Without it the suite runs on
 * plain PostgreSQL.
 */
export const citusWorkerUrls = (): string[] =>
  (process.env.TEST_CITUS_WORKER_URLS ?? '')
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean);

/**
 * Shards per distributed table in a test database. Citus's default of 32 makes over a thousand
 * shards for Redress's tables, and every test database would spend its first minute creating them;
 * four still put every tenant's rows on one node of two and spread tenants over both.
 */
const TEST_SHARD_COUNT = 4;

async function run(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

const inDatabase = (url: string, name: string): string => {
  const located = new URL(url);
  located.pathname = `/${name}`;
  return located.toString();
};

/**
 * Creates database `name` beside `adminUrl` (any database on the same server), migrated, and
 * returns its URL. On Citus (citusWorkerUrls) it is created on every node, its nodes registered
 * with the coordinator, and its tables distributed after the migrations, as an operator deploys it
 * (`npm run cli -- db distribute`). `migrate: false` leaves it empty and on the coordinator alone;
 * `distribute: false` migrates it there alone, as a database on one server.
 */
export async function createTestDatabase(
  adminUrl: string,
  name: string,
  { migrate = true, distribute = true }: { migrate?: boolean; distribute?: boolean } = {},
): Promise<string> {
  const url = inDatabase(adminUrl, name);
  const workers = migrate && distribute ? citusWorkerUrls() : [];
  for (const worker of workers) {
    await run(worker, [`CREATE DATABASE "${name}"`]);
    await run(inDatabase(worker, name), ['CREATE EXTENSION citus']);
  }
  await run(adminUrl, [`CREATE DATABASE "${name}"`]);
  if (workers.length > 0) {
    const coordinator = new URL(adminUrl);
    await run(url, [
      'CREATE EXTENSION citus',
      `ALTER DATABASE "${name}" SET citus.shard_count = ${TEST_SHARD_COUNT}`,
      `SELECT citus_set_coordinator_host('${coordinator.hostname}', ${Number(coordinator.port || 5432)})`,
      ...workers.map((worker) => {
        const { hostname, port } = new URL(worker);
        return `SELECT citus_add_node('${hostname}', ${Number(port || 5432)})`;
      }),
    ]);
  }
  if (!migrate) return url;
  await runMigrations(url);
  if (workers.length > 0) {
    const db = createDatabase({ url, poolMax: 1, applicationName: 'redress-test-setup' });
    try {
      await distributeTables(db.db);
    } finally {
      await db.close();
    }
  }
  return url;
}

/** Drops database `name` from the test server, and from the Citus workers if there are any. */
export async function dropTestDatabase(adminUrl: string, name: string): Promise<void> {
  await run(adminUrl, [`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`]);
  for (const worker of citusWorkerUrls())
    await run(worker, [`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`]);
}
