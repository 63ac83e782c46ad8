import { once } from 'node:events';
import { createServer } from 'node:net';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { toAppError } from '../http/plugins/errors.js';
import { NotFoundError, ServiceUnavailableError } from './errors.js';
import { outageError, unreachableService } from './unreachable.js';

const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });

/** A loopback port nothing listens on: connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  await new Promise((resolve) => server.close(resolve));
  return address.port;
}

describe('unreachableService', () => {
  it("names PostgreSQL for a server going away, refusing sessions or lost, through drizzle's wrapping", () => {
    for (const code of ['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08006', '08P01']) {
      expect(unreachableService(withCode(code)), code).toBe('postgres');
      expect(unreachableService(new DrizzleQueryError('select 1', [], withCode(code))), code).toBe(
        'postgres',
      );
    }
    for (const message of [
      'Connection terminated unexpectedly',
      'Connection terminated',
      'Connection terminated due to connection timeout',
      'timeout exceeded when trying to connect',
    ]) {
      expect(unreachableService(new Error(message)), message).toBe('postgres');
    }
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND']) {
      expect(unreachableService(withCode(code, `connect ${code} 10.0.0.1:5432`)), code).toBe('postgres');
    }
  });

  it('names Redis for what ioredis fails commands with while Redis is away', () => {
    for (const message of [
      "Stream isn't writeable and enableOfflineQueue options is false",
      'Connection is closed.',
      'Command timed out',
    ]) {
      expect(unreachableService(new Error(message)), message).toBe('redis');
    }
    const retriesSpent = new Error('Reached the max retries per request limit (which is 1).');
    retriesSpent.name = 'MaxRetriesPerRequestError';
    expect(unreachableService(retriesSpent)).toBe('redis');
  });

  it('names nothing for errors that are not outages', () => {
    for (const code of ['23505', '40001', '40P01', '57014', '42P01', 'XX000']) {
      expect(unreachableService(withCode(code)), code).toBeUndefined();
    }
    expect(unreachableService(new Error('Failed query'))).toBeUndefined();
    expect(unreachableService(new NotFoundError('Complaint', 'C-1'))).toBeUndefined();
    expect(unreachableService('ECONNREFUSED')).toBeUndefined();
    expect(unreachableService(null)).toBeUndefined();
  });

  it('recognises what the real drivers throw at a closed port', async () => {
    const port = await closedPort();
    const pool = new pg.Pool({ connectionString: `postgres://u:secret@127.0.0.1:${port}/db`, max: 1 });
    const pgError = await pool.query('select 1').catch((error: unknown) => error);
    await pool.end();
    expect(unreachableService(pgError)).toBe('postgres');

    const redis = new Redis(`redis://:secret@127.0.0.1:${port}`, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    redis.on('error', () => {});
    await redis.connect().catch(() => {});
    const redisError = await redis.ping().catch((error: unknown) => error);
    redis.disconnect();
    expect(unreachableService(redisError)).toBe('redis');
  });
});

describe('outageError', () => {
  it('is a 503 service_unavailable naming the service and Retry-After, never the address', () => {
    const error = outageError(
      new DrizzleQueryError('select 1', [], withCode('ECONNREFUSED', 'connect ECONNREFUSED 10.1.2.3:5432')),
    );
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({
      status: 503,
      code: 'service_unavailable',
      headers: { 'retry-after': '5' },
      extensions: { service: 'postgres' },
    });
    expect(error!.detail).toMatch(/^PostgreSQL cannot be reached; retry after 5 s/);
    expect(error!.detail).not.toMatch(/10\.1\.2\.3|5432/);
    expect(outageError(new Error('Connection is closed.'))!.detail).toMatch(/^Redis cannot be reached/);
    expect(outageError(withCode('23505'))).toBeUndefined();
  });

  it('is what the one error handler answers for an outage, instead of a 500', () => {
    expect(
      toAppError(withCode('57P01', 'terminating connection due to administrator command')),
    ).toMatchObject({
      status: 503,
      code: 'service_unavailable',
    });
    expect(toAppError(new Error('something else'))).toMatchObject({ status: 500, code: 'internal_error' });
  });
});
