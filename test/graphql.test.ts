import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPLAINT_FIELDS, countQueries, postGraphql } from './graphql-client.js';
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
  t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true' });
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

async function createComplaint(key: string, overrides: Record<string, unknown> = {}) {
  const res = await call(t.app, key, {
    method: 'POST',
    url: '/v1/complaints',
    json: complaintBody(overrides),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

describe('GraphQL queries', () => {
  it('answers a complaint exactly as REST shows it, with its deadlines, timeline and escalations', async () => {
    const created = await createComplaint(tenant.adminKey, { severity: 'major' });
    const answer = await gql(
      tenant.adminKey,
      `query ($id: ID!) { complaint(id: $id) {
        ${COMPLAINT_FIELDS}
        deadlines { id kind status dueAt policyVersion metLate }
        escalations { level trigger reason actor { type name } }
        timeline(first: 10) { nodes { id type actor { type } } pageInfo { hasNextPage endCursor } }
      } }`,
      { id: created.id },
    );
    expect(answer.errors).toEqual([]);
    expect(answer.status).toBe(200);
    const { deadlines, escalations, timeline, ...complaint } = answer.data.complaint;
    expect(complaint).toEqual(created);
    const rest = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url: `/v1/complaints/${created.id}/deadlines`,
    });
    expect(deadlines.map((d: { id: string }) => d.id)).toEqual(
      rest.json().data.map((d: { id: string }) => d.id),
    );
    expect(deadlines.length).toBeGreaterThan(0);
    expect(escalations).toEqual([expect.objectContaining({ level: 2, trigger: 'major' })]);
    expect(timeline.nodes[0]).toMatchObject({ type: 'complaint.created', actor: { type: 'api_key' } });

    const byReference = await gql(tenant.adminKey, `{ complaint(reference: "${created.reference}") { id } }`);
    expect(byReference.data.complaint.id).toBe(created.id);
  });

  it('pages complaints with REST cursors and filters, at most 100 a page', async () => {
    const own = await createTestTenant(t.tenancy);
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1)
      ids.unshift((await createComplaint(own.adminKey, { subject: `Noise ${i}` })).id);
    await createComplaint(own.adminKey, { channel: 'phone', subject: 'Other' });
    const query = `query ($after: String) {
      complaints(first: 2, after: $after, filter: { channel: [web], q: "Noise" }) {
        edges { cursor node { id } } nodes { id } pageInfo { hasNextPage endCursor }
      } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await gql(own.adminKey, query, { after });
      expect(page.errors).toEqual([]);
      const connection = page.data.complaints;
      seen.push(...connection.nodes.map((n: { id: string }) => n.id));
      expect(connection.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(
        connection.nodes.map((n: { id: string }) => n.id),
      );
      if (!connection.pageInfo.hasNextPage) break;
      expect(connection.pageInfo.endCursor).toBe(connection.edges.at(-1).cursor);
      after = connection.pageInfo.endCursor;
    }
    expect(seen).toEqual(ids);

    const tooMany = await gql(own.adminKey, '{ complaints(first: 101) { nodes { id } } }');
    expect(tooMany.status).toBe(400);
    expect(tooMany.errors[0]!.extensions).toMatchObject({
      code: 'validation_failed',
      status: 400,
      errors: [{ field: 'args.first', message: expect.any(String) }],
    });
    const badCursor = await gql(own.adminKey, '{ complaints(after: "nonsense") { nodes { id } } }');
    expect(badCursor.errors[0]!.extensions.code).toBe('invalid_cursor');

    // A sibling with a negative page size must not cancel what the others cost.
    const heavy = Array.from(
      { length: 20 },
      (_, i) => `h${i}: complaints(first: 100) { nodes { id timeline(first: 100) { nodes { id type } } } }`,
    ).join(' ');
    const sly = await gql(own.adminKey, `{ ${heavy} sly: complaints(first: -1000000) { nodes { id } } }`);
    expect(sly.status).toBe(400);
    expect(sly.errors[0]!.extensions.code).toBe('query_too_costly');
  });

  it('lists deadlines as a work queue, and webhooks and settings with their own scopes', async () => {
    const own = await createTestTenant(t.tenancy);
    const complaint = await createComplaint(own.adminKey);
    const queue = await gql(
      own.adminKey,
      '{ deadlines(filter: { status: [pending] }, first: 100) { nodes { complaintId kind status } pageInfo { hasNextPage } } }',
    );
    expect(queue.errors).toEqual([]);
    expect(queue.data.deadlines.nodes.length).toBeGreaterThan(0);
    expect(
      queue.data.deadlines.nodes.every((d: { complaintId: string }) => d.complaintId === complaint.id),
    ).toBe(true);

    const settings = await gql(
      own.adminKey,
      '{ workflowSettings { collectiveThreshold roles version approvalLimits { role maxAmount } } }',
    );
    expect(settings.data.workflowSettings).toMatchObject({ collectiveThreshold: 3, version: 1 });
    const webhooks = await gql(own.adminKey, '{ webhooks { nodes { id } pageInfo { hasNextPage } } }');
    expect(webhooks.data.webhooks).toEqual({ nodes: [], pageInfo: { hasNextPage: false } });
  });
});

describe('GraphQL mutations', () => {
  const CREATE = `mutation ($input: ComplaintInput!, $key: String) {
    createComplaint(input: $input, idempotencyKey: $key) { id reference status version subject nextDeadline { kind } }
  }`;

  it('takes in, edits, moves and escalates a complaint through the same services as REST', async () => {
    const own = await createTestTenant(t.tenancy);
    const created = await gql(
      own.adminKey,
      CREATE,
      { input: complaintBody() },
      { 'x-on-behalf-of': 'Agent Li' },
    );
    expect(created.errors).toEqual([]);
    const complaint = created.data.createComplaint;
    expect(complaint).toMatchObject({
      status: 'received',
      version: 1,
      reference: expect.stringMatching(/^C-/),
    });
    const rest = await call(t.app, own.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}` });
    expect(rest.json().receivedBy).toBe('Agent Li');

    const updated = await gql(
      own.adminKey,
      'mutation ($id: ID!) { updateComplaint(id: $id, version: 1, input: { subject: "Lift still broken", category: null }) { subject category version } }',
      { id: complaint.id },
    );
    expect(updated.data.updateComplaint).toEqual({
      subject: 'Lift still broken',
      category: null,
      version: 2,
    });

    const stale = await gql(
      own.adminKey,
      'mutation ($id: ID!) { updateComplaint(id: $id, version: 1, input: { subject: "Again" }) { version } }',
      { id: complaint.id },
    );
    expect(stale.status).toBe(412);
    expect(stale.data).toBeNull();
    expect(stale.errors[0]!.extensions).toMatchObject({
      code: 'precondition_failed',
      status: 412,
      currentEtag: '"2"',
    });

    const moved = await gql(
      own.adminKey,
      'mutation ($id: ID!) { transitionComplaint(id: $id, to: acknowledged) { status } }',
      { id: complaint.id },
    );
    expect(moved.data.transitionComplaint.status).toBe('acknowledged');
    const illegal = await gql(
      own.adminKey,
      'mutation ($id: ID!) { transitionComplaint(id: $id, to: closed) { status } }',
      { id: complaint.id },
    );
    expect(illegal.errors[0]!.extensions).toMatchObject({
      code: 'invalid_transition',
      status: 409,
      currentStatus: 'acknowledged',
      allowedTransitions: expect.arrayContaining(['investigating']),
    });

    const contact = await gql(
      own.adminKey,
      `mutation ($id: ID!) { recordCommunication(complaintId: $id, input: {
        direction: outbound, channel: phone, body: "Called back", contactMade: true }) { id direction recordedBy { name } } }`,
      { id: complaint.reference },
    );
    expect(contact.data.recordCommunication).toMatchObject({ direction: 'outbound' });

    const escalated = await gql(
      own.adminKey,
      'mutation ($id: ID!) { escalateComplaint(complaintId: $id, level: 1, reason: "Supervisor asked") { level trigger } }',
      { id: complaint.id },
    );
    expect(escalated.data.escalateComplaint).toEqual({ level: 1, trigger: 'manual' });
    const notHigher = await gql(
      own.adminKey,
      'mutation ($id: ID!) { escalateComplaint(complaintId: $id, level: 1, reason: "Again") { level } }',
      { id: complaint.id },
    );
    expect(notHigher.errors[0]!.extensions.code).toBe('escalation_level_not_higher');

    const deadlines = await gql(
      own.adminKey,
      'query ($id: ID!) { complaint(id: $id) { deadlines { id kind status } } }',
      {
        id: complaint.id,
      },
    );
    const contactDeadline = deadlines.data.complaint.deadlines.find(
      (d: { kind: string }) => d.kind === 'first_contact',
    );
    expect(contactDeadline.status).toBe('met');
    const byHand = await gql(
      own.adminKey,
      'mutation ($c: ID!, $d: ID!) { completeDeadline(complaintId: $c, deadlineId: $d) { status } }',
      { c: complaint.id, d: contactDeadline.id },
    );
    expect(byHand.errors[0]!.extensions.code).toBe('deadline_not_open');
  });

  it('replays a create with the same idempotency key, and refuses the key with another input', async () => {
    const own = await createTestTenant(t.tenancy);
    const input = complaintBody();
    const first = await gql(own.adminKey, CREATE, { input, key: 'gql-key-1' });
    expect(first.errors).toEqual([]);
    const again = await gql(own.adminKey, CREATE, { input, key: 'gql-key-1' });
    expect(again.errors).toEqual([]);
    expect(again.data.createComplaint).toEqual(first.data.createComplaint);
    const list = await call(t.app, own.adminKey, { method: 'GET', url: '/v1/complaints' });
    expect(list.json().data).toHaveLength(1);
    const other = await gql(own.adminKey, CREATE, {
      input: { ...input, subject: 'Other' },
      key: 'gql-key-1',
    });
    expect(other.errors[0]!.extensions).toMatchObject({ code: 'idempotency_key_reused', status: 422 });
  });

  it('refuses bad input with validation_failed naming the field, and bad documents with graphql_validation_failed', async () => {
    const own = await createTestTenant(t.tenancy);
    const bad = await gql(own.adminKey, CREATE, {
      input: complaintBody({ customer: { email: 'not an email' }, subject: '   ' }),
    });
    expect(bad.status).toBe(400);
    expect(bad.errors[0]!.extensions).toMatchObject({ code: 'validation_failed', status: 400 });
    const fields = (bad.errors[0]!.extensions.errors as Array<{ field: string }>).map((e) => e.field).sort();
    expect(fields).toEqual(['input.customer.email', 'input.subject']);

    const future = await gql(own.adminKey, CREATE, {
      input: complaintBody({ receivedAt: '2999-01-01T00:00:00Z' }),
    });
    expect(future.errors[0]!.extensions.errors).toEqual([
      { field: 'input.receivedAt', message: 'must not be in the future' },
    ]);

    const nul = await gql(
      own.adminKey,
      'mutation { createComplaint(input: { channel: web, subject: "a\\u0000b", description: "d", customer: {} }) { id } }',
    );
    expect(nul.errors[0]!.extensions).toMatchObject({ code: 'validation_failed' });

    const unknownField = await gql(own.adminKey, '{ complaints { nodes { nope } } }');
    expect(unknownField.status).toBe(400);
    expect(unknownField.errors[0]).toMatchObject({
      message: expect.stringContaining('nope'),
      extensions: { code: 'graphql_validation_failed', status: 400 },
    });
    const syntax = await gql(own.adminKey, '{ complaints { ');
    expect(syntax.errors[0]!.extensions.code).toBe('graphql_validation_failed');
    const badEnum = await gql(
      own.adminKey,
      'mutation ($id: ID!) { transitionComplaint(id: $id, to: $to) { id } }',
      { id: 'x' },
    );
    expect(badEnum.errors[0]!.extensions.code).toBe('graphql_validation_failed');
    // Documents that are JSON, not GraphQL: Mercurius would read them as syntax trees.
    const tree = '{"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query"}]}';
    for (const query of ['123', 'null', '"text"', tree, 123, true]) {
      const res = await call(t.app, own.adminKey, { method: 'POST', url: '/graphql', json: { query } });
      expect(res.statusCode, String(query)).toBe(400);
      expect(res.json().errors[0].extensions.code, String(query)).toBe('graphql_validation_failed');
    }
    const overGet = await call(t.app, own.adminKey, { method: 'GET', url: '/graphql?query=123' });
    expect(overGet.statusCode).toBe(400);
    expect(overGet.json().errors[0].extensions.code).toBe('graphql_validation_failed');
    for (const answer of [bad, unknownField, syntax]) {
      expect(JSON.stringify(answer.errors)).not.toMatch(/\bat .*\.(ts|js):\d+/);
    }
  });

  it('manages webhooks: create with its secret once, update at a version, rotate, ping, delete', async () => {
    const own = await createTestTenant(t.tenancy);
    const created = await gql(
      own.adminKey,
      'mutation { createWebhook(input: { url: "http://127.0.0.1:9/hook", events: ["deadline.*"] }) { secret webhook { id version events active } } }',
    );
    expect(created.errors).toEqual([]);
    const { secret, webhook } = created.data.createWebhook;
    expect(secret).toMatch(/^whsec_/);
    const refused = await gql(
      own.adminKey,
      'mutation { createWebhook(input: { url: "https://user:pw@example.com/hook", events: ["*"] }) { secret } }',
    );
    expect(refused.errors[0]!.extensions).toMatchObject({ code: 'validation_failed', status: 400 });
    expect(refused.errors[0]!.extensions.errors).toEqual([
      { field: 'input.url', message: expect.any(String) },
    ]);
    const typo = await gql(
      own.adminKey,
      'mutation { createWebhook(input: { url: "https://example.com/x", events: ["deadline.breach"] }) { secret } }',
    );
    expect(typo.errors[0]!.extensions.errors).toEqual([
      { field: 'input.events.0', message: 'matches no event type Redress emits' },
    ]);

    const paused = await gql(
      own.adminKey,
      'mutation ($id: ID!) { updateWebhook(id: $id, version: 1, input: { active: false }) { active disabledReason version } }',
      { id: webhook.id },
    );
    expect(paused.data.updateWebhook).toEqual({ active: false, disabledReason: 'manual', version: 2 });
    const ping = await gql(own.adminKey, 'mutation ($id: ID!) { pingWebhook(id: $id) { eventId } }', {
      id: webhook.id,
    });
    expect(ping.errors[0]!.extensions.code).toBe('webhook_inactive');
    const rotated = await gql(
      own.adminKey,
      'mutation ($id: ID!) { rotateWebhookSecret(id: $id) { secret previousSecretExpiresAt } }',
      {
        id: webhook.id,
      },
    );
    expect(rotated.data.rotateWebhookSecret.secret).not.toBe(secret);
    const read = await gql(
      own.adminKey,
      'query ($id: ID!) { webhook(id: $id) { version deliveries { nodes { id } pageInfo { hasNextPage } } } }',
      {
        id: webhook.id,
      },
    );
    expect(read.data.webhook).toEqual({
      version: 2,
      deliveries: { nodes: [], pageInfo: { hasNextPage: false } },
    });
    const deleted = await gql(own.adminKey, 'mutation ($id: ID!) { deleteWebhook(id: $id) }', {
      id: webhook.id,
    });
    expect(deleted.data.deleteWebhook).toBe(webhook.id);
    const gone = await gql(own.adminKey, 'query ($id: ID!) { webhook(id: $id) { id } }', { id: webhook.id });
    expect(gone.data.webhook).toBeNull();
    expect(gone.errors[0]!.extensions).toMatchObject({ code: 'not_found', status: 404 });
  });

  it('replaces the workflow settings at a version', async () => {
    const own = await createTestTenant(t.tenancy);
    const saved = await gql(
      own.adminKey,
      'mutation { replaceWorkflowSettings(version: 1, settings: { collectiveThreshold: 5 }) { collectiveThreshold version } }',
    );
    expect(saved.data.replaceWorkflowSettings).toEqual({ collectiveThreshold: 5, version: 2 });
    const stale = await gql(
      own.adminKey,
      'mutation { replaceWorkflowSettings(version: 1, settings: {}) { version } }',
    );
    expect(stale.errors[0]!.extensions.code).toBe('precondition_failed');
    const invalid = await gql(
      own.adminKey,
      'mutation { replaceWorkflowSettings(version: 2, settings: { approvalLimits: [{ role: "boss", currency: "CNY", maxAmount: 100 }] }) { version } }',
    );
    expect(invalid.errors[0]!.extensions.errors).toEqual([
      { field: 'settings.approvalLimits.0.role', message: "'boss' is not one of roles" },
    ]);
  });

  it('sets the time zone and reference format, which a replace would otherwise reset', async () => {
    const own = await createTestTenant(t.tenancy);
    const fields = 'timeZone referenceFormat { prefix year digits } version';
    const saved = await gql(
      own.adminKey,
      `mutation { replaceWorkflowSettings(version: 1, settings: { timeZone: "Europe/London", referenceFormat: { prefix: "LDN", digits: 8 } }) { ${fields} } }`,
    );
    expect(saved.errors).toEqual([]);
    expect(saved.data.replaceWorkflowSettings).toEqual({
      timeZone: 'Europe/London',
      referenceFormat: { prefix: 'LDN', year: false, digits: 8 },
      version: 2,
    });
    expect((await gql(own.adminKey, `{ workflowSettings { ${fields} } }`)).data.workflowSettings).toEqual(
      saved.data.replaceWorkflowSettings,
    );
    const created = await call(t.app, own.adminKey, {
      method: 'POST',
      url: '/v1/complaints',
      json: complaintBody(),
    });
    expect(created.json().reference).toBe('LDN-00000001');
    const invalid = await gql(
      own.adminKey,
      'mutation { replaceWorkflowSettings(version: 2, settings: { referenceFormat: { prefix: "ldn" } }) { version } }',
    );
    expect(invalid.errors[0]!.extensions.errors).toEqual([
      {
        field: 'settings.referenceFormat.prefix',
        message: 'must be a capital letter and up to 9 capitals or digits, such as BJ',
      },
    ]);
  });
});

