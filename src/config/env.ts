import { z } from 'zod';

const booleanFromString = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

/** The environment the service reads, each variable validated once at start-up. */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: z
    .string({ error: 'is required' })
    .url()
    .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// URL'),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(20),
  REDIS_URL: z
    .string({ error: 'is required' })
    .url()
    .refine((value) => /^rediss?:\/\//.test(value), 'must be a redis:// URL'),
  /** Prefix for every Redis key (BullMQ queues, rate-limit counters), so several deployments can share one Redis. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9:_-]{1,64}$/)
    .default('redress'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Requests allowed per API key per RATE_LIMIT_WINDOW_SECONDS. */
  RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(1200),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** Largest request body accepted, in bytes. */
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(10_485_760).default(262_144),
  /** How long an Idempotency-Key and its first answer are kept. */
  IDEMPOTENCY_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(24)
    .max(24 * 30)
    .default(48),
  /** Serve interactive API docs at /docs. */
  DOCS_ENABLED: booleanFromString.default(true),
  /** Seconds between reconciler sweeps that re-arm missing deadline jobs and breach overdue ones. */
  SLA_RECONCILE_INTERVAL: z.coerce.number().min(0.2).max(3600).default(60),
  /** Days events stay in the feed (and their delivery log with them). */
  EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Fallback poll of the outbox relay, in milliseconds, for when a NOTIFY wake-up is lost. */
  EVENT_RELAY_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /** Deadline jobs one worker process handles at once. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(50),
  /** Port of the worker's Prometheus /metrics endpoint; 0 turns it off. */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** When set, the API's /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().min(16).max(200).optional(),
  /** Public base URL; when set, Location headers are absolute URLs under it. */
  PUBLIC_BASE_URL: z.string().url().optional(),
});

export type Env = z.infer<typeof envSchema>;

/** Thrown when the environment is unusable; the message names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws ConfigError naming each missing or bad variable. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  // Empty strings mean "unset", as in docker-compose files with `VAR=`.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.') || '(environment)';
      return `${name}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid environment configuration:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}
