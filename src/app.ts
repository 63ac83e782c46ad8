import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import pTimeout from 'p-timeout';
import type { Logger } from 'pino';
import { Gauge, Registry } from 'prom-client';
import type { Env } from './config/env.js';
import type { ChangeListener } from './db/change-notifications.js';
import { createReportsDatabase, type Database } from './db/client.js';
import { graphqlPlugin } from './graphql/plugin.js';
import { authPlugin } from './http/plugins/auth.js';
import { conditionalGetPlugin } from './http/plugins/conditional-get.js';
import { corsPlugin } from './http/plugins/cors.js';
import { errorsPlugin, sendProblem } from './http/plugins/errors.js';
import { idempotencyPlugin } from './http/plugins/idempotency.js';
import { inputHygienePlugin } from './http/plugins/input-hygiene.js';
import { openapiPlugin } from './http/plugins/openapi.js';
import { personalDataPlugin } from './http/plugins/personal-data.js';
import { rateLimitPlugin } from './http/plugins/rate-limit.js';
import { requestMetricsPlugin } from './http/plugins/request-metrics.js';
import { createResponseSerializerCompiler } from './http/response-serializer.js';
import { createQueue } from './jobs/queues.js';
import { type Clock, systemClock } from './lib/clock.js';
import { ValidationError } from './lib/errors.js';
import { lazyChildLogger, loggerOptions } from './lib/logger.js';
import type { RedisClient } from './lib/redis.js';
import { throttled } from './lib/throttle.js';
import { unreachableMessage, unreachableService } from './lib/unreachable.js';
import { calendarsRoutes } from './modules/calendars/calendars.routes.js';
import { complaintsRoutes } from './modules/complaints/complaints.routes.js';
import { dataSubjectsRoutes } from './modules/data-subjects/data-subjects.routes.js';
import type { DeadlineQueue } from './modules/deadlines/deadline-queue.js';
import { deadlinesRoutes } from './modules/deadlines/deadlines.routes.js';
import { escalationsRoutes } from './modules/escalations/escalations.routes.js';
import { eventsRoutes } from './modules/events/events.routes.js';
import { type LiveEvents, type LiveEventsLink, localLiveEvents } from './modules/events/live-events.js';
import { followUpsRoutes } from './modules/follow-ups/follow-ups.routes.js';
import { healthRoutes } from './modules/health/health.routes.js';
import { metricsRoutes } from './modules/health/metrics.routes.js';
import { checkReadiness } from './modules/health/readiness.js';
import { identityRoutes } from './modules/identity/identity.routes.js';
import { majorComplaintsRoutes } from './modules/major-complaints/major-complaints.routes.js';
import { ownershipRoutes } from './modules/ownership/ownership.routes.js';
import { promisesRoutes } from './modules/promises/promises.routes.js';
import { regulatoryRegimesRoutes } from './modules/regulatory-regimes/regulatory-regimes.routes.js';
import { replyTemplatesRoutes } from './modules/reply-templates/reply-templates.routes.js';
import { reportsRoutes } from './modules/reports/reports.routes.js';
import { resolutionsRoutes } from './modules/resolutions/resolutions.routes.js';
import { settingsRoutes } from './modules/settings/settings.routes.js';
import { slaPoliciesRoutes } from './modules/sla-policies/sla-policies.routes.js';
import { surveysRoutes } from './modules/surveys/surveys.routes.js';
import { tenancyRoutes } from './modules/tenancy/tenancy.routes.js';
import { timelineIntegrityRoutes } from './modules/timeline-integrity/timeline-integrity.routes.js';
import { createWebhookUrlGuard } from './modules/webhooks/webhook-url-policy.js';
import { enqueueReplay } from './modules/webhooks/webhooks.jobs.js';
import { webhooksRoutes } from './modules/webhooks/webhooks.routes.js';
import { createServices } from './services.js';

export interface AppDependencies {
  env: Env;
  database: Database;
  /** The reports' own pool (createReportsDatabase); opened from `env` and closed with the app when absent. */
  reportsDatabase?: Database;
  /** The request-path connection (createRequestRedis): rate limits and readiness. */
  redis: RedisClient;
  /** The deadlines queue: arms jobs and reports its depth; null where none is wanted (contract generation). */
  deadlineQueue: DeadlineQueue | null;
  /** Committed-change notices that keep the in-process caches honest; null runs without caches. */
  changes?: ChangeListener | null;
  /**
   * Where the worker's relay publishes committed events for GraphQL subscriptions (Redis pub/sub);
   * when absent, subscriptions hear this process only (contract generation).
   */
  liveEvents?: { emitter: LiveEvents; topicFor(tenantId: string): string; link: LiveEventsLink } | null;
  clock?: Clock;
  /** Where log lines go instead of stdout (tests read them). */
  logStream?: { write(line: string): void };
}

