/**
 * Writes (`--write`) or verifies (`--check`) openapi.yaml from the route schemas. It builds
 * the real app without connecting anywhere, so the contract can never drift from the code.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { buildApp } from '../app.js';
import { loadEnv } from '../config/env.js';
import { createDatabase } from '../db/client.js';
import { createRequestRedis, redisTarget } from '../lib/redis.js';

const target = fileURLToPath(new URL('../../openapi.yaml', import.meta.url));

/** The OpenAPI document as YAML, exactly as committed. */
export async function renderOpenApi(): Promise<string> {
  // Placeholders: nothing connects while the document is generated.
  const env = loadEnv({
    DATABASE_URL: 'postgres://openapi@127.0.0.1:1/openapi',
    REDIS_URL: 'redis://127.0.0.1:1',
    LOG_LEVEL: 'silent',
    DOCS_ENABLED: 'false',
  });
  const database = createDatabase({ url: env.DATABASE_URL, poolMax: 1, applicationName: 'openapi' });
  const redis = createRequestRedis(redisTarget(env));
  const app = await buildApp({ env, database, redis, deadlineQueue: null });
  await app.ready();
  const document = app.swagger() as { components?: { schemas?: Record<string, unknown> } };
  // Components in name order: the order zod registers them follows module imports, and a new
  // import elsewhere must not reshuffle the whole committed contract.
  const schemas = document.components?.schemas;
  if (schemas && document.components) {
    document.components.schemas = Object.fromEntries(
      Object.keys(schemas)
        .sort()
        .map((name) => [name, schemas[name]]),
    );
  }
  // No YAML anchors or aliases: some OpenAPI tools do not resolve them.
  const yaml = stringify(document, { aliasDuplicateObjects: false, lineWidth: 0 });
  await app.close();
  redis.disconnect();
  await database.close();
  return yaml;
}

const mode = process.argv[2];
const yaml = await renderOpenApi();
if (mode === '--write') {
  await writeFile(target, yaml);
  console.log(`wrote ${target}`);
} else if (mode === '--check') {
  const committed = await readFile(target, 'utf8').catch(() => '');
  if (committed !== yaml) {
    console.error(
      'openapi.yaml is out of date with the route schemas: run `npm run openapi` and commit the result.',
    );
    process.exit(1);
  }
  console.log('openapi.yaml matches the route schemas');
} else {
  process.stdout.write(yaml);
}
