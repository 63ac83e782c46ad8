import type { Server } from 'node:http';
import { Worker } from 'bullmq';
import closeWithGrace from 'close-with-grace';
import pTimeout from 'p-timeout';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ConfigError, type Env, loadEnv } from './config/env.js';
import { createDatabase } from './db/client.js';
import { serverSettingWarnings } from './db/server-settings.js';
import { scheduleMaintenance } from './jobs/maintenance.js';
import { createQueue, type DeadlineJob, type QueuePayloads, queuePrefix } from './jobs/queues.js';
import { queueTelemetry } from './jobs/telemetry.js';
import { createBatcher } from './lib/batcher.js';
import { systemClock } from './lib/clock.js';
import { loggerOptions } from './lib/logger.js';
import { createRequestRedis, redisTarget } from './lib/redis.js';
import { tracingLifecycle } from './lib/tracing-switch.js';
import { createDeadlineMetrics } from './modules/deadlines/deadline-metrics.js';
import { openDeadlineQueue } from './modules/deadlines/deadline-queue.js';
import { REDIS_STEP_TIMEOUT_MS, reconcileDeadlines } from './modules/deadlines/deadline-reconciler.js';
import { processDeadlineJob } from './modules/deadlines/deadlines.jobs.js';
import { MAX_WAKE_UPS_PER_TRANSACTION } from './modules/deadlines/deadlines.repository.js';
import { startEventRelay } from './modules/events/event-relay.js';
import { purgeOldEvents } from './modules/events/events.jobs.js';
import { connectLiveEvents, createLiveEventPublisher } from './modules/events/live-events.js';
import { registerProcessMetrics } from './modules/health/process-metrics.js';
import { checkReadiness } from './modules/health/readiness.js';
import { registerStoreGauges } from './modules/health/store-gauges.js';
import { createWorkerHttpServer } from './modules/health/worker-http.js';
import { purgeExpiredKeys } from './modules/idempotency/idempotency.jobs.js';
import { startWebhookDispatcher } from './modules/webhooks/webhook-dispatcher.js';
import { createWebhookFanout } from './modules/webhooks/webhook-fanout.js';
import { createWebhookMetrics } from './modules/webhooks/webhook-metrics.js';
import { createWebhookSender } from './modules/webhooks/webhook-sender.js';
import { processReplayJob, replayJobFailed, requeueStaleReplays } from './modules/webhooks/webhooks.jobs.js';
import { createWebhookOutcomes } from './modules/webhooks/webhooks.service.js';
import { createServices } from './services.js';

// Any number for the advisory lock, fixed so that only one worker sweeps at a time.
const RECONCILER_LOCK_ID = 7_361_022_002;

