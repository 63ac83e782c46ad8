import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/lib/clock.js';
import { createComplaintBody } from '../src/modules/complaints/complaints.schemas.js';
import { purgeExpiredKeys } from '../src/modules/idempotency/idempotency.jobs.js';
import { createIdempotencyRepository } from '../src/modules/idempotency/idempotency.repository.js';
import { createIdempotencyService } from '../src/modules/idempotency/idempotency.service.js';
import {
  call,
  complaintBody,
  createTestTenant,
  startTestApp,
  type TestApp,
  type TestTenant,
} from './harness.js';

let t: TestApp;
let tenant: TestTenant;

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTestTenant(t.tenancy);
});
afterAll(() => t.close());

const post = (
  key: string | null,
  idempotencyKey: string,
  body: Record<string, unknown>,
  apiKey = tenant.adminKey,
) =>
  call(t.app, apiKey, {
    method: 'POST',
    url: '/v1/complaints',
    json: body,
    headers: key === null ? {} : { 'idempotency-key': idempotencyKey },
  });

async function countComplaints(subject: string) {
  const result = await t.database.pool.query(
    'select count(*)::int as n from complaints where tenant_id = $1 and subject = $2',
    [tenant.tenantId, subject],
  );
  return result.rows[0].n as number;
}

describe('Idempotency-Key on POST /v1/complaints', () => {
  it('replays the first answer for the same key and body, creating one complaint', async () => {
    const body = complaintBody({ subject: 'Idempotent replay' });
    const first = await post('k', 'key-replay-1', body);
    const second = await post('k', 'key-replay-1', body);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.body).toBe(first.body);
    expect(second.headers.location).toBe(first.headers.location);
    expect(second.headers.etag).toBe(first.headers.etag);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await countComplaints('Idempotent replay')).toBe(1);
  });

  it('refuses the same key with a different body with 422', async () => {
    await post('k', 'key-reuse-1', complaintBody({ subject: 'First use' }));
    const res = await post('k', 'key-reuse-1', complaintBody({ subject: 'Second use' }));
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('idempotency_key_reused');
    expect(await countComplaints('Second use')).toBe(0);
  });

  it('answers 409 while the first request with the key is still running, then replays it', async () => {
    // Hold an uncommitted complaint with the same externalRef, so the first request blocks on the unique index.
    const blocker = new pg.Client({ connectionString: t.env.DATABASE_URL });
    await blocker.connect();
    await blocker.query('begin');
    await blocker.query(
      `insert into complaints (id, tenant_id, reference, channel, subject, description, received_at, received_by, external_ref)
       values (gen_random_uuid(), $1, 'C-BLOCKER', 'web', 's', 'd', now(), 'test', 'held-ref')`,
      [tenant.tenantId],
    );
    const body = complaintBody({ subject: 'Slow first request', externalRef: 'held-ref' });
    const firstPromise = post('k', 'key-in-flight', body);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const whileRunning = await post('k', 'key-in-flight', body);
    expect(whileRunning.statusCode).toBe(409);
    expect(whileRunning.json().code).toBe('idempotency_request_in_progress');
    expect(whileRunning.headers['retry-after']).toBe('1');
    await blocker.query('rollback');
    await blocker.end();
    const first = await firstPromise;
    expect(first.statusCode).toBe(201);
    const retry = await post('k', 'key-in-flight', body);
    expect(retry.statusCode).toBe(201);
    expect(retry.json().id).toBe(first.json().id);
  });

  it('replays a 409 answer too, so a retry sees what the first attempt saw', async () => {
    await post(null, '', complaintBody({ subject: 'Owner of ref', externalRef: 'dup-ref' }));
    const body = complaintBody({ subject: 'Duplicate ref', externalRef: 'dup-ref' });
    const first = await post('k', 'key-conflict', body);
    const again = await post('k', 'key-conflict', body);
    expect(first.statusCode).toBe(409);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('external_ref_conflict');
  });

  it('does not spend a key on a request refused by validation', async () => {
    const bad = await post('k', 'key-after-400', complaintBody({ channel: 'pigeon' }));
    expect(bad.statusCode).toBe(400);
    const good = await post('k', 'key-after-400', complaintBody({ subject: 'After a 400' }));
    expect(good.statusCode).toBe(201);
  });

  it('scopes keys to the tenant', async () => {
    const other = await createTestTenant(t.tenancy);
    const body = complaintBody({ subject: 'Same key, two tenants' });
    const ours = await post('k', 'shared-key', body);
    const theirs = await post('k', 'shared-key', body, other.adminKey);
    expect(theirs.statusCode).toBe(201);
    expect(theirs.json().id).not.toBe(ours.json().id);
  });

  it('recovers when the first attempt committed but died before answering', async () => {
    const body = complaintBody({ subject: 'Died before answering' });
    const first = await post('k', 'key-crash', body);
    await t.database.pool.query(
      `update idempotency_keys set state = 'in_progress', response_status = null, response_body = null,
         response_headers = null, locked_until = now() - interval '1 second'
       where tenant_id = $1 and key = 'key-crash'`,
      [tenant.tenantId],
    );
    const retry = await post('k', 'key-crash', body);
    expect(retry.statusCode).toBe(201);
    expect(retry.json().id).toBe(first.json().id);
    expect(await countComplaints('Died before answering')).toBe(1);
    const replay = await post('k', 'key-crash', body);
    expect(replay.headers['idempotent-replayed']).toBe('true');
  });

  it('makes one complaint when a retry took over the key while the first attempt still ran', async () => {
    const acting = {
      tenantId: tenant.tenantId,
      actor: { type: 'api_key' as const, id: null, name: 'test', onBehalfOf: null },
    };
    const create = (subject: string, key: string, extra: Record<string, unknown> = {}) =>
      t.services.complaints.create(
        acting,
        { ...createComplaintBody.parse(complaintBody({ subject, ...extra })) },
        { key, recoveredResourceId: null },
      );
    for (const [subject, extra] of [
      ['Raced intake', {}],
      // The declining path runs in a transaction of its own; an externalRef makes the insert's
      // other reason to write nothing come into play.
      ['Raced intake, declined', { complainantRelation: 'other' }],
      ['Raced intake with a ref', { externalRef: `raced-${Date.now()}` }],
    ] as const) {
      const key = `race-${subject}`;
      // Both attempts hold the key (the second took over an expired lease); the first binds first.
      await t.services.repositories.idempotency.claim({
        tenantId: tenant.tenantId,
        key,
        requestFingerprint: 'f',
        lockedUntil: new Date(Date.now() + 60_000),
        expiresAt: new Date(Date.now() + 3_600_000),
      });
      const first = await create(subject, key, extra);
      await expect(create(subject, key, extra), subject).rejects.toMatchObject({
        code: 'idempotency_request_in_progress',
        status: 409,
      });
      expect(await countComplaints(subject), subject).toBe(1);
      const { rows } = await t.database.pool.query(
        'select resource_id from idempotency_keys where tenant_id = $1 and key = $2',
        [tenant.tenantId, key],
      );
      expect(rows[0].resource_id).toBe(first.row.id);
    }
  });

  it('keeps keys at least 24 hours', async () => {
    await post('k', 'key-retention', complaintBody({ subject: 'Retention' }));
    const row = await t.database.pool.query(
      `select extract(epoch from expires_at - created_at) as seconds from idempotency_keys where tenant_id = $1 and key = 'key-retention'`,
      [tenant.tenantId],
    );
    expect(Number(row.rows[0].seconds)).toBeGreaterThanOrEqual(24 * 3600);
  });

  it('refuses a malformed key', async () => {
    const res = await post('k', 'x'.repeat(256), complaintBody());
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].field).toBe('headers.idempotency-key');
  });
});

