import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGraphql, validationFields } from './graphql-client.js';
import {
  call,
  complaintBody,
  createTestTenant,
  createUtcTenant,
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

/** POST /graphql as a client sends it. */
const gql = (
  key: string | null,
  query: string,
  variables?: Record<string, unknown>,
  headers?: Record<string, string>,
) => postGraphql(t.app, key, query, variables, headers);

const get = (url: string, key = tenant.adminKey) => call(t.app, key, { method: 'GET', url });
const post = (url: string, json: unknown, key = tenant.adminKey) =>
  call(t.app, key, { method: 'POST', url, json });

async function createComplaint(key: string, overrides: Record<string, unknown> = {}) {
  const res = await post('/v1/complaints', complaintBody(overrides), key);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const TEMPLATE_FIELDS = 'id key locale name subject body version createdAt updatedAt';
const CREATE_TEMPLATE = `mutation ($input: ReplyTemplateInput!) { createReplyTemplate(input: $input) { ${TEMPLATE_FIELDS} } }`;
const UPDATE_TEMPLATE = `mutation ($id: ID!, $version: Int!, $input: ReplyTemplateUpdateInput!) {
  updateReplyTemplate(id: $id, version: $version, input: $input) { ${TEMPLATE_FIELDS} } }`;
const RENDER = `query ($id: ID!, $input: RenderReplyTemplateInput!) {
  renderReplyTemplate(id: $id, input: $input) { templateId templateVersion key locale subject body } }`;

describe('GraphQL reply templates', () => {
  it('lists, creates, reads, versions and deletes templates as REST shows them', async () => {
    const own = await createTestTenant(t.tenancy);
    const seeded = await gql(own.adminKey, `{ replyTemplates { ${TEMPLATE_FIELDS} } }`);
    expect(seeded.errors).toEqual([]);
    expect(seeded.data.replyTemplates).toEqual((await get('/v1/reply-templates', own.adminKey)).json().data);
    expect(seeded.data.replyTemplates).toHaveLength(6);
    const english = await gql(
      own.adminKey,
      '{ replyTemplates(key: "acknowledgement", locale: "en") { key locale } }',
    );
    expect(english.data.replyTemplates).toEqual([{ key: 'acknowledgement', locale: 'en' }]);

    const created = await gql(own.adminKey, CREATE_TEMPLATE, {
      input: { key: 'apology', locale: 'en', name: 'Apology', body: 'Sorry, {{customer.name}}.' },
    });
    expect(created.errors).toEqual([]);
    const template = created.data.createReplyTemplate;
    expect(template).toMatchObject({ key: 'apology', locale: 'en', subject: null, version: 1 });
    expect(template).toEqual((await get(`/v1/reply-templates/${template.id}`, own.adminKey)).json());
    const twice = await gql(own.adminKey, CREATE_TEMPLATE, {
      input: { key: 'apology', locale: 'en', name: 'Twice', body: 'x' },
    });
    expect(twice.errors[0]!.extensions).toMatchObject({ code: 'reply_template_exists', status: 409 });

    const changed = await gql(own.adminKey, UPDATE_TEMPLATE, {
      id: template.id,
      version: 1,
      input: { subject: 'About {{reference}}', body: 'We apologise, {{customer.name}}.' },
    });
    expect(changed.errors).toEqual([]);
    expect(changed.data.updateReplyTemplate).toMatchObject({
      version: 2,
      subject: 'About {{reference}}',
      body: 'We apologise, {{customer.name}}.',
    });
    const stale = await gql(own.adminKey, UPDATE_TEMPLATE, {
      id: template.id,
      version: 1,
      input: { name: 'x' },
    });
    expect(stale.status).toBe(412);
    expect(stale.errors[0]!.extensions).toMatchObject({
      code: 'precondition_failed',
      status: 412,
      currentEtag: '"2"',
    });
    const cleared = await gql(own.adminKey, UPDATE_TEMPLATE, {
      id: template.id,
      version: 2,
      input: { subject: null },
    });
    expect(cleared.data.updateReplyTemplate).toMatchObject({ subject: null, version: 3, name: 'Apology' });
    const read = await gql(
      own.adminKey,
      `query ($id: ID!) { replyTemplate(id: $id) { ${TEMPLATE_FIELDS} } }`,
      {
        id: template.id,
      },
    );
    expect(read.data.replyTemplate).toEqual(
      (await get(`/v1/reply-templates/${template.id}`, own.adminKey)).json(),
    );

    const deleted = await gql(own.adminKey, 'mutation ($id: ID!) { deleteReplyTemplate(id: $id) }', {
      id: template.id,
    });
    expect(deleted.data.deleteReplyTemplate).toBe(template.id);
    expect((await get(`/v1/reply-templates/${template.id}`, own.adminKey)).statusCode).toBe(404);
    const gone = await gql(own.adminKey, 'query ($id: ID!) { replyTemplate(id: $id) { id } }', {
      id: template.id,
    });
    expect(gone.data.replyTemplate).toBeNull();
    expect(gone.errors[0]!.extensions).toEqual({ code: 'not_found', status: 404 });
  });

  it('renders as REST renders, and names a missing variable with the same code as REST', async () => {
    const complaint = await createComplaint(tenant.adminKey, { channel: 'phone' });
    const template = (
      await post('/v1/reply-templates', {
        key: 'callback',
        locale: 'zh-CN',
        name: '回电',
        subject: '{{reference}}',
        body: '尊敬的{{customer.name}}：您的投诉 {{reference}} 将在 {{nextDueAt}} 前处理。{{#if promise}}承诺：{{promise}}{{/if}}',
      })
    ).json();
    const input = { complaintId: complaint.reference, variables: { promise: '今天回电' } };
    const rest = await post(`/v1/reply-templates/${template.id}/render`, input);
    expect(rest.statusCode, rest.body).toBe(200);
    const rendered = await gql(tenant.adminKey, RENDER, { id: template.id, input });
    expect(rendered.errors).toEqual([]);
    expect(rendered.data.renderReplyTemplate).toEqual(rest.json());
    expect(rendered.data.renderReplyTemplate.body).toContain('承诺：今天回电');
    const noVariables = await gql(tenant.adminKey, RENDER, {
      id: template.id,
      input: { complaintId: complaint.id, variables: null },
    });
    expect(noVariables.data.renderReplyTemplate.body).not.toContain('承诺');

    const anonymous = await createComplaint(tenant.adminKey, { customer: { phone: '+86 138 0000 0000' } });
    const restMissing = await post(`/v1/reply-templates/${template.id}/render`, {
      complaintId: anonymous.id,
    });
    expect(restMissing.statusCode).toBe(422);
    const missing = await gql(tenant.adminKey, RENDER, {
      id: template.id,
      input: { complaintId: anonymous.id },
    });
    expect(missing.status).toBe(422);
    expect(missing.data).toBeNull();
    expect(missing.errors[0]!.extensions).toEqual({
      code: restMissing.json().code,
      status: 422,
      variable: 'customer.name',
    });
    expect(missing.errors[0]!.extensions.code).toBe('template_variable_missing');
  });

  it('refuses bad templates and render requests with validation_failed naming the field', async () => {
    const [ack] = (await get('/v1/reply-templates')).json().data;
    for (const [input, field] of [
      [{ key: 'Bad Key', locale: 'en', name: 'x', body: 'x' }, 'input.key'],
      [{ key: 'ok', locale: 'english', name: 'x', body: 'x' }, 'input.locale'],
      [{ key: 'ok', locale: 'en', name: 'x', body: '' }, 'input.body'],
      // Found by the service's compile check, which names REST's body.body.
      [{ key: 'ok', locale: 'en', name: 'x', body: '{{#if a}' }, 'input.body'],
      [{ key: 'ok', locale: 'en', name: 'x', subject: '{{', body: 'fine' }, 'input.subject'],
    ] as const) {
      expect(
        validationFields(await gql(tenant.adminKey, CREATE_TEMPLATE, { input })),
        JSON.stringify(input),
      ).toEqual([field]);
    }
    expect(
      validationFields(await gql(tenant.adminKey, UPDATE_TEMPLATE, { id: ack.id, version: 1, input: {} })),
    ).toEqual(['input']);
    expect(
      validationFields(await gql(tenant.adminKey, RENDER, { id: ack.id, input: { complaintId: 'nope' } })),
    ).toEqual(['input.complaintId']);
    const badName = validationFields(
      await gql(tenant.adminKey, RENDER, {
        id: ack.id,
        input: { complaintId: 'C-000001', variables: { 'a.b': 'x' } },
      }),
    );
    expect(badName.every((field) => field.startsWith('input.variables'))).toBe(true);
    expect(
      validationFields(
        await gql(tenant.adminKey, RENDER, { id: 'nope', input: { complaintId: 'C-000001' } }),
      ),
    ).toEqual(['args.id']);
    const unknownComplaint = await gql(tenant.adminKey, RENDER, {
      id: ack.id,
      input: { complaintId: 'C-999999' },
    });
    expect(unknownComplaint.errors[0]!.extensions.code).toBe('not_found');
  });

  it('keeps templates to their tenant and to the scopes of the REST routes', async () => {
    const other = await createTestTenant(t.tenancy);
    const [theirs] = (await get('/v1/reply-templates', other.adminKey)).json().data;
    const complaint = await createComplaint(tenant.adminKey);
    for (const answer of [
      await gql(tenant.adminKey, 'query ($id: ID!) { replyTemplate(id: $id) { id } }', { id: theirs.id }),
      await gql(tenant.adminKey, RENDER, { id: theirs.id, input: { complaintId: complaint.id } }),
      await gql(tenant.adminKey, UPDATE_TEMPLATE, { id: theirs.id, version: 1, input: { name: 'Taken' } }),
      await gql(tenant.adminKey, 'mutation ($id: ID!) { deleteReplyTemplate(id: $id) }', { id: theirs.id }),
    ]) {
      expect(answer.errors[0]!.extensions).toEqual({ code: 'not_found', status: 404 });
    }
    // Their template is as it was, and their own template does not render our complaint.
    expect((await get(`/v1/reply-templates/${theirs.id}`, other.adminKey)).json()).toMatchObject({
      version: 1,
      name: theirs.name,
    });
    const cross = await gql(other.adminKey, RENDER, { id: theirs.id, input: { complaintId: complaint.id } });
    expect(cross.errors[0]!.extensions.code).toBe('not_found');

    const anonymous = await gql(null, '{ replyTemplates { id } }');
    expect(anonymous.status).toBe(401);
    expect(anonymous.errors[0]!.extensions.code).toBe('unauthenticated');
    const reader = await tenant.keyWith('complaints:read');
    const [ours] = (await gql(reader, '{ replyTemplates { id } }')).data.replyTemplates;
    expect(ours.id).toEqual(expect.any(String));
    const write = await gql(reader, CREATE_TEMPLATE, {
      input: { key: 'x', locale: 'en', name: 'x', body: 'x' },
    });
    expect(write.status).toBe(403);
    expect(write.errors[0]!.extensions).toMatchObject({
      code: 'insufficient_scope',
      requiredScope: 'policies:manage',
    });
    const remove = await gql(reader, 'mutation ($id: ID!) { deleteReplyTemplate(id: $id) }', { id: ours.id });
    expect(remove.errors[0]!.extensions.code).toBe('insufficient_scope');
    expect((await get(`/v1/reply-templates/${ours.id}`)).statusCode).toBe(200);
    const manager = await tenant.keyWith('policies:manage');
    const list = await gql(manager, '{ replyTemplates { id } }');
    expect(list.errors[0]!.extensions).toMatchObject({
      code: 'insufficient_scope',
      requiredScope: 'complaints:read',
    });
  });
});

const day = (date: Date) => date.toISOString().slice(0, 10);
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);

const COUNTS = 'received open dueToday overdue';
const INVENTORY = `query ($date: String) { dailyInventory(date: $date) {
  date timeZone from to asOf totals { ${COUNTS} }
  byHandler { assignee ${COUNTS} } bySeverity { severity ${COUNTS} } } }`;
const COMPLIANCE = `query ($from: String!, $to: String!, $groupBy: ReportGroupBy) {
  slaCompliance(from: $from, to: $to, groupBy: $groupBy) {
    from to timeZone groupBy
    deadlines { group kind metOnTime metLate breached pending onTimePercent }
    satisfaction { group satisfied unsatisfied unreachable declined scored averageScore } } }`;

describe('GraphQL reports', () => {
  it('answers the daily inventory and SLA compliance exactly as REST does for the same data', async () => {
    const own = await createUtcTenant(t);
    // Received two days ago, so the day is over and both doors count it as of the same instant.
    const receivedAt = daysAgo(2).toISOString();
    const date = day(daysAgo(2));
    await createComplaint(own.adminKey, { channel: 'phone', assignee: 'li.na', receivedAt });
    await createComplaint(own.adminKey, {
      channel: 'phone',
      severity: 'major',
      assignee: 'wang.wu',
      receivedAt,
    });
    await createComplaint(own.adminKey, { channel: 'web', assignee: 'zhao.lei', receivedAt });
    // A complaint resolved today whose customer was satisfied at the visit, scored 4.
    const happy = await createComplaint(own.adminKey, { channel: 'phone' });
    await post(
      `/v1/complaints/${happy.id}/communications`,
      { direction: 'outbound', channel: 'phone', body: 'Called', contactMade: true },
      own.adminKey,
    );
    for (const to of ['acknowledged', 'investigating', 'resolved']) {
      await post(`/v1/complaints/${happy.id}/transitions`, { to }, own.adminKey);
    }
    const [visit] = (await get('/v1/follow-ups', own.adminKey)).json().data;
    const outcome = await post(
      `/v1/follow-ups/${visit.id}/outcome`,
      { outcome: 'satisfied', score: 4 },
      own.adminKey,
    );
    expect(outcome.statusCode, outcome.body).toBe(200);

    const restInventory = (await get(`/v1/reports/daily-inventory?date=${date}`, own.adminKey)).json();
    const inventory = await gql(own.adminKey, INVENTORY, { date });
    expect(inventory.errors).toEqual([]);
    expect(inventory.data.dailyInventory).toEqual(restInventory);
    expect(inventory.data.dailyInventory.totals).toMatchObject({ received: 3, open: 3 });
    expect(
      inventory.data.dailyInventory.byHandler.map((row: { assignee: string | null }) => row.assignee),
    ).toEqual(['li.na', 'wang.wu', 'zhao.lei']);
    const today = await gql(own.adminKey, INVENTORY);
    expect(today.data.dailyInventory).toMatchObject({ date: day(new Date()), totals: { received: 1 } });

    const from = day(daysAgo(3));
    const to = day(new Date(Date.now() + 10 * 86_400_000));
    for (const groupBy of ['channel', 'assignee', null]) {
      const query = `/v1/reports/sla-compliance?from=${from}&to=${to}${groupBy ? `&groupBy=${groupBy}` : ''}`;
      const rest = (await get(query, own.adminKey)).json();
      const compliance = await gql(own.adminKey, COMPLIANCE, { from, to, groupBy });
      expect(compliance.errors).toEqual([]);
      expect(compliance.data.slaCompliance, String(groupBy)).toEqual(rest);
      expect(compliance.data.slaCompliance.deadlines.length).toBeGreaterThan(0);
    }
    const byChannel = await gql(own.adminKey, COMPLIANCE, { from, to, groupBy: 'channel' });
    expect(byChannel.data.slaCompliance.satisfaction).toEqual([
      {
        group: 'phone',
        satisfied: 1,
        unsatisfied: 0,
        unreachable: 0,
        declined: 0,
        scored: 1,
        averageScore: 4,
      },
    ]);
  });

  it('refuses bad days and periods naming the argument, and keeps to reports:read', async () => {
    const own = await createUtcTenant(t);
    expect(validationFields(await gql(own.adminKey, INVENTORY, { date: '2026-02-30' }))).toEqual([
      'args.date',
    ]);
    expect(validationFields(await gql(own.adminKey, INVENTORY, { date: 'yesterday' }))).toEqual([
      'args.date',
    ]);
    // Refused by the service, which names REST's querystring.date.
    expect(validationFields(await gql(own.adminKey, INVENTORY, { date: '2999-01-01' }))).toEqual([
      'args.date',
    ]);
    expect(
      validationFields(await gql(own.adminKey, COMPLIANCE, { from: '2026-01-10', to: '2026-01-01' })),
    ).toEqual(['args.to']);
    expect(
      validationFields(await gql(own.adminKey, COMPLIANCE, { from: '2025-01-01', to: '2026-06-01' })),
    ).toEqual(['args.to']);
    expect(
      validationFields(await gql(own.adminKey, COMPLIANCE, { from: '2026-02-30', to: '2026-12-31' })),
    ).toEqual(['args.from']);
    const badGroup = await gql(own.adminKey, COMPLIANCE, {
      from: '2026-01-01',
      to: '2026-01-31',
      groupBy: 'mood',
    });
    expect(badGroup.errors[0]!.extensions.code).toBe('graphql_validation_failed');

    const anonymous = await gql(null, '{ dailyInventory { date } }');
    expect(anonymous.status).toBe(401);
    expect(anonymous.errors[0]!.extensions.code).toBe('unauthenticated');
    const handler = await own.keyWith('complaints:read', 'complaints:write');
    for (const query of [
      '{ dailyInventory { date } }',
      '{ slaCompliance(from: "2026-01-01", to: "2026-01-31") { from } }',
    ]) {
      const refused = await gql(handler, query);
      expect(refused.status).toBe(403);
      expect(refused.errors[0]!.extensions).toMatchObject({
        code: 'insufficient_scope',
        requiredScope: 'reports:read',
      });
    }
    const reader = await own.keyWith('reports:read');
    const allowed = await gql(reader, COMPLIANCE, { from: '2026-01-01', to: '2026-01-31' });
    expect(allowed.data.slaCompliance).toMatchObject({ deadlines: [], satisfaction: [], groupBy: null });
    // Another tenant's complaints never show.
    const other = await createUtcTenant(t);
    await createComplaint(other.adminKey, { channel: 'phone' });
    const mine = await gql(reader, INVENTORY);
    expect(mine.data.dailyInventory.totals.received).toBe(0);
  });
});
