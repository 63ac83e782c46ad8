import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError, loadEnv } from './config/env.js';
import { createDatabase } from './db/client.js';
import { systemClock } from './lib/clock.js';
import { createRequestRedis } from './lib/redis.js';
import { openDeadlineQueue } from './modules/deadlines/deadline-queue.js';

async function main(): Promise<void> {
  const env = loadEnv();
  const database = createDatabase({
    url: env.DATABASE_URL,
    poolMax: env.DATABASE_POOL_MAX,
    applicationName: 'redress-api',
  });
  const redis = createRequestRedis(env.REDIS_URL);
  redis.on('error', () => {}); // reconnects on its own; readiness reports the outage
  redis.connect().catch(() => {});
  const deadlineQueue = openDeadlineQueue(env.REDIS_URL, env.REDIS_PREFIX, systemClock, { failFast: true });
  const app = await buildApp({ env, database, redis, deadlineQueue });

  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an unexpected error');
    else app.log.info({ signal }, 'shutting down');
    await app.close();
    await deadlineQueue.close();
    redis.disconnect();
    await database.close();
  });

  await app.listen({ host: env.HOST, port: env.PORT });
}

main().catch((error) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error('Redress API failed to start:', error);
  }
  process.exit(1);
});
