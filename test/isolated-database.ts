import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { startTestApp, type TestApp } from './harness.js';
import { deleteKeysUnder, testRedisTarget } from './redis-keys.js';
import { createTestDatabase, dropTestDatabase } from './test-database.js';

export interface IsolatedDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A database of its own for a test file whose worker process must not share work with the
 * workers of other files: every worker's relay and dispatcher serve every tenant of its database,
 * so a neighbour's worker would otherwise attempt this file's deliveries under its own settings.
 */
export async function createIsolatedDatabase(
  label: string,
  options: { distribute?: boolean } = {},
): Promise<IsolatedDatabase> {
  const runUrl = inject('databaseUrl');
  const name = `${new URL(runUrl).pathname.slice(1)}_${label}_${randomBytes(3).toString('hex')}`;
  const url = await createTestDatabase(runUrl, name, options);
  return { url, drop: () => dropTestDatabase(runUrl, name) };
}

/** A test app on a database and Redis prefix of its own (see createIsolatedDatabase). */
export interface IsolatedTestApp {
  app: TestApp;
  databaseUrl: string;
  /** Under the run's prefix, so the global teardown would remove what `close` missed. */
  redisPrefix: string;
  /** Closes the app, drops the database and deletes the prefix's keys. */
  close(): Promise<void>;
}

export async function startIsolatedTestApp(
  label: string,
  env: Record<string, string> = {},
  options: { distribute?: boolean } = {},
): Promise<IsolatedTestApp> {
  const database = await createIsolatedDatabase(label, options);
  const redisPrefix = `${inject('redisPrefix')}:${label}`;
  const removeAll = async () => {
    await database.drop();
    await deleteKeysUnder(testRedisTarget(), redisPrefix);
  };
  let app: TestApp;
  try {
    app = await startTestApp({ DATABASE_URL: database.url, REDIS_PREFIX: redisPrefix, ...env });
  } catch (error) {
    await removeAll();
    throw error;
  }
  return {
    app,
    databaseUrl: database.url,
    redisPrefix,
    async close() {
      await app.close();
      await removeAll();
    },
  };
}
