import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASKED_TEXT } from '../src/modules/personal-data/masks.js';
import { COMPLAINT_FIELDS, postGraphql } from './graphql-client.js';
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
 * Personal data is masked for callers without `personal_data:read`: the same complaint read by a
 * key that holds it and one that does not, over every way it leaves Redress but webhooks (those
 * are in webhook-personal-data.test.ts, with a worker).
 */
let t: TestApp;
let tenant: TestTenant;
let clearKey: string;
let maskedKey: string;
let complaintId: string;
let reference: string;

const CUSTOMER = {
  name: 'Wang Fang',
  phone: '+8613812348000',
  email: 'wangfang@example.com',
  address: '上海市浦东新区世纪大道 88 号',
  externalId: 'CRM-0012345',
};
const MASKED_CUSTOMER = {
  name: 'Wang F***',
  phone: '+86 138****8000',
  email: 'w***@example.com',
  address: MASKED_TEXT,
  externalId: 'CR***45',
};
const DESCRIPTION = 'Zhenzhu lift stopped between floors; call me at home after six.';
const OUTCOME = 'Refund of the Zhenzhu service fee';
const MESSAGE = 'Called Ms Wang about the Zhenzhu lift; she asked for a written apology.';
/** Words of the clear data that no masked answer may hold. */
const SECRETS = ['Fang', '13812348000', '1234', 'wangfang', '浦东', 'CRM-0012345', 'Zhenzhu', 'Wang Li'];

function expectNoSecrets(body: string) {
  for (const secret of SECRETS) expect(body, `masked answer holds ${secret}`).not.toContain(secret);
}

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTestTenant(t.tenancy);
  clearKey = await tenant.keyWith('complaints:read', 'personal_data:read');
  maskedKey = await tenant.keyWith('complaints:read');
  const created = await call(t.app, tenant.adminKey, {
    method: 'POST',
    url: '/v1/complaints',
    json: complaintBody({ customer: CUSTOMER, description: DESCRIPTION, desiredOutcome: OUTCOME }),
  });
  expect(created.statusCode, created.body).toBe(201);
  complaintId = created.json().id;
  reference = created.json().reference;
  const communication = await call(t.app, tenant.adminKey, {
    method: 'POST',
    url: `/v1/complaints/${complaintId}/communications`,
    json: { direction: 'outbound', channel: 'phone', body: MESSAGE, contactMade: true },
  });
  expect(communication.statusCode, communication.body).toBe(201);
  const edited = await call(t.app, tenant.adminKey, {
    method: 'PATCH',
    url: `/v1/complaints/${complaintId}`,
    headers: { 'if-match': created.headers.etag as string },
    json: { customer: { name: 'Wang Li', phone: '+86 139 8765 4321' } },
  });
  expect(edited.statusCode, edited.body).toBe(200);
});
afterAll(async () => {
  await t?.close();
});

