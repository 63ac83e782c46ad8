import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { deleteKeysUnder, redisTargetOf } from './redis-keys.js';
import { ensureServices, testServices } from './services.js';
import { createTestDatabase, dropTestDatabase } from './test-database.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    /** TEST_REDIS_CLUSTER_NODES: when set, every test talks to this Redis Cluster instead. */
    redisClusterNodes: string;
    redisPrefix: string;
  }
}

/**
 * One fresh database per test run, migrated from the committed migrations (and distributed, on
 * Citus: see test/test-database.ts), dropped at the end.
 * Runs never collide and never need a manual reset; tests isolate from each other by tenant.
 */
export default async function setup(project: TestProject) {
  await ensureServices();
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const databaseName = `redress_test_${runId}`;
  const databaseUrl = await createTestDatabase(testServices.adminDatabaseUrl, databaseName);

  project.provide('databaseUrl', databaseUrl);
  project.provide('redisUrl', testServices.redisUrl);
  project.provide('redisClusterNodes', testServices.redisClusterNodes);
  const redisPrefix = `redress-test-${runId}`;
  project.provide('redisPrefix', redisPrefix);

  return async () => {
    await dropTestDatabase(testServices.adminDatabaseUrl, databaseName);
    // Files that need a database of their own (test/isolated-database.ts) name it after the run's;
    // they drop it themselves, but not when a run is killed.
    const cleanup = new pg.Client({ connectionString: testServices.adminDatabaseUrl });
    await cleanup.connect();
    const { rows } = await cleanup.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`,
      [`${databaseName}_`],
    );
    await cleanup.end();
    for (const { datname } of rows) await dropTestDatabase(testServices.adminDatabaseUrl, datname);
    const redis = testServices.redisClusterNodes
      ? redisTargetOf({ REDIS_CLUSTER_NODES: testServices.redisClusterNodes })
      : redisTargetOf({ REDIS_URL: testServices.redisUrl });
    await deleteKeysUnder(redis, redisPrefix);
  };
}
