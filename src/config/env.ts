import { z } from 'zod';

const booleanFromString = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

/** True for `scheme://host[:port]` exactly as browsers send it in `Origin` (no path, no slash). */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}

/** The environment the service reads, each variable validated once at start-up. */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: z
    .string({ error: 'is required' })
    .url()
    .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// URL'),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(20),
  /**
   * How long a query waits for a PostgreSQL connection, opening one or in line for the pool;
   * past it, a request is answered 503 service_unavailable instead of hanging.
   */
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /** A read replica for the reports; without it they read DATABASE_URL, on a pool of their own. */
  DATABASE_READ_URL: z
    .string()
    .url()
    .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// URL')
    .optional(),
  /** Connections the reports may hold at once: however many reports run, intake keeps the rest. */
  REPORTS_POOL_MAX: z.coerce.number().int().min(1).max(50).default(2),
  /** A report statement running longer is cancelled and answered 503 `report_timed_out`. */
  REPORTS_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** One Redis server. Leave it unset and set REDIS_CLUSTER_NODES for a Redis Cluster. */
  REDIS_URL: z
    .string()
    .url()
    .refine((value) => /^rediss?:\/\//.test(value), 'must be a redis:// URL')
    .optional(),
  /**
   * A Redis Cluster instead of one server: some of its nodes, comma-separated, as `host:port` or
   * `redis://[user:password@]host:port` (`rediss://` for TLS). The client finds the other nodes
   * itself; credentials and TLS of the first entry apply to every node.
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .max(4000)
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return undefined;
      const seeds = parseClusterNodes(raw);
      if (!seeds) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be 1 to 100 comma-separated host:port or redis://host:port entries',
        });
        return z.NEVER;
      }
      return seeds;
    }),
  /**
   * Prefix for every Redis key (BullMQ queues, rate-limit counters), so several deployments can
   * share one Redis. No braces: each queue's keys already carry a hash tag of their own (see
   * src/jobs/queues.ts), which is what a Redis Cluster needs.
   */
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9:_-]{1,64}$/, 'must be 1 to 64 letters, digits, ":", "_" or "-" (no braces)')
    .default('redress'),
  /**
   * Queues the deadline wake-ups are spread over, each under a hash tag of its own, so that on a
   * Redis Cluster their load falls on several masters. A deadline always goes to the same queue.
   */
  DEADLINE_QUEUE_SHARDS: z.coerce.number().int().min(1).max(64).default(1),
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
  /** Deepest nesting a GraphQL operation may have (GraphiQL's introspection query needs 15). */
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(15).max(50).default(15),
  /**
   * Highest cost a GraphQL operation may have: every field costs 1 plus what it selects, and page
   * sizes (`first`) multiply what a page selects. 100 complaints with deadlines, escalations and 20
   * timeline entries each cost about 19,000 (see schema.graphql's `@complexity`).
   */
  GRAPHQL_MAX_COST: z.coerce.number().int().min(100).max(10_000_000).default(25_000),
  /**
   * Seconds between reconciler sweeps that arm deadline jobs coming near, re-arm missing ones and
   * breach overdue ones. At most a third of the arming horizon (ARMING_HORIZON_MS, 15 minutes),
   * so a wake-up left to the reconciler is armed at least two sweeps before it is due.
   */
  SLA_RECONCILE_INTERVAL: z.coerce.number().min(0.2).max(300).default(60),
  /** Days events stay in the feed (and their delivery log with them). */
  EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Fallback poll of the outbox relay, in milliseconds, for when a NOTIFY wake-up is lost. */
  EVENT_RELAY_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /** Deadline jobs one worker process handles at once. */
  // Jobs in flight, not transactions: wake-ups are recorded in batches of at most
  // MAX_WAKE_UPS_PER_TRANSACTION (50), so 200 lets about four batches run side by side.
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(200),
  /** Port of the worker's Prometheus /metrics endpoint; 0 turns it off. */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** The git commit the build came from, shown by `redress_build_info` on /metrics. */
  REDRESS_BUILD_COMMIT: z.string().max(64).optional(),
  /** When set, the API's /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().min(16).max(200).optional(),
  /**
   * Browser origins (`https://crm.example.com`) whose pages may call the API, comma-separated; empty
   * (the default) answers no cross-origin request. Credentials (cookies) are never allowed: the API
   * takes keys and tokens in `Authorization` only.
   */
  CORS_ALLOWED_ORIGINS: z
    .string()
    .max(4000)
    .default('')
    .transform((raw, ctx) => {
      const origins = raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
      const bad = origins.find((origin) => !isOrigin(origin));
      if (bad !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `'${bad.slice(0, 100)}' is not an origin: give scheme, host and port only, e.g. https://crm.example.com`,
        });
        return z.NEVER;
      }
      return origins;
    }),
  /** Public base URL; when set, Location headers are absolute URLs under it. */
  PUBLIC_BASE_URL: z.string().url().optional(),
  /**
   * Lets webhooks reach loopback, private, link-local and other non-public addresses. Only for
   * development and tests: with it, a tenant can make the worker call internal services.
   */
  WEBHOOK_ALLOW_PRIVATE: booleanFromString.default(false),
  /**
   * Lets identity providers' issuers and JWKS URIs be http and reach loopback and private
   * addresses. Only for development and tests: with it, a tenant admin can make the API fetch
   * from internal services.
   */
  OIDC_ALLOW_PRIVATE: booleanFromString.default(false),
  /** Seconds an access token's exp, nbf and iat may be off by, for clocks that differ. */
  OIDC_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  /**
   * Least seconds between two fetches of a provider's JWKS for a key id it does not hold: a
   * rotated key is picked up at once, made-up key ids cost one fetch per period.
   */
  OIDC_JWKS_COOLDOWN_SECONDS: z.coerce.number().min(0).max(3600).default(30),
  /** Seconds a fetch of a provider's discovery document or JWKS may take. */
  OIDC_FETCH_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(60).default(5),
  /** Seconds a receiver has to answer a delivery with 2xx before the attempt counts as failed. */
  WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(120).default(15),
  /**
   * Seconds before each attempt, comma-separated: the first entry delays the first attempt, each
   * later one follows a failure. After the last scheduled attempt fails, the delivery is `failed`.
   */
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .max(1000)
    .default('0,5,300,1800,7200,18000,36000,50400,72000,86400')
    .transform((raw, ctx) => {
      const items = raw.split(',').map((item) => item.trim());
      const delays = items.map(Number);
      if (
        items.length > 50 ||
        delays.some((delay, i) => items[i] === '' || !Number.isInteger(delay) || delay < 0 || delay > 604_800)
      ) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be 1 to 50 comma-separated whole seconds, each between 0 and 604800',
        });
        return z.NEVER;
      }
      return delays;
    }),
  /** Hours a subscription may fail every attempt before it is disabled (`failing`); 120 is 5 days. */
  WEBHOOK_DISABLE_AFTER_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 365)
    .default(120),
  /** Webhook requests one worker process has in flight at once, across all endpoints. */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(2_000).default(64),
  /** Requests one worker process has in flight to one subscription, so a slow endpoint cannot take every slot. */
  WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: z.coerce.number().int().min(1).max(1_000).default(4),
  /** Failed deliveries a webhook replay requeues per transaction (webhook-replays.ts). */
  WEBHOOK_REPLAY_BATCH_SIZE: z.coerce.number().int().min(1).max(5_000).default(500),
});