/** Least time between two warnings that a background task failed for the same outage. */
const OUTAGE_WARNING_INTERVAL_MS = 30_000;
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** Longest path parameter the router takes: ids and references are far shorter. */
const MAX_PATH_PARAMETER_LENGTH = 200;

/** Builds the HTTP application from its dependencies; main.ts listens with it, tests inject into it. */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { env, database, redis } = deps;
  const clock = deps.clock ?? systemClock;

  const app = Fastify({
    logger: { ...loggerOptions(env.LOG_LEVEL), ...(deps.logStream ? { stream: deps.logStream } : {}) },
    bodyLimit: env.BODY_LIMIT_BYTES,
    // A caller's X-Request-Id is kept when it is sane, so one id follows a request across systems.
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    },
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    // Each request's logger is made when it first writes a line: most never do (lazyChildLogger).
    childLoggerFactory: (logger, bindings, options) => lazyChildLogger(logger as Logger, bindings, options),
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PATH_PARAMETER_LENGTH },
    // A path the router cannot take apart (bad percent-encoding, a segment past maxParamLength)
    // gets a problem document like any other bad request, not Fastify's own JSON. These replies
    // bypass the route hooks, so the request id header is set here.
    frameworkErrors: (error, request, reply) => {
      const message =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? `has a segment longer than ${MAX_PATH_PARAMETER_LENGTH} characters`
          : 'is not a valid URL path (bad percent-encoding)';
      reply.header('x-request-id', request.id).header('x-content-type-options', 'nosniff');
      sendProblem(request, reply, new ValidationError([{ field: 'path', message }]));
    },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  // Outside production every answer is also checked against its schema (createResponseSerializerCompiler).
  app.setSerializerCompiler(createResponseSerializerCompiler({ validate: env.NODE_ENV !== 'production' }));
  // Callback style: every response passes here, and an async hook costs a promise each time.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    // Bodies are JSON, problem+json, CSV or the docs page: never to be sniffed as something else.
    reply.header('x-content-type-options', 'nosniff');
    done(null, payload);
  });

  let reportsDatabase = deps.reportsDatabase;
  if (!reportsDatabase) {
    const owned = createReportsDatabase(env);
    app.addHook('onClose', () => owned.close());
    reportsDatabase = owned;
  }

  // Webhook replays run on the worker; the API only queues them, on the deadline queue's
  // connection, which fails at once while Redis is away (the worker's sweep queues them later).
  // Made at the first replay, not at start: on a Redis Cluster, a queue opened on that shared
  // connection at start made the API's own deadline-queue commands time out (the cluster pass of
  // test/deadline-reconciler.test.ts), and most API processes never queue a replay.
  const deadlineConnection = deps.deadlineQueue?.connection ?? null;
  let replayQueue: ReturnType<typeof createQueue<'webhook-replays'>> | null = null;
  const replayQueueOf = (connection: NonNullable<typeof deadlineConnection>) => {
    if (!replayQueue) {
      replayQueue = createQueue('webhook-replays', connection, env.REDIS_PREFIX);
      // Its start-up commands may time out while Redis is slow or away; each enqueue reports its own.
      replayQueue.on('error', () => {});
    }
    return replayQueue;
  };
  app.addHook('onClose', async () => {
    await replayQueue?.close();
  });

  const outageWarnings = new Map<string, (error: unknown) => void>();
  const services = createServices({
    // Bounded: a request must not wait on Redis; the replay is committed and queued later if need be.
    enqueueWebhookReplay: deadlineConnection
      ? (job) => pTimeout(enqueueReplay(replayQueueOf(deadlineConnection), job), { milliseconds: 1_000 })
      : null,
    db: database.db,
    reportsDb: reportsDatabase.db,
    clock,
    scheduler: deps.deadlineQueue?.scheduler ?? null,
    idempotencyTtlHours: env.IDEMPOTENCY_TTL_HOURS,
    changes: deps.changes ?? null,
    webhookUrlGuard: createWebhookUrlGuard({ allowPrivate: env.WEBHOOK_ALLOW_PRIVATE }),
    accessTokens: {
      allowPrivate: env.OIDC_ALLOW_PRIVATE,
      clockToleranceSeconds: env.OIDC_CLOCK_TOLERANCE_SECONDS,
      jwksCooldownMs: env.OIDC_JWKS_COOLDOWN_SECONDS * 1000,
      fetchTimeoutMs: env.OIDC_FETCH_TIMEOUT_SECONDS * 1000,
    },
    onBackgroundError: (error, context) => {
      // While Redis or PostgreSQL is away, one line per task every 30 s, not one a request.
      const service = unreachableService(error);
      if (!service) return app.log.warn({ err: error }, `background task failed: ${context}`);
      const key = `${context}/${service}`;
      let warn = outageWarnings.get(key);
      if (!warn) {
        warn = throttled<unknown>(OUTAGE_WARNING_INTERVAL_MS, (err, failures) =>
          app.log.warn(
            { err, failures },
            `background task failed: ${context}: ${unreachableMessage(service)}`,
          ),
        );
        outageWarnings.set(key, warn);
      }
      warn(error);
    },
  });
  const { tenancy, idempotency, complaints, calendars, policies, deadlines, escalations, events, webhooks } =
    services;

  await app.register(errorsPlugin);
  await app.register(corsPlugin, { allowedOrigins: env.CORS_ALLOWED_ORIGINS });
  await app.register(conditionalGetPlugin);
  await app.register(inputHygienePlugin);
  await app.register(openapiPlugin, { docs: env.DOCS_ENABLED });
  await app.register(authPlugin, { tenancy });
  // The API's Prometheus metrics, shown on /metrics: plugins add theirs as they are registered.
  const metrics = new Registry();
  await app.register(requestMetricsPlugin, { metrics });
  await app.register(rateLimitPlugin, {
    metrics,
    redis,
    max: env.RATE_LIMIT_MAX,
    windowSeconds: env.RATE_LIMIT_WINDOW_SECONDS,
    keyPrefix: env.REDIS_PREFIX,
  });
  await app.register(idempotencyPlugin, { idempotency });
  // After idempotency: answers are stored whole and masked as each caller gets them.
  await app.register(personalDataPlugin);

  await app.register(healthRoutes, { pool: database.pool, redis });
  await app.register(metricsRoutes, {
    registry: metrics,
    token: env.METRICS_TOKEN,
    commit: env.REDRESS_BUILD_COMMIT,
    sources: {
      deadlineCounts: () => services.repositories.deadlines.countByStatus(),
      outboxBacklog: () => services.repositories.events.outboxBacklog(),
      webhookSubscriptions: () => services.repositories.webhooks.countSubscriptionsByState(),
      readiness: () => checkReadiness({ pool: database.pool, redis }),
      queueCounts: async (): Promise<Record<string, Record<string, number>>> =>
        deps.deadlineQueue
          ? { deadlines: await deps.deadlineQueue.jobCounts('wait', 'delayed', 'active', 'failed') }
          : {},
    },
  });
  await app.register(tenancyRoutes, { tenancy, publicBaseUrl: env.PUBLIC_BASE_URL });
  await app.register(identityRoutes, { identity: services.identity, publicBaseUrl: env.PUBLIC_BASE_URL });
  await app.register(complaintsRoutes, { complaints, publicBaseUrl: env.PUBLIC_BASE_URL });
  await app.register(ownershipRoutes, { ownership: services.ownership, publicBaseUrl: env.PUBLIC_BASE_URL });
  await app.register(majorComplaintsRoutes, { majorComplaints: services.majorComplaints });
  await app.register(timelineIntegrityRoutes, { timelineIntegrity: services.timelineIntegrity });
  await app.register(dataSubjectsRoutes, { dataSubjects: services.dataSubjects });
  await app.register(deadlinesRoutes, { deadlines, complaints });
  await app.register(calendarsRoutes, { calendars, publicBaseUrl: env.PUBLIC_BASE_URL });
  await app.register(slaPoliciesRoutes, { policies, publicBaseUrl: env.PUBLIC_BASE_URL });
  await app.register(regulatoryRegimesRoutes, { regimes: services.regulatoryRegimes });
  await app.register(escalationsRoutes, { escalations, complaints, publicBaseUrl: env.PUBLIC_BASE_URL });
  await app.register(eventsRoutes, { events });
  await app.register(settingsRoutes, { settings: services.settings });
  await app.register(webhooksRoutes, {
    webhooks,
    replays: services.webhookReplays,
    publicBaseUrl: env.PUBLIC_BASE_URL,
  });
  await app.register(resolutionsRoutes, {
    resolutions: services.resolutions,
    complaints,
    publicBaseUrl: env.PUBLIC_BASE_URL,
  });
  await app.register(promisesRoutes, { promises: services.promises, publicBaseUrl: env.PUBLIC_BASE_URL });
  await app.register(surveysRoutes, { surveys: services.surveys, publicBaseUrl: env.PUBLIC_BASE_URL });
  await app.register(followUpsRoutes, { followUps: services.followUps });
  await app.register(reportsRoutes, { reports: services.reports });
  await app.register(replyTemplatesRoutes, {
    templates: services.templates,
    publicBaseUrl: env.PUBLIC_BASE_URL,
  });

  let liveEvents = deps.liveEvents;
  if (!liveEvents) {
    const local = localLiveEvents(env.REDIS_PREFIX);
    app.addHook('onClose', () => local.close());
    liveEvents = local;
  }
  await app.register(graphqlPlugin, {
    services,
    liveEvents,
    liveSubscriptions: new Gauge({
      name: 'redress_graphql_subscriptions_listening',
      help: 'GraphQL subscriptions of this process whose live events Redis has subscribed them to',
      registers: [metrics],
    }),
    graphiql: env.NODE_ENV !== 'production',
    maxDepth: env.GRAPHQL_MAX_DEPTH,
    maxCost: env.GRAPHQL_MAX_COST,
  });

  return app;
}