describe('a complaint read with and without personal_data:read', () => {
  it('GET shows the customer, description and desired outcome in clear with the scope, masked without', async () => {
    const clear = await call(t.app, clearKey, { method: 'GET', url: `/v1/complaints/${complaintId}` });
    expect(clear.statusCode).toBe(200);
    expect(clear.json()).toMatchObject({
      customer: { ...CUSTOMER, name: 'Wang Li', phone: '+86 139 8765 4321' },
      description: DESCRIPTION,
      desiredOutcome: OUTCOME,
    });

    const masked = await call(t.app, maskedKey, { method: 'GET', url: `/v1/complaints/${reference}` });
    expect(masked.statusCode).toBe(200);
    expect(masked.json()).toMatchObject({
      id: complaintId,
      reference,
      subject: clear.json().subject,
      customer: { ...MASKED_CUSTOMER, name: 'Wang L***', phone: '+86 139****4321' },
      description: MASKED_TEXT,
      desiredOutcome: MASKED_TEXT,
      version: clear.json().version,
    });
    expect(masked.headers.etag).toBe(clear.headers.etag);
    expectNoSecrets(masked.body);
  });

  it('lists and search results are masked the same way', async () => {
    for (const url of ['/v1/complaints', `/v1/complaints?q=${encodeURIComponent('Wang')}`]) {
      const clear = await call(t.app, clearKey, { method: 'GET', url });
      const masked = await call(t.app, maskedKey, { method: 'GET', url });
      expect(masked.statusCode, masked.body).toBe(200);
      const clearOne = clear.json().data.find((c: { id: string }) => c.id === complaintId);
      const maskedOne = masked.json().data.find((c: { id: string }) => c.id === complaintId);
      expect(clearOne.customer.email).toBe(CUSTOMER.email);
      expect(maskedOne.customer).toEqual({ ...MASKED_CUSTOMER, name: 'Wang L***', phone: '+86 139****4321' });
      expect(maskedOne.description).toBe(MASKED_TEXT);
      expectNoSecrets(masked.body);
    }
  });

  it('the timeline masks the complaint as taken in, the changes and the communication', async () => {
    const url = `/v1/complaints/${complaintId}/timeline`;
    const clear = await call(t.app, clearKey, { method: 'GET', url });
    const masked = await call(t.app, maskedKey, { method: 'GET', url });
    expect(masked.statusCode).toBe(200);
    const byType = (body: { data: Array<{ type: string }> }, type: string) =>
      body.data.find((entry) => entry.type === type) as Json;

    expect(byType(clear.json(), 'complaint.created').data.complaint.customer.name).toBe('Wang Fang');
    expect(byType(clear.json(), 'communication.recorded').data.body).toBe(MESSAGE);
    expect(byType(clear.json(), 'complaint.updated').changes).toContainEqual({
      field: 'customer.name',
      before: 'Wang Fang',
      after: 'Wang Li',
    });

    const created = byType(masked.json(), 'complaint.created');
    expect(created.data.complaint).toMatchObject({
      customer: MASKED_CUSTOMER,
      description: MASKED_TEXT,
      desiredOutcome: MASKED_TEXT,
    });
    expect(byType(masked.json(), 'communication.recorded').data).toMatchObject({
      body: MASKED_TEXT,
      direction: 'outbound',
      contactMade: true,
    });
    const changes = byType(masked.json(), 'complaint.updated').changes;
    expect(changes).toContainEqual({ field: 'customer.name', before: 'Wang F***', after: 'Wang L***' });
    expect(changes).toContainEqual({
      field: 'customer.phone',
      before: '+86 138****8000',
      after: '+86 139****4321',
    });
    expect(masked.json().data.length).toBe(clear.json().data.length);
    expectNoSecrets(masked.body);
  });

  it('GraphQL masks the complaint, its timeline and the complaint of a list', async () => {
    const query = /* GraphQL */ `
      query ($id: ID!) {
        complaint(id: $id) {
          ${COMPLAINT_FIELDS}
          timeline(first: 50) { nodes { type changes { field before after } data } }
        }
        complaints(first: 10) { nodes { id customer { name phone email address externalId } description } }
      }
    `;
    const clear = await postGraphql(t.app, clearKey, query, { id: complaintId });
    const masked = await postGraphql(t.app, maskedKey, query, { id: complaintId });
    expect(clear.errors).toEqual([]);
    expect(masked.errors).toEqual([]);
    const rest = await call(t.app, maskedKey, { method: 'GET', url: `/v1/complaints/${complaintId}` });
    const { nextDeadline: _rest, ...restComplaint } = rest.json();
    const { timeline, nextDeadline: _gql, ...gqlComplaint } = masked.data.complaint;
    // GraphQL shows exactly what REST shows the same caller.
    expect(gqlComplaint).toEqual(restComplaint);
    expect(clear.data.complaint.customer.email).toBe(CUSTOMER.email);

    const entry = (type: string) => timeline.nodes.find((n: { type: string }) => n.type === type);
    expect(entry('complaint.created').data.complaint.customer).toEqual(MASKED_CUSTOMER);
    expect(entry('communication.recorded').data.body).toBe(MASKED_TEXT);
    expect(entry('complaint.updated').changes).toContainEqual({
      field: 'customer.name',
      before: 'Wang F***',
      after: 'Wang L***',
    });
    const listed = masked.data.complaints.nodes.find((n: { id: string }) => n.id === complaintId);
    expect(listed.customer.email).toBe('w***@example.com');
    expect(listed.description).toBe(MASKED_TEXT);
    expectNoSecrets(JSON.stringify(masked.data));
  });

  it('a reply template rendered for a caller without the scope fills in the customer masked', async () => {
    const template = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/reply-templates',
      json: {
        key: 'personal_preview',
        locale: 'en',
        name: 'Preview',
        body: 'Dear {{customer.name}} ({{customer.phone}}), about {{reference}}: {{desiredOutcome}}',
      },
    });
    expect(template.statusCode, template.body).toBe(201);
    const render = (key: string) =>
      call(t.app, key, {
        method: 'POST',
        url: `/v1/reply-templates/${template.json().id}/render`,
        json: { complaintId },
      });
    expect((await render(clearKey)).json().body).toBe(
      `Dear Wang Li (+86 139 8765 4321), about ${reference}: ${OUTCOME}`,
    );
    const masked = await render(maskedKey);
    expect(masked.json().body).toBe(`Dear Wang L*** (+86 139****4321), about ${reference}: ${MASKED_TEXT}`);
    const gql = await postGraphql(
      t.app,
      maskedKey,
      'query ($id: ID!, $input: RenderReplyTemplateInput!) { renderReplyTemplate(id: $id, input: $input) { body } }',
      { id: template.json().id, input: { complaintId } },
    );
    expect(gql.errors).toEqual([]);
    expect(gql.data.renderReplyTemplate.body).toBe(masked.json().body);
  });

  it('the daily inventory CSV holds no personal data to mask', async () => {
    const key = await tenant.keyWith('reports:read');
    const csv = await call(t.app, key, {
      method: 'GET',
      url: '/v1/reports/daily-inventory',
      headers: { accept: 'text/csv' },
    });
    expect(csv.statusCode, csv.body).toBe(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expectNoSecrets(csv.body);
    for (const value of Object.values(MASKED_CUSTOMER)) expect(csv.body).not.toContain(value);
  });
});

