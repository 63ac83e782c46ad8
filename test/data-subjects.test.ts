import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGraphql } from './graphql-client.js';
import {
  call,
  complaintBody,
  createTestTenant,
  startTestApp,
  type TestApp,
  type TestTenant,
} from './harness.js';

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Json = Record<string, any>;

/**
 * Access exports (DSAR): everything a tenant holds on one person, found by any identifier their
 * complaints name, in clear, recorded without the identifier in clear.
 */
let t: TestApp;
let us: TestTenant;
let them: TestTenant;
/** Wang Fang's complaints: by phone alone, by email with the phone, by external id with the phone. */
let byPhone: Json;
let byEmail: Json;
let byExternalId: Json;
/** Someone else's complaint, and another tenant's with Wang Fang's phone. */
let someoneElse: Json;
let theirs: Json;

const PHONE = '+86 138 0013 8000';
const MESSAGE = 'Called Ms Wang about the Zhenzhu lift; she asked for a written apology.';

async function post(tenant: TestTenant, url: string, json: unknown, status = 201): Promise<Json> {
  const res = await call(t.app, tenant.adminKey, { method: 'POST', url, json });
  expect(res.statusCode, `${url}: ${res.body}`).toBe(status);
  return res.json();
}

const exportOf = (key: string, json: unknown) =>
  call(t.app, key, { method: 'POST', url: '/v1/data-subjects/export', json });

beforeAll(async () => {
  t = await startTestApp();
  us = await createTestTenant(t.tenancy);
  them = await createTestTenant(t.tenancy);
  const customer = (fields: Json) => ({ name: 'Wang Fang', ...fields });
  byPhone = await post(
    us,
    '/v1/complaints',
    complaintBody({ customer: customer({ phone: PHONE }), description: 'The Zhenzhu lift stopped.' }),
  );
  byEmail = await post(
    us,
    '/v1/complaints',
    complaintBody({ customer: customer({ email: 'Wang.Fang@Example.com', phone: '+86-138-0013-8000' }) }),
  );
  byExternalId = await post(
    us,
    '/v1/complaints',
    complaintBody({ customer: customer({ externalId: 'CRM-0077', phone: '+8613800138000' }) }),
  );
  someoneElse = await post(
    us,
    '/v1/complaints',
    complaintBody({ customer: { name: 'Li Lei', phone: '+86 139 0000 1111', email: 'li.lei@example.com' } }),
  );
  theirs = await post(them, '/v1/complaints', complaintBody({ customer: customer({ phone: PHONE }) }));
  await post(us, `/v1/complaints/${byPhone.id}/communications`, {
    direction: 'outbound',
    channel: 'phone',
    body: MESSAGE,
    contactMade: true,
  });
  await post(us, `/v1/complaints/${byPhone.id}/transitions`, { to: 'acknowledged' }, 200);
});
afterAll(async () => {
  await t?.close();
});

