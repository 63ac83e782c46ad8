import closeWithGrace from 'close-with-grace';
import pino from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadEnv } from './config/env.js';
import { listenForChanges } from './db/change-notifications.js';
import { createDatabase } from './db/client.js';
import { systemClock } from './lib/clock.js';
import { loggerOptions } from './lib/logger.js';
import { createRequestRedis, redisTarget } from './lib/redis.js';
import { tracingLifecycle } from './lib/tracing-switch.js';
import { openDeadlineQueue } from './modules/deadlines/deadline-queue.js';
import { connectLiveEvents } from './modules/events/live-events.js';

async function main(): Promise<void> {
  const env = loadEnv();
  const database = createDatabase({
    url: env.DATABASE_URL,
    poolMax: env.DATABASE_POOL_MAX,
    applicationName: 'redress-api',
    connectionTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
  });
  const target = redisTarget(env);
  const redis = createRequestRedis(target);
  redis.on('error', () => {}); // reconnects on its own; readiness reports the outage
  redis.connect().catch(() => {});
  const deadlineQueue = openDeadlineQueue(target, env.REDIS_PREFIX, systemClock, {
    failFast: true,
    shards: env.DEADLINE_QUEUE_SHARDS,
  });
  const changes = listenForChanges(
    env.DATABASE_URL,
    pino(loggerOptions(env.LOG_LEVEL, { role: 'listener' })),
  );
  const liveLog = pino(loggerOptions(env.LOG_LEVEL, { role: 'live-events' }));
  const liveEvents = connectLiveEvents({
    redis: target,
    prefix: env.REDIS_PREFIX,
    onError: (err) => liveLog.warn({ err }, 'live events: Redis connection trouble'),
  });
  const app = await buildApp({ env, database, redis, deadlineQueue, changes, liveEvents });

  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an unexpected error');
    else app.log.info({ signal }, 'shutting down');
    await app.close();
    await liveEvents.close();
    await deadlineQueue.close();
    await changes.close();
    redis.disconnect();
    await database.close();
    await tracingLifecycle.shutdown();
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
