import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeError, serializeRequest } from '../src/lib/logger.js';
import { call, complaintBody, createTestTenant, startTestApp, type TestApp } from './harness.js';

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

  it('names the calling tenant and key on every line of a request, never the key or the customer', async () => {
    const lines: string[] = [];
    const logged = await startTestApp(
      { LOG_LEVEL: 'info' },
      { logStream: { write: (line) => lines.push(line) } },
    );
    try {
      const tenant = await createTestTenant(logged.tenancy);
      const created = await call(logged.app, tenant.adminKey, {
        method: 'POST',
        url: '/v1/complaints',
        json: complaintBody({ customer: { name: 'Zed Secretname', phone: '+86 138 0000 4242' } }),
      });
      expect(created.statusCode, created.body).toBe(201);
      const missing = await call(logged.app, tenant.adminKey, {
        method: 'GET',
        url: '/v1/complaints/00000000-0000-0000-0000-000000000000',
      });
      expect(missing.statusCode).toBe(404);

      const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const ofRequest = (requestId: unknown) => entries.filter((entry) => entry.requestId === requestId);
      for (const response of [created, missing]) {
        const requestLines = ofRequest(response.headers['x-request-id']);
        // incoming request, (for the 404) request refused, request completed
        expect(requestLines.length).toBeGreaterThanOrEqual(2);
        const afterAuth = requestLines.filter((entry) => entry.msg !== 'incoming request');
        expect(afterAuth.map((entry) => entry.msg)).toContain('request completed');
        for (const entry of afterAuth) {
          expect(entry).toMatchObject({ tenantId: tenant.tenantId, keyPrefix: tenant.adminKey.slice(0, 12) });
        }
      }
      // Refusals whose detail quotes customer data: a template failing on the customer's name, and
      // a GraphQL document whose refused input holds a phone number.
      const template = await call(logged.app, tenant.adminKey, {
        method: 'POST',
        url: '/v1/reply-templates',
        json: { key: 'quoting', locale: 'en', name: 'Quoting', body: 'Dear {{customer.name.first}}' },
      });
      expect(template.statusCode, template.body).toBe(201);
      const render = await call(logged.app, tenant.adminKey, {
        method: 'POST',
        url: `/v1/reply-templates/${template.json().id}/render`,
        json: { complaintId: created.json().id },
      });
      expect(render.statusCode).toBe(422);
      const refusedDocument = await call(logged.app, tenant.adminKey, {
        method: 'POST',
        url: '/graphql',
        json: {
          query:
            'mutation { createComplaint(input: { channel: phone, subject: "s", description: "d", customer: { phone: 13800004242 } }) { id } }',
        },
      });
      expect(refusedDocument.statusCode).toBe(400);
      expect(refusedDocument.body).toContain('13800004242');
      // A read masked for a key without personal_data:read, and a clear webhook refused to it.
      const reader = await tenant.keyWith('complaints:read', 'webhooks:manage');
      const maskedRead = await call(logged.app, reader, {
        method: 'GET',
        url: `/v1/complaints/${created.json().id}`,
      });
      expect(maskedRead.json().customer.name).toBe('Zed S***');
      const clearHook = await call(logged.app, reader, {
        method: 'POST',
        url: '/v1/webhooks',
        json: { url: 'https://crm.example.com/hooks', events: ['complaint.*'], personalData: 'clear' },
      });
      expect(clearHook.statusCode).toBe(403);
      // An access export answers the customer's data in clear, and a malformed subject is refused:
      // neither the subject nor what is held on them reaches the logs.
      const exported = await call(logged.app, tenant.adminKey, {
        method: 'POST',
        url: '/v1/data-subjects/export',
        json: { phone: '+86 138 0000 4242' },
      });
      expect(exported.statusCode, exported.body).toBe(200);
      expect(exported.body).toContain('Zed Secretname');
      const refusedSubject = await call(logged.app, tenant.adminKey, {
        method: 'POST',
        url: '/v1/data-subjects/export',
        json: { phone: '+86 138 0000 4242', email: 'zed@secretname.example' },
      });
      expect(refusedSubject.statusCode).toBe(400);
      const refusedGraphql = await call(logged.app, tenant.adminKey, {
        method: 'POST',
        url: '/graphql',
        json: { query: 'mutation { exportDataSubject(email: "zed-at-secretname.example") }' },
      });
      expect(refusedGraphql.json().errors[0].extensions.code).toBe('data_subject_invalid');
      const all = lines.join('');
      expect(all).not.toContain('Zed S***');
      expect(all).not.toContain(tenant.adminKey);
      expect(all).not.toContain('Zed Secretname');
      expect(all).not.toContain('0000 4242');
      expect(all).not.toContain('13800004242');
      expect(all).not.toContain('secretname.example');
    } finally {
      await logged.close();
    }
  });
});
