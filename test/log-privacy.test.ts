import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeError, serializeRequest } from '../src/lib/logger.js';
import { startTestApp, type TestApp } from './harness.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('what reaches the logs', () => {
  it('keeps query parameters and quoted values of a failed query out', async () => {
    const secret = 'zed@secret.example';
    const failure = await t.database.db.execute(sql`select ${secret}::int`).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(String((failure as Error).message)).toContain(secret); // the raw error does carry it
    const logged = JSON.stringify(serializeError(failure));
    expect(logged).not.toContain(secret);
    expect(serializeError(failure)).toMatchObject({ code: '22P02' });
  });

  it('logs a request by its path, without the query string', () => {
    expect(serializeRequest({ method: 'GET', url: '/v1/complaints?q=Zed%20Secretname', id: 'r1' })).toEqual({
      method: 'GET',
      path: '/v1/complaints',
      requestId: 'r1',
    });
  });

  it('logs other errors whole', () => {
    const logged = serializeError(new RangeError('out of range'));
    expect(logged).toMatchObject({ type: 'RangeError', message: 'out of range' });
  });
});