describe('GraphQL configuration mutations', () => {
  it('creates, versions and previews SLA policies, with escalation targets per level', async () => {
    const own = await createTestTenant(t.tenancy);
    const created = await gql(
      own.adminKey,
      `mutation { createSlaPolicy(input: {
        name: "Fast", priority: 1, match: { categories: ["fast"] }, warnAt: [0.5],
        targets: { onlineReply: { duration: "PT2H", clock: calendar } },
        escalationTargets: { level1: [{ role: "lead" }], level2: [{ role: "manager" }], level3: [{ role: "crisis", email: "c@example.com" }] }
      }) { id version targets { onlineReply { duration clock } resolution { duration } } escalationTargets { level3 { role email } } } }`,
    );
    expect(created.errors).toEqual([]);
    const policy = created.data.createSlaPolicy;
    expect(policy).toMatchObject({
      version: 1,
      targets: { onlineReply: { duration: 'PT2H', clock: 'calendar' } },
      escalationTargets: { level3: [{ role: 'crisis', email: 'c@example.com' }] },
    });
    const rest = await call(t.app, own.adminKey, { method: 'GET', url: `/v1/sla-policies/${policy.id}` });
    expect(rest.json().escalationTargets['3']).toEqual([{ role: 'crisis', email: 'c@example.com' }]);

    const updated = await gql(
      own.adminKey,
      'mutation ($id: ID!) { updateSlaPolicy(id: $id, version: 1, input: { priority: 2 }) { priority version } }',
      { id: policy.id },
    );
    expect(updated.data.updateSlaPolicy).toEqual({ priority: 2, version: 2 });
    const badDuration = await gql(
      own.adminKey,
      'mutation ($id: ID!) { updateSlaPolicy(id: $id, version: 2, input: { targets: { resolution: { duration: "P1Y", clock: business } } }) { id } }',
      { id: policy.id },
    );
    expect(badDuration.errors[0]!.extensions.errors).toEqual([
      { field: 'input.targets.resolution.duration', message: expect.any(String) },
    ]);
    const preview = await gql(
      own.adminKey,
      'query ($id: ID!) { slaPolicyPreview(id: $id, input: { receivedAt: "2026-01-05T09:00:00Z", channel: web, category: "fast" }) { policyVersion deadlines { kind dueAt } } }',
      { id: policy.id },
    );
    expect(preview.data.slaPolicyPreview.policyVersion).toBe(2);
    expect(preview.data.slaPolicyPreview.deadlines).toContainEqual({
      kind: 'online_reply',
      dueAt: '2026-01-05T11:00:00.000Z',
    });
    const list = await gql(own.adminKey, '{ slaPolicies { name isDefault } }');
    expect(list.data.slaPolicies).toHaveLength(2);
  });

  it('creates, replaces and deletes business calendars', async () => {
    const own = await createTestTenant(t.tenancy);
    const input = {
      name: 'Office',
      timeZone: 'Asia/Shanghai',
      weeklyHours: {
        monday: [{ start: '09:00', end: '18:00' }],
        tuesday: [{ start: '09:00', end: '18:00' }],
      },
      holidays: [{ date: '2026-10-01', name: null }],
      extraWorkingDays: [{ date: '2026-10-10', intervals: null }],
    };
    const created = await gql(
      own.adminKey,
      'mutation ($input: CalendarInput!) { createCalendar(input: $input) { id version weeklyHours { monday { start end } sunday { start } } holidays { date name } } }',
      { input },
    );
    expect(created.errors).toEqual([]);
    const calendar = created.data.createCalendar;
    expect(calendar).toMatchObject({
      version: 1,
      weeklyHours: { monday: [{ start: '09:00', end: '18:00' }], sunday: null },
      holidays: [{ date: '2026-10-01', name: null }],
    });
    const replaced = await gql(
      own.adminKey,
      'mutation ($id: ID!, $input: CalendarInput!) { replaceCalendar(id: $id, version: 1, input: $input) { name version } }',
      { id: calendar.id, input: { ...input, name: 'Office hours' } },
    );
    expect(replaced.data.replaceCalendar).toEqual({ name: 'Office hours', version: 2 });
    const closed = await gql(
      own.adminKey,
      'mutation ($id: ID!) { replaceCalendar(id: $id, version: 2, input: { name: "x", timeZone: "Asia/Shanghai", weeklyHours: {} }) { id } }',
      { id: calendar.id },
    );
    expect(closed.errors[0]!.extensions.code).toBe('validation_failed');
    const deleted = await gql(own.adminKey, 'mutation ($id: ID!) { deleteCalendar(id: $id) }', {
      id: calendar.id,
    });
    expect(deleted.data.deleteCalendar).toBe(calendar.id);
    const gone = await gql(own.adminKey, 'query ($id: ID!) { calendar(id: $id) { id } }', {
      id: calendar.id,
    });
    expect(gone.errors[0]!.extensions.code).toBe('not_found');
  });

  it('issues and revokes API keys with the admin scope only', async () => {
    const own = await createTestTenant(t.tenancy);
    const created = await gql(
      own.adminKey,
      'mutation { createApiKey(name: "CRM", scopes: ["complaints:read"]) { key apiKey { id scopes revokedAt } } }',
    );
    expect(created.errors).toEqual([]);
    // The key is shown this once: no cache may keep the answer.
    const again = await call(t.app, own.adminKey, {
      method: 'POST',
      url: '/graphql',
      json: { query: 'mutation { createApiKey(name: "Once", scopes: ["complaints:read"]) { key } }' },
    });
    expect(again.json().data.createApiKey.key).toEqual(expect.any(String));
    expect(again.headers['cache-control']).toBe('no-store');
    const { key, apiKey } = created.data.createApiKey;
    expect(apiKey).toMatchObject({ scopes: ['complaints:read'], revokedAt: null });
    const reads = await gql(key, '{ complaints { nodes { id } } }');
    expect(reads.errors).toEqual([]);
    const notAdmin = await gql(key, '{ apiKeys { id } }');
    expect(notAdmin.errors[0]!.extensions).toMatchObject({
      code: 'insufficient_scope',
      requiredScope: 'admin',
    });
    const badScope = await gql(
      own.adminKey,
      'mutation { createApiKey(name: "x", scopes: ["everything"]) { key } }',
    );
    expect(badScope.errors[0]!.extensions.errors).toEqual([
      { field: 'input.scopes.0', message: expect.any(String) },
    ]);
    const revoked = await gql(own.adminKey, 'mutation ($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', {
      id: apiKey.id,
    });
    expect(revoked.data.revokeApiKey.revokedAt).not.toBeNull();
    const after = await gql(key, '{ complaints { nodes { id } } }');
    expect(after.status).toBe(401);
    expect(after.errors[0]!.extensions.code).toBe('unauthenticated');
  });
});

