import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
afterAll(async () => {
  await t?.close();
});

const url = '/v1/reply-templates';

async function createComplaint(key: string, overrides: Record<string, unknown> = {}) {
  const res = await call(t.app, key, {
    method: 'POST',
    url: '/v1/complaints',
    json: complaintBody(overrides),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** POST /v1/complaints/{id}/communications as the tenant's admin. */
const communicate = (complaintId: string, json: Record<string, unknown>) =>
  call(t.app, tenant.adminKey, { method: 'POST', url: `/v1/complaints/${complaintId}/communications`, json });

async function createTemplate(key: string, json: Record<string, unknown>) {
  const res = await call(t.app, key, { method: 'POST', url, json });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

describe('/v1/reply-templates', () => {
  it('starts every tenant with the seed templates in zh-CN and en', async () => {
    const fresh = await createTestTenant(t.tenancy);
    const res = await call(t.app, fresh.adminKey, { method: 'GET', url });
    expect(res.statusCode).toBe(200);
    const pairs = res.json().data.map((tpl: { key: string; locale: string }) => `${tpl.key}/${tpl.locale}`);
    expect(pairs).toEqual([
      'acknowledgement/en',
      'acknowledgement/zh-CN',
      'follow_up/en',
      'follow_up/zh-CN',
      'resolution_notice/en',
      'resolution_notice/zh-CN',
    ]);
    const zh = await call(t.app, fresh.adminKey, {
      method: 'GET',
      url: `${url}?key=acknowledgement&locale=zh-CN`,
    });
    expect(zh.json().data).toHaveLength(1);
    expect(zh.json().data[0].body).toContain('{{customer.name}}');
  });

  it('creates, reads, versions with If-Match, and deletes a template', async () => {
    const created = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url,
      json: { key: 'apology', locale: 'en', name: 'Apology', body: 'Sorry, {{customer.name}}.' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const template = created.json();
    expect(template).toMatchObject({ key: 'apology', locale: 'en', subject: null, version: 1 });
    expect(created.headers.location).toBe(`${url}/${template.id}`);
    const again = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url,
      json: { key: 'apology', locale: 'en', name: 'Twice', body: 'x' },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('reply_template_exists');

    const noMatch = await call(t.app, tenant.adminKey, {
      method: 'PATCH',
      url: `${url}/${template.id}`,
      json: { body: 'We apologise, {{customer.name}}.' },
    });
    expect(noMatch.statusCode).toBe(428);
    const changed = await call(t.app, tenant.adminKey, {
      method: 'PATCH',
      url: `${url}/${template.id}`,
      headers: { 'if-match': '"1"' },
      json: { body: 'We apologise, {{customer.name}}.' },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ version: 2, body: 'We apologise, {{customer.name}}.' });
    const stale = await call(t.app, tenant.adminKey, {
      method: 'PATCH',
      url: `${url}/${template.id}`,
      headers: { 'if-match': '"1"' },
      json: { name: 'x' },
    });
    expect(stale.statusCode).toBe(412);
    const read = await call(t.app, tenant.adminKey, { method: 'GET', url: `${url}/${template.id}` });
    expect(read.headers.etag).toBe('"2"');
    expect(
      (await call(t.app, tenant.adminKey, { method: 'DELETE', url: `${url}/${template.id}` })).statusCode,
    ).toBe(204);
    expect(
      (await call(t.app, tenant.adminKey, { method: 'GET', url: `${url}/${template.id}` })).statusCode,
    ).toBe(404);
  });

  it('renders against a complaint, and names a missing variable instead of leaving a blank', async () => {
    const complaint = await createComplaint(tenant.adminKey, { channel: 'phone' });
    const template = await createTemplate(tenant.adminKey, {
      key: 'callback',
      locale: 'zh-CN',
      name: '回电',
      subject: '{{reference}}',
      body: '尊敬的{{customer.name}}：您的投诉 {{reference}} 将在 {{nextDueAt}} 前处理。{{#if promise}}承诺：{{promise}}{{/if}}',
    });
    const rendered = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `${url}/${template.id}/render`,
      json: { complaintId: complaint.reference, variables: { promise: '今天回电' } },
    });
    expect(rendered.statusCode, rendered.body).toBe(200);
    // The first-contact deadline, 24 hours on, in Asia/Shanghai (UTC+8).
    const due = new Date(new Date(complaint.nextDeadline.dueAt).getTime() + 8 * 3_600_000)
      .toISOString()
      .slice(0, 16)
      .replace('T', ' ');
    expect(rendered.json()).toEqual({
      templateId: template.id,
      templateVersion: 1,
      key: 'callback',
      locale: 'zh-CN',
      subject: complaint.reference,
      body: `尊敬的Wang Fang：您的投诉 ${complaint.reference} 将在 ${due} 前处理。承诺：今天回电`,
    });

    const anonymous = await createComplaint(tenant.adminKey, { customer: { phone: '+86 138 0000 0000' } });
    const missing = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `${url}/${template.id}/render`,
      json: { complaintId: anonymous.id },
    });
    expect(missing.statusCode).toBe(422);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect(missing.json()).toMatchObject({ code: 'template_variable_missing', variable: 'customer.name' });
  });

  it('records the template and its version on a communication written from it', async () => {
    const complaint = await createComplaint(tenant.adminKey, { channel: 'phone' });
    const [ack] = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: `${url}?key=acknowledgement&locale=en` })
    ).json().data;
    const res = await communicate(complaint.id, {
      direction: 'outbound',
      channel: 'phone',
      templateId: ack.id,
      contactMade: true,
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ template: { id: ack.id, version: ack.version } });
    expect(res.json().body).toContain(
      `Dear Wang Fang,\nWe have received your complaint ${complaint.reference}`,
    );

    // Written by hand while citing the template: the text is kept as sent.
    const cited = await communicate(complaint.id, {
      direction: 'outbound',
      channel: 'email',
      templateId: ack.id,
      body: 'Edited text',
      contactMade: true,
    });
    expect(cited.json()).toMatchObject({
      body: 'Edited text',
      template: { id: ack.id, version: ack.version },
    });
    const timeline = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}/timeline` })
    ).json().data;
    const recorded = timeline.filter((entry: { type: string }) => entry.type === 'communication.recorded');
    expect(recorded[0].data.template).toEqual({ id: ack.id, version: ack.version });

    const anonymous = await createComplaint(tenant.adminKey, { customer: { email: 'a@example.com' } });
    const refused = await communicate(anonymous.id, {
      direction: 'outbound',
      channel: 'email',
      templateId: ack.id,
      contactMade: true,
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'template_variable_missing', variable: 'customer.name' });
    const plain = await communicate(complaint.id, {
      direction: 'outbound',
      channel: 'email',
      body: 'Plain',
      contactMade: true,
    });
    expect(plain.json().template).toBeNull();
  });

  it('refuses bad templates, bodies and render requests', async () => {
    for (const json of [
      { key: 'Bad Key', locale: 'en', name: 'x', body: 'x' },
      { key: 'ok', locale: 'english', name: 'x', body: 'x' },
      { key: 'ok', locale: 'en', name: 'x', body: '' },
      { key: 'ok', locale: 'en', name: 'x', body: '{{#if a}' },
      { key: 'ok', locale: 'en', name: 'x', body: '{{lookup . "a"}}' },
      { key: 'ok', locale: 'en', name: 'x', subject: '{{', body: 'fine' },
      { key: 'ok', locale: 'en', body: 'no name' },
      { key: 'ok', locale: 'en', name: 'x', body: 'x', extra: 1 },
      { key: 'ok', locale: 'en', name: 'x', body: 'Hello {{> signature}}' },
      {
        key: 'ok',
        locale: 'en',
        name: 'x',
        body: '{{#each a}}{{#with b}}{{#each @root.a}}x{{/each}}{{/with}}{{/each}}',
      },
    ]) {
      const res = await call(t.app, tenant.adminKey, { method: 'POST', url, json });
      expect(res.statusCode, JSON.stringify(json)).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
    const [ack] = (await call(t.app, tenant.adminKey, { method: 'GET', url })).json().data;
    for (const json of [
      {},
      { complaintId: 'nope' },
      { complaintId: 'C-000001', variables: { 'a.b': 'x' } },
    ]) {
      const res = await call(t.app, tenant.adminKey, {
        method: 'POST',
        url: `${url}/${ack.id}/render`,
        json,
      });
      expect(res.statusCode, JSON.stringify(json)).toBe(400);
    }
    const unknownComplaint = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `${url}/${ack.id}/render`,
      json: { complaintId: 'C-999999' },
    });
    expect(unknownComplaint.statusCode).toBe(404);
    const complaint = await createComplaint(tenant.adminKey);
    const noText = await communicate(complaint.id, {
      direction: 'outbound',
      channel: 'email',
      contactMade: true,
    });
    expect(noText.statusCode).toBe(400);
    const unknownTemplate = await communicate(complaint.id, {
      direction: 'outbound',
      channel: 'email',
      contactMade: true,
      templateId: '00000000-0000-4000-8000-000000000000',
    });
    expect(unknownTemplate.statusCode).toBe(400);
    expect(unknownTemplate.json().errors[0].field).toBe('body.templateId');
  });

  it('answers 422, not 500, for a template that compiles but fails when rendered', async () => {
    const complaint = await createComplaint(tenant.adminKey);
    // `if` without its argument compiles, and fails only when it runs.
    const broken = await createTemplate(tenant.adminKey, {
      key: 'broken_if',
      locale: 'en',
      name: 'Broken',
      body: '{{#if}}x{{/if}}',
    });
    const rendered = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `${url}/${broken.id}/render`,
      json: { complaintId: complaint.id },
    });
    expect(rendered.statusCode, rendered.body).toBe(422);
    expect(rendered.json().code).toBe('template_render_failed');
    const written = await communicate(complaint.id, {
      direction: 'outbound',
      channel: 'email',
      contactMade: true,
      templateId: broken.id,
    });
    expect(written.statusCode).toBe(422);
    expect(written.json().code).toBe('template_render_failed');
  });

  it('keeps what a template renders into a communication within the body limit, and bounds its variables', async () => {
    const complaint = await createComplaint(tenant.adminKey);
    const listing = await createTemplate(tenant.adminKey, {
      key: 'listing',
      locale: 'en',
      name: 'Listing',
      body: '{{#each items}}{{@key}}: {{this}}\n{{/each}}',
    });
    const items = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`item${i}`, 'x'.repeat(1_000)]));
    const tooLong = await communicate(complaint.id, {
      direction: 'outbound',
      channel: 'email',
      contactMade: true,
      templateId: listing.id,
      variables: { items },
    });
    expect(tooLong.statusCode, tooLong.body).toBe(400);
    expect(tooLong.json().errors[0]).toMatchObject({ field: 'body.templateId' });
    const timeline = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}/timeline` })
    ).json().data;
    expect(timeline.filter((entry: { type: string }) => entry.type === 'communication.recorded')).toEqual([]);

    const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`item${i}`, 'x']));
    const refused = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `${url}/${listing.id}/render`,
      json: { complaintId: complaint.id, variables: { items: tooMany } },
    });
    expect(refused.statusCode).toBe(400);
  });

  it('keeps templates to their tenant and scopes', async () => {
    const other = await createTestTenant(t.tenancy);
    const [theirs] = (await call(t.app, other.adminKey, { method: 'GET', url })).json().data;
    expect(
      (await call(t.app, tenant.adminKey, { method: 'GET', url: `${url}/${theirs.id}` })).statusCode,
    ).toBe(404);
    const complaint = await createComplaint(tenant.adminKey);
    const render = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: `${url}/${theirs.id}/render`,
      json: { complaintId: complaint.id },
    });
    expect(render.statusCode).toBe(404);
    const [ours] = (await call(t.app, tenant.adminKey, { method: 'GET', url })).json().data;
    const crossRender = await call(t.app, other.adminKey, {
      method: 'POST',
      url: `${url}/${(await call(t.app, other.adminKey, { method: 'GET', url })).json().data[0].id}/render`,
      json: { complaintId: complaint.id },
    });
    expect(crossRender.statusCode).toBe(404);
    expect((await call(t.app, null, { method: 'GET', url })).statusCode).toBe(401);
    const reader = await tenant.keyWith('complaints:read');
    expect((await call(t.app, reader, { method: 'GET', url: `${url}/${ours.id}` })).statusCode).toBe(200);
    const write = await call(t.app, reader, {
      method: 'POST',
      url,
      json: { key: 'x', locale: 'en', name: 'x', body: 'x' },
    });
    expect(write.statusCode).toBe(403);
    expect((await call(t.app, reader, { method: 'DELETE', url: `${url}/${ours.id}` })).statusCode).toBe(403);
    const manager = await tenant.keyWith('policies:manage');
    expect((await call(t.app, manager, { method: 'GET', url })).statusCode).toBe(403);
  });
});
