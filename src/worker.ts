import { Worker } from 'bullmq';
import closeWithGrace from 'close-with-grace';
import pino from 'pino';
import { ConfigError, loadEnv } from './config/env.js';
import { createDatabase } from './db/client.js';
import { createQueue, type QueuePayloads } from './jobs/queues.js';
import { systemClock } from './lib/clock.js';
import { loggerOptions } from './lib/logger.js';
import { createQueueRedis } from './lib/redis.js';
import { purgeExpiredKeys, schedulePurgeOfExpiredKeys } from './modules/idempotency/idempotency.jobs.js';
import { createIdempotencyRepository } from './modules/idempotency/idempotency.repository.js';

/** Starts the BullMQ workers; no HTTP. Returns a function that closes everything. */
export async function startWorker() {
  const env = loadEnv();
  const log = pino(loggerOptions(env.LOG_LEVEL, { role: 'worker' }));
  const database = createDatabase({
    url: env.DATABASE_URL,
    poolMax: env.DATABASE_POOL_MAX,
    applicationName: 'redress-worker',
  });
  const connection = createQueueRedis(env.REDIS_URL);
  const clock = systemClock;
  const idempotencyRepository = createIdempotencyRepository(database.db);

  const maintenanceQueue = createQueue('maintenance', connection, env.REDIS_PREFIX);
  await schedulePurgeOfExpiredKeys(maintenanceQueue);

  const maintenanceWorker = new Worker<QueuePayloads['maintenance']>(
    'maintenance',
    async (job) => {
      switch (job.data.task) {
        case 'purge-expired-idempotency-keys':
          return purgeExpiredKeys({ repository: idempotencyRepository, clock, log });
      }
    },
    { connection, prefix: `${env.REDIS_PREFIX}:bull`, concurrency: 1 },
  );
  maintenanceWorker.on('failed', (job, err) =>
    log.error({ err, jobId: job?.id, queue: 'maintenance' }, 'job failed'),
  );

  log.info('worker started');
  return async () => {
    await maintenanceWorker.close();
    await maintenanceQueue.close();
    connection.disconnect();
    await database.close();
    log.info('worker stopped');
  };
}

startWorker()
  .then((close) => {
    closeWithGrace({ delay: 15_000 }, async () => {
      await close();
    });
  })
  .catch((error) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  });