describe('GraphQL over HTTP', () => {
  it('answers queries over GET but no mutations, and serves GraphiQL outside production only', async () => {
    const query = encodeURIComponent('{ workflowSettings { version } }');
    const get = await call(t.app, tenant.adminKey, { method: 'GET', url: `/graphql?query=${query}` });
    expect(get.statusCode).toBe(200);
    expect(get.json().data.workflowSettings.version).toBeGreaterThan(0);
    const mutation = encodeURIComponent(
      'mutation { deleteWebhook(id: "00000000-0000-4000-8000-000000000000") }',
    );
    const refused = await call(t.app, tenant.adminKey, { method: 'GET', url: `/graphql?query=${mutation}` });
    expect(refused.json().errors[0].extensions).toMatchObject({
      code: 'graphql_validation_failed',
      status: 400,
    });

    expect((await t.app.inject({ method: 'GET', url: '/graphiql' })).statusCode).toBe(200);
    const production = await startTestApp({ NODE_ENV: 'production' });
    try {
      expect((await production.app.inject({ method: 'GET', url: '/graphiql' })).statusCode).toBe(404);
    } finally {
      await production.close();
    }
  });
});

describe('GraphQL security', () => {
  it('needs a valid key: 401 with unauthenticated, as REST', async () => {
    for (const key of [null, 'rdk_not_a_real_key_at_all_0000000000']) {
      const answer = await gql(key, '{ complaints { nodes { id } } }');
      expect(answer.status).toBe(401);
      expect(answer.data ?? null).toBeNull();
      expect(answer.errors).toEqual([
        expect.objectContaining({
          extensions: expect.objectContaining({ code: 'unauthenticated', status: 401 }),
        }),
      ]);
    }
  });

  it('checks the scope of each field: insufficient_scope naming it', async () => {
    const readOnly = await tenant.keyWith('complaints:read');
    const write = await gql(
      readOnly,
      'mutation { createComplaint(input: { channel: web, subject: "s", description: "d", customer: {} }) { id } }',
    );
    expect(write.status).toBe(403);
    expect(write.errors[0]!.extensions).toMatchObject({
      code: 'insufficient_scope',
      status: 403,
      requiredScope: 'complaints:write',
    });
    const hooks = await gql(readOnly, '{ webhooks { nodes { id } } }');
    expect(hooks.errors[0]!.extensions.requiredScope).toBe('webhooks:manage');
    const writeOnly = await tenant.keyWith('complaints:write');
    const created = await gql(
      writeOnly,
      'mutation { createComplaint(input: { channel: web, subject: "s", description: "d", customer: {} }) { id deadlines { id } } }',
    );
    // The complaint is taken in; reading its deadlines needs complaints:read, as on REST.
    expect(created.errors[0]).toMatchObject({
      path: ['createComplaint', 'deadlines'],
      extensions: { code: 'insufficient_scope' },
    });
  });

  it("answers another tenant's complaint exactly like one that does not exist", async () => {
    const other = await createTestTenant(t.tenancy);
    const theirs = await createComplaint(other.adminKey);
    const foreign = await gql(tenant.adminKey, 'query ($id: ID!) { complaint(id: $id) { id } }', {
      id: theirs.id,
    });
    const missing = await gql(tenant.adminKey, 'query ($id: ID!) { complaint(id: $id) { id } }', {
      id: '00000000-0000-4000-8000-000000000000',
    });
    expect(foreign.data).toEqual({ complaint: null });
    expect(foreign.errors[0]!.extensions).toEqual({ code: 'not_found', status: 404 });
    expect(foreign.errors[0]!.message).toBe(`Complaint '${theirs.id}' not found.`);
    expect(missing.errors[0]!.message).toBe("Complaint '00000000-0000-4000-8000-000000000000' not found.");
    const write = await gql(
      tenant.adminKey,
      'mutation ($id: ID!) { transitionComplaint(id: $id, to: acknowledged) { id } }',
      {
        id: theirs.id,
      },
    );
    expect(write.errors[0]!.extensions.code).toBe('not_found');
    const list = await gql(tenant.adminKey, '{ complaints(first: 100) { nodes { id } } }');
    expect(list.data.complaints.nodes.map((n: { id: string }) => n.id)).not.toContain(theirs.id);
  });
});