/** Starts the BullMQ workers, the deadline reconciler and the health and metrics endpoints; no API. */
export async function startWorker(env: Env) {
  const log = pino(loggerOptions(env.LOG_LEVEL, { role: 'worker' }));
  const clock = systemClock;
  const database = createDatabase({
    url: env.DATABASE_URL,
    // Each job holds a connection for one statement, so concurrent jobs share a modest pool
    // rather than each taking one (PostgreSQL's max_connections is shared by every process).
    poolMax: env.DATABASE_POOL_MAX,
    applicationName: 'redress-worker',
    connectionTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
  });
  const redis = redisTarget(env);
  const deadlineQueue = openDeadlineQueue(redis, env.REDIS_PREFIX, clock, {
    failFast: false,
    shards: env.DEADLINE_QUEUE_SHARDS,
  });
  const services = createServices({
    db: database.db,
    clock,
    scheduler: deadlineQueue.scheduler,
    onBackgroundError: (err, context) => log.warn({ err }, `background task failed: ${context}`),
    webhookReplayBatchSize: env.WEBHOOK_REPLAY_BATCH_SIZE,
  });
  const maintenanceQueue = createQueue('maintenance', deadlineQueue.connection, env.REDIS_PREFIX);
  const replayQueue = createQueue('webhook-replays', deadlineQueue.connection, env.REDIS_PREFIX);
  replayQueue.on('error', (err) => log.warn({ err }, 'webhook replay queue: Redis trouble'));

  // Readiness asks Redis on a request-path connection of its own, which fails fast while Redis is
  // away; the queue connection would hold the PING until Redis is back.
  const readinessRedis = createRequestRedis(redis);
  readinessRedis.on('error', () => {});
  readinessRedis.connect().catch(() => {});
  const readiness = () => checkReadiness({ pool: database.pool, redis: readinessRedis });

  const registry = new Registry();
  registerProcessMetrics(registry, { prefix: 'redress_worker_', commit: env.REDRESS_BUILD_COMMIT });
  const metrics = createDeadlineMetrics(registry);
  registerStoreGauges(registry, {
    deadlineCounts: () => services.repositories.deadlines.countByStatus(),
    outboxBacklog: () => services.repositories.events.outboxBacklog(),
    webhookSubscriptions: () => services.repositories.webhooks.countSubscriptionsByState(),
    readiness,
    queueCounts: async () => ({
      deadlines: await deadlineQueue.jobCounts('wait', 'delayed', 'active', 'failed'),
      maintenance: await maintenanceQueue.getJobCounts('wait', 'delayed', 'active', 'failed'),
      'webhook-replays': await replayQueue.getJobCounts('wait', 'delayed', 'active', 'failed'),
    }),
  });

  // Wake-ups that fall due together are recorded together, up to MAX_WAKE_UPS_PER_TRANSACTION in
  // one transaction; with more jobs running than that, several batches are recorded at once.
  const wakeUps = createBatcher({
    run: (jobs: DeadlineJob[]) => services.deadlines.recordWakeUps(jobs),
    maxBatch: Math.min(env.WORKER_CONCURRENCY, MAX_WAKE_UPS_PER_TRANSACTION),
    maxWaitMs: 2,
  });
  // One BullMQ worker per deadline shard, sharing the process's WORKER_CONCURRENCY between them.
  const deadlineWorkers = deadlineQueue.queues.map(
    (queue) =>
      new Worker<QueuePayloads['deadlines']>(
        queue.name,
        (job) =>
          processDeadlineJob(
            {
              record: wakeUps.submit,
              deadlines: services.deadlines,
              scheduler: deadlineQueue.scheduler,
              metrics,
            },
            job,
          ),
        {
          connection: deadlineQueue.connection,
          prefix: queuePrefix(env.REDIS_PREFIX, queue.name),
          concurrency: Math.ceil(env.WORKER_CONCURRENCY / deadlineQueue.queues.length),
          ...(queueTelemetry ? { telemetry: queueTelemetry } : {}),
        },
      ),
  );
  for (const deadlineWorker of deadlineWorkers) {
    deadlineWorker.on('failed', (job, err) => log.error({ err, jobId: job?.id }, 'deadline job failed'));
    deadlineWorker.on('error', (err) => log.error({ err }, 'deadline worker error'));
  }

  await scheduleMaintenance(maintenanceQueue);
  const maintenanceWorker = new Worker<QueuePayloads['maintenance']>(
    'maintenance',
    async (job) => {
      switch (job.data.task) {
        case 'purge-expired-idempotency-keys':
          return purgeExpiredKeys({ repository: services.repositories.idempotency, clock, log });
        case 'purge-old-events':
          return purgeOldEvents({
            repository: services.repositories.events,
            retentionDays: env.EVENT_RETENTION_DAYS,
            clock,
            log,
          });
        case 'fold-deadline-breach-counts':
          return services.repositories.deadlines.foldBreachCounts();
        case 'fold-report-counts':
          return services.repositories.reportCounts.fold();
        case 'close-quiet-resolved': {
          let closed = 0;
          for (const tenantId of await services.repositories.complaints.tenantsWithResolved())
            closed += await services.complaints.closeQuietResolved(tenantId);
          return closed;
        }
        case 'requeue-webhook-replays':
          return requeueStaleReplays({
            repository: services.repositories.webhooks,
            queue: replayQueue,
            clock,
          });
        case 'digest-timelines':
          return services.timelineIntegrity.digestFinishedDays();
      }
    },
    {
      connection: deadlineQueue.connection,
      prefix: queuePrefix(env.REDIS_PREFIX, 'maintenance'),
      concurrency: 1,
      ...(queueTelemetry ? { telemetry: queueTelemetry } : {}),
    },
  );
  maintenanceWorker.on('failed', (job, err) => log.error({ err, jobId: job?.id }, 'maintenance job failed'));

  // Webhook replays: each job works one replay through in batches (webhook-replays.ts).
  const replayWorker = new Worker<QueuePayloads['webhook-replays']>(
    'webhook-replays',
    (job) => processReplayJob({ replays: services.webhookReplays }, job),
    {
      connection: deadlineQueue.connection,
      prefix: queuePrefix(env.REDIS_PREFIX, 'webhook-replays'),
      concurrency: 2,
      // A worker that dies mid-replay hands its job over within about 20 s rather than a minute.
      // Should a busy event loop let a lock lapse, the job runs twice at once, which a replay
      // allows (each batch locks the replay row and goes on from its cursor).
      lockDuration: 15_000,
      stalledInterval: 5_000,
      ...(queueTelemetry ? { telemetry: queueTelemetry } : {}),
    },
  );
  replayWorker.on('failed', (job, err) => {
    log.error({ err, jobId: job?.id }, 'webhook replay job failed');
    void replayJobFailed({ replays: services.webhookReplays, log }, job, err);
  });
  replayWorker.on('error', (err) => log.error({ err }, 'webhook replay worker error'));

  // Webhook delivery: the dispatcher leases due deliveries from PostgreSQL and sends them.
  const timeoutMs = env.WEBHOOK_TIMEOUT_SECONDS * 1000;
  const dispatcher = startWebhookDispatcher({
    repository: services.repositories.webhooks,
    outcomes: createWebhookOutcomes({
      db: database.db,
      webhooks: services.repositories.webhooks,
      events: services.repositories.events,
      clock,
      disableAfterMs: env.WEBHOOK_DISABLE_AFTER_HOURS * 3_600_000,
    }),
    sender: createWebhookSender({ allowPrivate: env.WEBHOOK_ALLOW_PRIVATE, timeoutMs }),
    databaseUrl: env.DATABASE_URL,
    clock,
    log,
    metrics: createWebhookMetrics(registry),
    settings: {
      concurrency: env.WEBHOOK_CONCURRENCY,
      perEndpoint: env.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT,
      timeoutMs,
      schedule: env.WEBHOOK_RETRY_SCHEDULE,
    },
  });

  // GraphQL subscribers in every API process hear relayed events through Redis pub/sub.
  const liveEvents = connectLiveEvents({
    redis,
    prefix: env.REDIS_PREFIX,
    onError: (err) => log.warn({ err }, 'live events: Redis connection trouble'),
  });

  // The outbox relay: fans every committed event out to its consumers.
  const relay = startEventRelay({
    db: database.db,
    databaseUrl: env.DATABASE_URL,
    events: services.repositories.events,
    consumers: [
      createWebhookFanout({
        webhooks: services.repositories.webhooks,
        firstDelaySeconds: env.WEBHOOK_RETRY_SCHEDULE[0] ?? 0,
        onCommitted: () => dispatcher.wake(),
      }),
      createLiveEventPublisher({ emitter: liveEvents.emitter, prefix: env.REDIS_PREFIX, log }),
    ],
    log,
    pollIntervalMs: env.EVENT_RELAY_POLL_MS,
  });

  // The reconciler: at start (catching up on anything missed while no worker ran) and on an interval.
  let stopped = false;
  let sweeping: Promise<unknown> = Promise.resolve();
  const sweep = async () => {
    // PostgreSQL may be unreachable for a while: this sweep is skipped and the next one tries again.
    const client = await database.pool.connect().catch((err: unknown) => {
      log.error({ err }, 'reconciler sweep could not reach PostgreSQL; the next sweep tries again');
      return null;
    });
    if (!client) return;
    let broken: Error | undefined;
    try {
      const { rows } = await client.query('select pg_try_advisory_lock($1) as locked', [RECONCILER_LOCK_ID]);
      if (!rows[0]?.locked) return;
      try {
        const report = await reconcileDeadlines({
          repository: services.repositories.deadlines,
          deadlines: services.deadlines,
          scheduler: deadlineQueue.scheduler,
          metrics,
          now: () => clock.now().getTime(),
          log,
        });
        // Job schedules live in Redis; after a flush this puts them back. Bounded, as the
        // reconciler's Redis step is: a sweep must not wait on Redis while it holds the lock.
        if (report.redisAnswered) {
          await pTimeout(scheduleMaintenance(maintenanceQueue), {
            milliseconds: REDIS_STEP_TIMEOUT_MS,
            message: `Redis did not take the maintenance schedules within ${REDIS_STEP_TIMEOUT_MS} ms`,
          }).catch((err: unknown) => log.error({ err }, 'could not restore the maintenance schedules'));
        }
      } finally {
        await client.query('select pg_advisory_unlock($1)', [RECONCILER_LOCK_ID]);
      }
    } catch (err) {
      log.error({ err }, 'reconciler sweep failed');
      broken = err instanceof Error ? err : new Error(String(err));
    } finally {
      // A connection that failed is closed rather than pooled again; it may hold the lock.
      client.release(broken);
    }
  };
  const scheduleSweep = () => {
    if (stopped) return;
    sweeping = sweep().finally(() => {
      if (!stopped) timer = setTimeout(scheduleSweep, env.SLA_RECONCILE_INTERVAL * 1000);
    });
  };
  let timer: NodeJS.Timeout | undefined;
  scheduleSweep();

  let metricsServer: Server | null = null;
  if (env.WORKER_METRICS_PORT > 0) {
    metricsServer = createWorkerHttpServer({ registry, readiness, log });
    await new Promise<void>((resolve) => metricsServer!.listen(env.WORKER_METRICS_PORT, env.HOST, resolve));
  }

  log.info(
    {
      concurrency: env.WORKER_CONCURRENCY,
      redis: redis.cluster ? 'cluster' : 'single',
      deadlineQueueShards: env.DEADLINE_QUEUE_SHARDS,
      reconcileEverySeconds: env.SLA_RECONCILE_INTERVAL,
      webhookConcurrency: env.WEBHOOK_CONCURRENCY,
      webhookAllowPrivate: env.WEBHOOK_ALLOW_PRIVATE,
    },
    'worker started',
  );
  // Said where operators look, every start: the migrate step's output is easily missed. The
  // worker runs on without PostgreSQL for a while (its reconciler retries), so a failed check is
  // only noted.
  serverSettingWarnings(database.pool)
    .then((warnings) => {
      for (const warning of warnings) log.warn(warning);
    })
    .catch((err) => log.debug({ err }, 'could not read PostgreSQL settings'));
  return {
    async close() {
      stopped = true;
      clearTimeout(timer);
      await sweeping;
      await relay.stop();
      await liveEvents.close();
      await dispatcher.stop();
      await Promise.all(deadlineWorkers.map((deadlineWorker) => deadlineWorker.close()));
      await maintenanceWorker.close();
      await replayWorker.close();
      await maintenanceQueue.close();
      await replayQueue.close();
      await deadlineQueue.close();
      await new Promise<void>((resolve) =>
        metricsServer ? metricsServer.close(() => resolve()) : resolve(),
      );
      readinessRedis.disconnect();
      await database.close();
      log.info('worker stopped');
      await tracingLifecycle.shutdown();
    },
  };
}

let env: Env;
try {
  env = loadEnv();
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}

startWorker(env)
  .then((worker) => {
    closeWithGrace({ delay: 15_000 }, async () => {
      await worker.close();
    });
  })
  .catch((error) => {
    console.error('Redress worker failed to start:', error);
    process.exit(1);
  });
