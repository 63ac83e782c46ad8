import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { serverSettingWarnings } from './server-settings.js';
import { analyzeStaleTables } from './statistics.js';

/** The committed drizzle-kit migrations, next to src/ in the repository and in the image. */
export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

// Arbitrary but fixed: every Redress process that migrates takes this advisory lock first.
const MIGRATION_LOCK_ID = 7_361_022_001;

/**
 * Applies every pending migration. drizzle's migrator takes no lock of its own, so this holds
 * a session advisory lock: an api, a worker and a one-shot migrate step started together
 * apply each migration exactly once. Then it analyses the tables whose statistics have gone
 * stale (analyzeStaleTables), as autovacuum would. Returns what the server should have on and
 * has not (see serverSettingWarnings), for the caller to report.
 */
export async function runMigrations(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'redress-migrate' });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    await migrate(drizzle(client), { migrationsFolder });
    await analyzeStaleTables(client);
    return await serverSettingWarnings(client);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => {});
    await client.end();
  }
}