describe('GraphQL limits', () => {
  it('reads a page of 100 complaints with deadlines, escalations and timeline in a bounded number of queries', async () => {
    const own = await createTestTenant(t.tenancy);
    for (let i = 0; i < 100; i += 1) await createComplaint(own.adminKey, { subject: `Complaint ${i}` });
    const query = (first: number) => `{ complaints(first: ${first}) { nodes {
      id deadlines { id kind } escalations { level } timeline(first: 5) { nodes { type } }
    } } }`;
    // Warm: the key lookup is cached after the first request.
    await gql(own.adminKey, query(1));
    const counted = async (first: number) => {
      const queries = countQueries(t.database.pool);
      const answer = await gql(own.adminKey, query(first));
      queries.stop();
      expect(answer.errors).toEqual([]);
      expect(answer.data.complaints.nodes).toHaveLength(first);
      expect(
        answer.data.complaints.nodes.every((n: { deadlines: unknown[] }) => n.deadlines.length > 0),
      ).toBe(true);
      return queries.count;
    };
    const ten = await counted(10);
    const hundred = await counted(100);
    // complaints page, their next deadlines, then one each for deadlines and escalations, and two
    // for the timelines: the entries as stored, then as shown (timelineEntriesShown).
    expect(hundred).toBe(ten);
    expect(hundred).toBeLessThanOrEqual(6);
  });

  it('refuses queries nested too deep or too costly before running them', async () => {
    const own = await createTestTenant(t.tenancy);
    // GraphiQL's introspection query fits the depth limit.
    const introspection = await gql(own.adminKey, getIntrospectionQuery());
    expect(introspection.errors).toEqual([]);
    const tooDeep = await gql(
      own.adminKey,
      '{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } } } } }',
    );
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.errors[0]!.extensions).toMatchObject({
      code: 'query_too_deep',
      status: 400,
      maxDepth: 15,
    });

    const costly = await gql(
      own.adminKey,
      '{ complaints(first: 100) { nodes { id timeline(first: 100) { nodes { id type data } } } } }',
    );
    expect(costly.status).toBe(400);
    expect(costly.errors[0]!.extensions).toMatchObject({
      code: 'query_too_costly',
      status: 400,
      maxCost: 25_000,
    });
    expect(costly.errors[0]!.extensions.cost).toBeGreaterThan(25_000);
  });
});