describe('POST /v1/data-subjects/export', () => {
  it('exports every complaint naming the phone, whatever identifier came first, whole and in clear', async () => {
    const res = await exportOf(us.adminKey, { phone: PHONE });
    expect(res.statusCode, res.body).toBe(200);
    const answer = res.json();
    expect(answer.subject).toEqual({ identifier: 'phone', value: '+8613800138000' });
    expect(Date.parse(answer.generatedAt)).not.toBeNaN();
    // Newest received first, each as GET /v1/complaints/{id} shows it.
    expect(answer.complaints.map((c: Json) => c.id)).toEqual([byExternalId.id, byEmail.id, byPhone.id]);
    for (const complaint of answer.complaints) {
      const read = await call(t.app, us.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}` });
      expect(complaint).toEqual(read.json());
    }
    expect(answer.complaints[2].description).toBe('The Zhenzhu lift stopped.');
    expect(answer.complaints[2].customer).toMatchObject({ name: 'Wang Fang', phone: PHONE });

    expect(answer.communications).toHaveLength(1);
    expect(answer.communications[0]).toMatchObject({ complaintId: byPhone.id, body: MESSAGE });

    // The timeline of each complaint as the timeline API shows it, with the complaint named.
    for (const complaint of [byPhone, byEmail, byExternalId]) {
      const page = await call(t.app, us.adminKey, {
        method: 'GET',
        url: `/v1/complaints/${complaint.id}/timeline?limit=100`,
      });
      const entries = answer.timeline.filter((entry: Json) => entry.complaintId === complaint.id);
      expect(entries).toEqual(
        page.json().data.map((entry: Json) => ({ ...entry, complaintId: complaint.id })),
      );
    }
    expect(answer.timeline.map((entry: Json) => entry.type)).toContain('communication.recorded');

    // The events about them still kept, in the envelope the feed and webhooks carry.
    const ids = new Set([byPhone.id, byEmail.id, byExternalId.id]);
    expect(answer.events.length).toBeGreaterThanOrEqual(5);
    for (const event of answer.events) expect(ids.has(event.data.complaintId)).toBe(true);
    const types = answer.events.map((event: Json) => `${event.data.complaintId} ${event.type}`);
    for (const id of ids) expect(types).toContain(`${id} complaint.created`);
    expect(types).toContain(`${byPhone.id} communication.recorded`);
    expect(types).toContain(`${byPhone.id} complaint.status_changed`);
    expect(answer.events.find((e: Json) => e.type === 'communication.recorded').data.communication.body).toBe(
      MESSAGE,
    );

    expect(answer.counts).toEqual({
      complaints: 3,
      communications: 1,
      timelineEntries: answer.timeline.length,
      events: answer.events.length,
    });
    expect(answer.truncated).toBe(false);

    // Nothing of anyone else's: another customer, another tenant with the same phone.
    for (const other of [someoneElse.id, theirs.id, them.tenantId]) expect(res.body).not.toContain(other);
  });

  it('finds by email in any case only the complaints naming that email', async () => {
    const res = await exportOf(us.adminKey, { email: 'WANG.FANG@example.COM' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().subject).toEqual({ identifier: 'email', value: 'wang.fang@example.com' });
    expect(res.json().complaints.map((c: Json) => c.id)).toEqual([byEmail.id]);
    expect(res.json().communications).toEqual([]);
  });

  it('finds by external id exactly', async () => {
    const res = await exportOf(us.adminKey, { externalId: 'CRM-0077' });
    expect(res.json().complaints.map((c: Json) => c.id)).toEqual([byExternalId.id]);
    const other = await exportOf(us.adminKey, { externalId: 'crm-0077' });
    expect(other.json().complaints).toEqual([]);
  });

  it('answers a subject of whom nothing is held with empty lists, and records that too', async () => {
    const res = await exportOf(us.adminKey, { phone: '+86 139 9999 0000' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      complaints: [],
      communications: [],
      timeline: [],
      events: [],
      counts: { complaints: 0, communications: 0, timelineEntries: 0, events: 0 },
      truncated: false,
    });
  });

  it.each([
    ['no identifier', {}, ['body.phone', 'body.email', 'body.externalId']],
    ['a blank one', { phone: '   ' }, ['body.phone', 'body.email', 'body.externalId']],
    ['two identifiers', { phone: PHONE, email: 'wang.fang@example.com' }, ['body.phone', 'body.email']],
    ['a malformed email', { email: 'wang.fang-at-example.com' }, ['body.email']],
    ['a phone without digits', { phone: '+()' }, ['body.phone']],
  ])('refuses %s as data_subject_invalid, recording nothing', async (_name, body, fields) => {
    const before = await exportedEvents(us);
    const res = await exportOf(us.adminKey, body);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().code).toBe('data_subject_invalid');
    expect(res.json().errors.map((e: Json) => e.field)).toEqual(fields);
    expect(res.body).not.toContain('wang.fang');
    expect(await exportedEvents(us)).toHaveLength(before.length);
  });

  it('refuses a subject that is not text, or is too long, as validation_failed', async () => {
    for (const body of [{ phone: 8613800138000 }, { externalId: 'x'.repeat(201) }, { name: 'Wang Fang' }]) {
      const res = await exportOf(us.adminKey, body);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
  });

  it('needs personal_data:export, and personal_data:read as well: an export is in clear', async () => {
    const reader = await us.keyWith('complaints:read', 'personal_data:read');
    const withoutRead = await us.keyWith('complaints:read', 'personal_data:export');
    const both = await us.keyWith('personal_data:export', 'personal_data:read');
    const refused = await exportOf(reader, { phone: PHONE });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({
      code: 'insufficient_scope',
      requiredScope: 'personal_data:export',
    });
    const masked = await exportOf(withoutRead, { phone: PHONE });
    expect(masked.statusCode).toBe(403);
    expect(masked.json()).toMatchObject({ code: 'insufficient_scope', requiredScope: 'personal_data:read' });
    const allowed = await exportOf(both, { phone: PHONE });
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect(allowed.json().complaints).toHaveLength(3);
  });

  it('is recorded as a data_subject.exported event naming the subject masked, never in clear', async () => {
    const key = await us.keyWith('personal_data:export', 'personal_data:read');
    const res = await exportOf(key, { phone: PHONE });
    expect(res.statusCode).toBe(200);
    const recorded = (await exportedEvents(us)).at(-1)!;
    expect(recorded.complaint_id).toBeNull();
    expect(recorded.data).toEqual({
      subject: { identifier: 'phone', masked: '+86 138****8000' },
      counts: res.json().counts,
      truncated: false,
      actor: { type: 'api_key', id: expect.any(String), name: expect.any(String), onBehalfOf: null },
    });
    const stored = JSON.stringify(recorded);
    for (const clear of ['13800138000', '0013 8000', '0013-8000', 'Wang', 'Zhenzhu']) {
      expect(stored).not.toContain(clear);
    }
    // Only the calling tenant's record.
    expect(await exportedEvents(them)).toEqual([]);
  });
});

describe('GraphQL exportDataSubject', () => {
  const EXPORT = /* GraphQL */ `
    mutation ($phone: String, $email: String, $externalId: String) {
      exportDataSubject(phone: $phone, email: $email, externalId: $externalId)
    }
  `;

  it('answers what REST answers', async () => {
    const answer = await postGraphql(t.app, us.adminKey, EXPORT, { email: 'wang.fang@example.com' });
    expect(answer.errors).toEqual([]);
    const rest = (await exportOf(us.adminKey, { email: 'wang.fang@example.com' })).json();
    const { generatedAt: _a, ...fromGraphql } = answer.data.exportDataSubject;
    const { generatedAt: _b, ...fromRest } = rest;
    expect(fromGraphql).toEqual(fromRest);
  });

  it('refuses two identifiers and a key without the scopes with the REST codes', async () => {
    const two = await postGraphql(t.app, us.adminKey, EXPORT, { phone: PHONE, externalId: 'CRM-0077' });
    expect(two.errors[0]!.extensions).toMatchObject({ code: 'data_subject_invalid', status: 400 });
    const reader = await us.keyWith('complaints:read', 'personal_data:read');
    const refused = await postGraphql(t.app, reader, EXPORT, { phone: PHONE });
    expect(refused.errors[0]!.extensions).toMatchObject({
      code: 'insufficient_scope',
      requiredScope: 'personal_data:export',
    });
  });
});

/** The tenant's data_subject.exported events as stored, oldest first. */
async function exportedEvents(tenant: TestTenant) {
  const { rows } = await t.database.pool.query<{ complaint_id: string | null; data: Json }>(
    `select complaint_id, data from events where tenant_id = $1 and type = 'data_subject.exported' order by position`,
    [tenant.tenantId],
  );
  return rows;
}
