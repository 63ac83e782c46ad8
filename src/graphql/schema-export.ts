/**
 * Writes (`--write`) or verifies (`--check`) schema.graphql from the schema the app serves. It
 * builds the real app without connecting anywhere, so the SDL can never drift from the code.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { printSchema } from 'graphql';
import { buildApp } from '../app.js';
import { loadEnv } from '../config/env.js';
import { createDatabase } from '../db/client.js';
import { createRequestRedis, redisTarget } from '../lib/redis.js';

const target = fileURLToPath(new URL('../../schema.graphql', import.meta.url));

/** The SDL as committed: the served schema, printed canonically. */
export async function renderGraphqlSchema(): Promise<string> {
  // Placeholders: nothing connects while the SDL is printed.
  const env = loadEnv({
    DATABASE_URL: 'postgres://graphql@127.0.0.1:1/graphql',
    REDIS_URL: 'redis://127.0.0.1:1',
    LOG_LEVEL: 'silent',
    DOCS_ENABLED: 'false',
    NODE_ENV: 'production',
  });
  const database = createDatabase({ url: env.DATABASE_URL, poolMax: 1, applicationName: 'graphql-schema' });
  const redis = createRequestRedis(redisTarget(env));
  const app = await buildApp({ env, database, redis, deadlineQueue: null });
  await app.ready();
  const sdl = `${printSchema(app.graphql.schema)}\n`;
  await app.close();
  redis.disconnect();
  await database.close();
  return sdl;
}

const mode = process.argv[2];
const sdl = await renderGraphqlSchema();
if (mode === '--write') {
  await writeFile(target, sdl);
  console.log(`wrote ${target}`);
} else if (mode === '--check') {
  const committed = await readFile(target, 'utf8').catch(() => '');
  if (committed !== sdl) {
    console.error(
      'schema.graphql is out of date with the resolvers: run `npm run graphql` and commit the result.',
    );
    process.exit(1);
  }
  console.log('schema.graphql matches the resolvers');
} else {
  process.stdout.write(sdl);
}
