import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect, inject } from 'vitest';
import { buildApp } from '../src/app.js';
import { type Env, loadEnv } from '../src/config/env.js';
import { listenForChanges } from '../src/db/change-notifications.js';
import { createDatabase, type Database } from '../src/db/client.js';
import { systemClock } from '../src/lib/clock.js';
import { createRequestRedis, type RedisClient, redisTarget } from '../src/lib/redis.js';
import { type DeadlineQueue, openDeadlineQueue } from '../src/modules/deadlines/deadline-queue.js';
import { connectLiveEvents } from '../src/modules/events/live-events.js';
import type { TargetKey } from '../src/modules/sla-policies/sla-targets.js';
import type { Scope } from '../src/modules/tenancy/scopes.js';
import type { TenancyService } from '../src/modules/tenancy/tenancy.service.js';
import { createServices, type Services } from '../src/services.js';
import { testRedisEnv } from './redis-keys.js';

/**
 * The environment a test app runs with: the run's own database, Redis (one server or a cluster, see
 * test/global-setup.ts) and Redis prefix. A test that names a Redis of its own (REDIS_URL or
 * REDIS_CLUSTER_NODES, say an address nothing answers on) gets that one instead of the run's.
 */
export function testEnv(overrides: Record<string, string> = {}): Env {
  const ownRedis = 'REDIS_URL' in overrides || 'REDIS_CLUSTER_NODES' in overrides;
  return loadEnv({
    NODE_ENV: 'test',
    DATABASE_URL: inject('databaseUrl'),
    ...(ownRedis ? {} : testRedisEnv()),
    REDIS_PREFIX: inject('redisPrefix'),
    DATABASE_POOL_MAX: '5',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...overrides,
  });
}

export interface TestApp {
  app: FastifyInstance;
  database: Database;
  redis: RedisClient;
  services: Services;
  tenancy: TenancyService;
  deadlineQueue: DeadlineQueue;
  env: Env;
  close(): Promise<void>;
}

/** The real app over real PostgreSQL and Redis, for `app.inject` or a listening server. */
export async function startTestApp(
  envOverrides: Record<string, string> = {},
  options: { logStream?: { write(line: string): void } } = {},
): Promise<TestApp> {
  const env = testEnv(envOverrides);
  const database = createDatabase({
    url: env.DATABASE_URL,
    poolMax: env.DATABASE_POOL_MAX,
    applicationName: 'test',
    connectionTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
  });
  const target = redisTarget(env);
  const redis = createRequestRedis(target);
  // A test may point Redis at a dead address on purpose (readiness, fail-open rate limits).
  redis.on('error', () => {});
  await redis.connect().catch(() => {});
  const deadlineQueue = openDeadlineQueue(target, env.REDIS_PREFIX, systemClock, {
    failFast: true,
    shards: env.DEADLINE_QUEUE_SHARDS,
  });
  const changes = listenForChanges(env.DATABASE_URL, { warn: () => {} });
  const liveEvents = connectLiveEvents({
    redis: target,
    prefix: env.REDIS_PREFIX,
    onError: () => {},
  });
  const app = await buildApp({
    env,
    database,
    redis,
    deadlineQueue,
    changes,
    liveEvents,
    logStream: options.logStream,
  });
  await app.ready();
  const services = createServices({
    db: database.db,
    clock: systemClock,
    scheduler: deadlineQueue.scheduler,
  });
  return {
    app,
    database,
    redis,
    services,
    tenancy: services.tenancy,
    deadlineQueue,
    env,
    async close() {
      await app.close();
      await liveEvents.close();
      await deadlineQueue.close();
      await changes.close();
      redis.disconnect();
      await database.close();
    },
  };
}

export interface TestTenant {
  tenantId: string;
  adminKey: string;
  /** Creates another key of this tenant with exactly these scopes. */
  keyWith(...scopes: Scope[]): Promise<string>;
}

let tenantCounter = 0;

/** A fresh tenant with an admin key; every test works in its own tenant, so tests never collide. */
export async function createTestTenant(tenancy: TenancyService, name?: string): Promise<TestTenant> {
  tenantCounter += 1;
  const { tenant, plaintextKey } = await tenancy.createTenant(
    name ?? `Tenant ${process.pid}-${tenantCounter}`,
  );
  return {
    tenantId: tenant.id,
    adminKey: plaintextKey,
    async keyWith(...scopes: Scope[]) {
      const { plaintextKey: key } = await tenancy.createApiKey(tenant.id, {
        name: `key ${scopes.join(' ')}`,
        scopes,
      });
      return key;
    },
  };
}

/**
 * A fresh tenant whose web complaints in category `fast` run on the policy "Fast lane", with these
 * targets (ISO 8601 durations) on the calendar clock: by default an online reply due in two
 * seconds, so a worker breaches it within a test. Without `warnAt` the policy warns at the API's
 * default fractions.
 */
export async function createFastLaneTenant(
  t: Pick<TestApp, 'app' | 'tenancy'>,
  options: { targets?: Partial<Record<TargetKey, string>>; warnAt?: number[] } = {},
): Promise<TestTenant & { policyId: string }> {
  const { targets = { onlineReply: 'PT2S' }, warnAt } = options;
  const tenant = await createTestTenant(t.tenancy);
  const policy = await call(t.app, tenant.adminKey, {
    method: 'POST',
    url: '/v1/sla-policies',
    json: {
      name: 'Fast lane',
      priority: 1,
      match: { categories: ['fast'] },
      targets: Object.fromEntries(
        Object.entries(targets).map(([target, duration]) => [target, { duration, clock: 'calendar' }]),
      ),
      ...(warnAt ? { warnAt } : {}),
    },
  });
  expect(policy.statusCode, policy.body).toBe(201);
  return { ...tenant, policyId: policy.json().id };
}

/** A fresh tenant whose workflow settings put it on UTC, so a test can name its days plainly. */
export async function createUtcTenant(t: Pick<TestApp, 'app' | 'tenancy'>): Promise<TestTenant> {
  const tenant = await createTestTenant(t.tenancy);
  const res = await call(t.app, tenant.adminKey, {
    method: 'PUT',
    url: '/v1/settings/workflow',
    headers: { 'if-match': '"1"' },
    json: { timeZone: 'UTC' },
  });
  expect(res.statusCode, res.body).toBe(200);
  return tenant;
}

/** `app.inject` with a bearer key and a JSON body. */
export function call(
  app: FastifyInstance,
  key: string | null,
  options: InjectOptions & { json?: unknown },
): Promise<LightMyRequestResponse> {
  const { json, headers, ...rest } = options;
  return app.inject({
    ...rest,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(json !== undefined ? { payload: JSON.stringify(json) } : {}),
  });
}

let customerCounter = 0;

/**
 * A valid complaint body; override any field. Each body names a customer of its own (by
 * `externalId`), so complaints of one test are not repeat complaints of each other, which would
 * make them major; a test about repeats names the same customer on purpose.
 */
export function complaintBody(overrides: Record<string, unknown> = {}) {
  customerCounter += 1;
  return {
    channel: 'web',
    subject: 'Lift stopped between floors',
    description: 'The lift in building 3 stopped between floors 4 and 5 for 30 minutes.',
    customer: {
      name: 'Wang Fang',
      phone: '+86 138 0013 8000',
      email: 'wang.fang@example.com',
      externalId: `customer-${process.pid}-${customerCounter}`,
    },
    desiredOutcome: 'Repair and an apology',
    category: 'facilities',
    ...overrides,
  };
}
