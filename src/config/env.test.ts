import { describe, expect, it } from 'vitest';
import { ARMING_HORIZON_MS } from '../modules/deadlines/deadline-scheduler.js';
import { ConfigError, loadEnv } from './env.js';

const required = { DATABASE_URL: 'postgres://u@h:5432/d', REDIS_URL: 'redis://h:6379' };

describe('loadEnv', () => {
  it('applies defaults', () => {
    const env = loadEnv(required);
    expect(env).toMatchObject({ PORT: 3000, HOST: '0.0.0.0', LOG_LEVEL: 'info', IDEMPOTENCY_TTL_HOURS: 48 });
  });

  it.each([
    [{}, 'DATABASE_URL'],
    [{ ...required, DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ ...required, REDIS_URL: undefined }, 'REDIS_URL'],
    [{ ...required, PORT: '99999' }, 'PORT'],
    [{ ...required, LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ ...required, IDEMPOTENCY_TTL_HOURS: '1' }, 'IDEMPOTENCY_TTL_HOURS'],
    [{ ...required, DOCS_ENABLED: 'maybe' }, 'DOCS_ENABLED'],
    [{ ...required, WEBHOOK_ALLOW_PRIVATE: 'yes' }, 'WEBHOOK_ALLOW_PRIVATE'],
    [{ ...required, WEBHOOK_RETRY_SCHEDULE: '0,5,soon' }, 'WEBHOOK_RETRY_SCHEDULE'],
    [{ ...required, WEBHOOK_RETRY_SCHEDULE: '0,,5' }, 'WEBHOOK_RETRY_SCHEDULE'],
    [{ ...required, WEBHOOK_RETRY_SCHEDULE: '0,-1' }, 'WEBHOOK_RETRY_SCHEDULE'],
    [{ ...required, WEBHOOK_RETRY_SCHEDULE: '1.5' }, 'WEBHOOK_RETRY_SCHEDULE'],
    [{ ...required, WEBHOOK_TIMEOUT_SECONDS: '0' }, 'WEBHOOK_TIMEOUT_SECONDS'],
    [{ ...required, WEBHOOK_CONCURRENCY: '0' }, 'WEBHOOK_CONCURRENCY'],
    [{ ...required, WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: '1.5' }, 'WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT'],
    [{ ...required, WEBHOOK_DISABLE_AFTER_HOURS: '0' }, 'WEBHOOK_DISABLE_AFTER_HOURS'],
  ])('names the bad variable (%o)', (source, name) => {
    expect(() => loadEnv(source as NodeJS.ProcessEnv)).toThrow(ConfigError);
    expect(() => loadEnv(source as NodeJS.ProcessEnv)).toThrow(name);
  });

  it('reads the webhook settings, with the Standard Webhooks retry schedule by default', () => {
    expect(loadEnv(required)).toMatchObject({
      WEBHOOK_ALLOW_PRIVATE: false,
      WEBHOOK_TIMEOUT_SECONDS: 15,
      WEBHOOK_RETRY_SCHEDULE: [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400],
      WEBHOOK_DISABLE_AFTER_HOURS: 120,
      WEBHOOK_CONCURRENCY: 64,
      WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: 4,
    });
    expect(loadEnv({ ...required, WEBHOOK_RETRY_SCHEDULE: ' 0, 1 ,1,1' }).WEBHOOK_RETRY_SCHEDULE).toEqual([
      0, 1, 1, 1,
    ]);
    expect(loadEnv({ ...required, WEBHOOK_ALLOW_PRIVATE: 'true' }).WEBHOOK_ALLOW_PRIVATE).toBe(true);
  });

  it('keeps reconciler sweeps at most a third of the arming horizon apart', () => {
    expect(loadEnv({ ...required, SLA_RECONCILE_INTERVAL: '300' }).SLA_RECONCILE_INTERVAL).toBe(300);
    expect(() => loadEnv({ ...required, SLA_RECONCILE_INTERVAL: '301' })).toThrow(/SLA_RECONCILE_INTERVAL/);
    // The largest interval allowed still sweeps three times while a wake-up crosses the horizon.
    expect(300 * 1000 * 3).toBeLessThanOrEqual(ARMING_HORIZON_MS);
  });

  it('takes a Redis Cluster instead of one server, never both', () => {
    const cluster = {
      DATABASE_URL: required.DATABASE_URL,
      REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7001',
    };
    expect(loadEnv(cluster).REDIS_CLUSTER_NODES).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
      tls: false,
    });
    expect(
      loadEnv({ ...cluster, REDIS_CLUSTER_NODES: 'rediss://app:s%3Acret@redis-1:6380,redis-2:6380' })
        .REDIS_CLUSTER_NODES,
    ).toEqual({
      nodes: [
        { host: 'redis-1', port: 6380 },
        { host: 'redis-2', port: 6380 },
      ],
      username: 'app',
      password: 's:cret',
      tls: true,
    });
    expect(() => loadEnv({ ...cluster, REDIS_URL: required.REDIS_URL })).toThrow(/REDIS_CLUSTER_NODES/);
    for (const bad of ['redis-1', 'http://redis-1:7000', 'redis-1:7000/2', ' , '])
      expect(() => loadEnv({ ...cluster, REDIS_CLUSTER_NODES: bad }), bad).toThrow(/REDIS_CLUSTER_NODES/);
    expect(() => loadEnv({ DATABASE_URL: required.DATABASE_URL })).toThrow(/REDIS_URL: is required/);
  });

  it('refuses braces in REDIS_PREFIX, and spreads deadlines over 1 to 64 queues', () => {
    expect(() => loadEnv({ ...required, REDIS_PREFIX: '{redress}' })).toThrow(/REDIS_PREFIX.*no braces/);
    expect(loadEnv(required).DEADLINE_QUEUE_SHARDS).toBe(1);
    expect(loadEnv({ ...required, DEADLINE_QUEUE_SHARDS: '4' }).DEADLINE_QUEUE_SHARDS).toBe(4);
    expect(() => loadEnv({ ...required, DEADLINE_QUEUE_SHARDS: '0' })).toThrow(/DEADLINE_QUEUE_SHARDS/);
  });

  it('treats empty strings as unset', () => {
    expect(loadEnv({ ...required, PORT: '' }).PORT).toBe(3000);
  });
});