describe('answers to writes', () => {
  it('mask what a writer without the scope gets back, the complaint it sent included', async () => {
    const writer = await tenant.keyWith('complaints:write');
    const res = await call(t.app, writer, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody({ customer: CUSTOMER, description: DESCRIPTION }),
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().customer).toEqual(MASKED_CUSTOMER);
    const communication = await call(t.app, writer, {
      method: 'POST',
      url: `/v1/complaints/${res.json().id}/communications`,
      json: { direction: 'inbound', channel: 'email', body: MESSAGE, contactMade: true },
    });
    expect(communication.statusCode, communication.body).toBe(201);
    expect(communication.json().body).toBe(MASKED_TEXT);
    expectNoSecrets(res.body + communication.body);
  });

  it('a replayed answer is masked for a caller without the scope and whole for one with it', async () => {
    const clearWriter = await tenant.keyWith('complaints:write', 'personal_data:read');
    const maskedWriter = await tenant.keyWith('complaints:write');
    const body = complaintBody({ customer: CUSTOMER, description: DESCRIPTION });
    const headers = { 'idempotency-key': `replay-${Date.now()}` };
    const first = await call(t.app, clearWriter, {
      method: 'POST',
      url: '/v1/complaints',
      json: body,
      headers,
    });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json().customer.phone).toBe(CUSTOMER.phone);

    const replayedMasked = await call(t.app, maskedWriter, {
      method: 'POST',
      url: '/v1/complaints',
      json: body,
      headers,
    });
    expect(replayedMasked.statusCode).toBe(201);
    expect(replayedMasked.headers['idempotent-replayed']).toBe('true');
    expect(replayedMasked.json()).toMatchObject({ id: first.json().id, customer: MASKED_CUSTOMER });
    expectNoSecrets(replayedMasked.body);

    const replayedClear = await call(t.app, clearWriter, {
      method: 'POST',
      url: '/v1/complaints',
      json: body,
      headers,
    });
    expect(replayedClear.headers['idempotent-replayed']).toBe('true');
    expect(replayedClear.json()).toEqual(first.json());
  });

  it('a first answer to a caller without the scope is stored whole: a later replay with it is in clear', async () => {
    const clearWriter = await tenant.keyWith('complaints:write', 'personal_data:read');
    const maskedWriter = await tenant.keyWith('complaints:write');
    const body = complaintBody({ customer: CUSTOMER });
    const headers = { 'idempotency-key': `masked-first-${Date.now()}` };
    const first = await call(t.app, maskedWriter, {
      method: 'POST',
      url: '/v1/complaints',
      json: body,
      headers,
    });
    expect(first.json().customer).toEqual(MASKED_CUSTOMER);
    const replayed = await call(t.app, clearWriter, {
      method: 'POST',
      url: '/v1/complaints',
      json: body,
      headers,
    });
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.json().customer).toEqual(CUSTOMER);
  });

  it('a GraphQL mutation replayed to a caller without the scope is masked', async () => {
    const clearWriter = await tenant.keyWith('complaints:write', 'personal_data:read');
    const maskedWriter = await tenant.keyWith('complaints:write');
    const mutation = /* GraphQL */ `
      mutation ($input: ComplaintInput!, $key: String) {
        createComplaint(input: $input, idempotencyKey: $key) { id customer { name phone email externalId } description }
      }
    `;
    const input = complaintBody({ customer: CUSTOMER, description: DESCRIPTION });
    const key = `gql-replay-${Date.now()}`;
    const first = await postGraphql(t.app, clearWriter, mutation, { input, key });
    expect(first.errors).toEqual([]);
    expect(first.data.createComplaint.customer.name).toBe('Wang Fang');
    const replayed = await postGraphql(t.app, maskedWriter, mutation, { input, key });
    expect(replayed.errors).toEqual([]);
    expect(replayed.data.createComplaint).toEqual({
      id: first.data.createComplaint.id,
      customer: {
        name: MASKED_CUSTOMER.name,
        phone: MASKED_CUSTOMER.phone,
        email: MASKED_CUSTOMER.email,
        externalId: MASKED_CUSTOMER.externalId,
      },
      description: MASKED_TEXT,
    });
  });
});

describe('who holds personal_data:read', () => {
  it('admin keys see personal data in clear, and a key can be given the scope', async () => {
    const admin = await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaintId}` });
    expect(admin.json().customer.email).toBe(CUSTOMER.email);
    const created = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/api-keys',
      json: { name: 'crm', scopes: ['complaints:read', 'personal_data:read'] },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().apiKey?.scopes ?? created.json().scopes).toContain('personal_data:read');
  });
});