describe('a key at the very moment it expires', () => {
  it('is free again: begin() executes rather than asking again until the clock moves', async () => {
    const keyTenant = await createTestTenant(t.tenancy);
    const repository = createIdempotencyRepository(t.database.db);
    const expiry = new Date(Date.now() - 1_000);
    await repository.claim({
      tenantId: keyTenant.tenantId,
      key: 'expiring-now',
      requestFingerprint: 'old',
      lockedUntil: expiry,
      expiresAt: expiry,
    });
    // A clock that stands still at the expiry instant, to the millisecond.
    const service = createIdempotencyService({ repository, clock: { now: () => expiry }, ttlHours: 24 });
    const outcome = await Promise.race([
      service.begin(keyTenant.tenantId, 'expiring-now', 'new'),
      new Promise((resolve) => setTimeout(() => resolve('still asking'), 2_000)),
    ]);
    expect(outcome).toEqual({ kind: 'execute' });
  });
});

describe('retention purge', () => {
  it('deletes expired keys and nothing else', async () => {
    const purgeTenant = await createTestTenant(t.tenancy);
    const repository = createIdempotencyRepository(t.database.db);
    const now = Date.now();
    for (const [key, offset] of [
      ['expired-1', -1000],
      ['expired-2', -3_600_000],
      ['alive', 3_600_000],
    ] as const) {
      await repository.claim({
        tenantId: purgeTenant.tenantId,
        key,
        requestFingerprint: 'f',
        lockedUntil: new Date(now),
        expiresAt: new Date(now + offset),
      });
    }
    await purgeExpiredKeys({ repository, clock: systemClock, log: pino({ level: 'silent' }) });
    const left = await t.database.pool.query('select key from idempotency_keys where tenant_id = $1', [
      purgeTenant.tenantId,
    ]);
    expect(left.rows.map((r) => r.key)).toEqual(['alive']);
  });
});