/** The schema with the rules that span variables: one Redis, a server or a cluster. */
const checkedEnvSchema = envSchema.superRefine((env, ctx) => {
  if (env.REDIS_URL === undefined && env.REDIS_CLUSTER_NODES === undefined) {
    ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: 'is required (or REDIS_CLUSTER_NODES)' });
  } else if (env.REDIS_URL !== undefined && env.REDIS_CLUSTER_NODES !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['REDIS_CLUSTER_NODES'],
      message: 'names a Redis Cluster, REDIS_URL one server: set one of them',
    });
  }
});

/** The seed nodes of a Redis Cluster and what every node is reached with. */
export interface RedisClusterSeeds {
  nodes: Array<{ host: string; port: number }>;
  username?: string;
  password?: string;
  tls: boolean;
}

function parseClusterNodes(raw: string): RedisClusterSeeds | null {
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0 || entries.length > 100) return null;
  const urls: URL[] = [];
  for (const entry of entries) {
    const withScheme = /^[a-z]+:\/\//.test(entry) ? entry : `redis://${entry}`;
    if (!/^rediss?:\/\//.test(withScheme) || !URL.canParse(withScheme)) return null;
    const url = new URL(withScheme);
    if (!url.hostname || !url.port || (url.pathname !== '' && url.pathname !== '/')) return null;
    urls.push(url);
  }
  const first = urls[0]!;
  return {
    nodes: urls.map((url) => ({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) })),
    ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
    ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
    tls: first.protocol === 'rediss:',
  };
}

export type Env = z.infer<typeof envSchema>;

/** Thrown when the environment is unusable; the message names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws ConfigError naming each missing or bad variable. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  // Empty strings mean "unset", as in docker-compose files with `VAR=`.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
  const parsed = checkedEnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.') || '(environment)';
      return `${name}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid environment configuration:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}
