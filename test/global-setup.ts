import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { runMigrations } from '../src/db/migrate.js';
import { deleteKeysUnder } from './redis-keys.js';
import { ensureServices, testServices } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    redisPrefix: string;
  }
}

/**
 * One fresh database per test run, migrated from the committed migrations, dropped at the end.
 * Runs never collide and never need a manual reset; tests isolate from each other by tenant.
 */
export default async function setup(project: TestProject) {
  await ensureServices();
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const databaseName = `redress_test_${runId}`;
  const admin = new pg.Client({ connectionString: testServices.adminDatabaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${databaseName}"`);
  await admin.end();

  const databaseUrl = new URL(testServices.adminDatabaseUrl);
  databaseUrl.pathname = `/${databaseName}`;
  await runMigrations(databaseUrl.toString());

  project.provide('databaseUrl', databaseUrl.toString());
  project.provide('redisUrl', testServices.redisUrl);
  const redisPrefix = `redress-test-${runId}`;
  project.provide('redisPrefix', redisPrefix);

  return async () => {
    const cleanup = new pg.Client({ connectionString: testServices.adminDatabaseUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
    // Files that need a database of their own (test/isolated-database.ts) name it after the run's;
    // they drop it themselves, but not when a run is killed.
    const { rows } = await cleanup.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`,
      [`${databaseName}_`],
    );
    for (const { datname } of rows) await cleanup.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await cleanup.end();
    await deleteKeysUnder(testServices.redisUrl, redisPrefix);
  };
}
