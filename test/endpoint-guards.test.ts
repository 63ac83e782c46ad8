import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type EventRelay, startEventRelay } from '../src/modules/events/event-relay.js';
import { SCOPES, type Scope } from '../src/modules/tenancy/scopes.js';
import { createWebhookFanout } from '../src/modules/webhooks/webhook-fanout.js';
import { call, complaintBody, createTestTenant, type TestApp, type TestTenant } from './harness.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';
import { eventually } from './worker-process.js';

/**
 * The project rule, checked for every route of openapi.yaml in one table: no key → 401, a key
 * without the route's scope → 403 naming it, another tenant's id → a plain 404 (and nothing of
 * theirs changes), bad input → 400 (and nothing of ours changes). A route added to the API
 * without a row here fails the first test. Success cases live in each module's own file.
 *
 * The file has its own database, so no worker of another file delivers its webhooks; the outbox
 * relay runs in-process to turn a ping into a delivery that the redelivery route can name.
 */
let isolated: IsolatedTestApp;
let t: TestApp;
let relay: EventRelay;
let us: Seeded;
let them: Seeded;

interface Fixture {
  /** A major complaint, with a pre-refund and a declared conflict of interest. */
  complaintId: string;
  /** The complaint's major-report deadline: the one kind completed by hand. */
  deadlineId: string;
  preRefundId: string;
  /** An open promise made to the complaint's customer. */
  promiseId: string;
  /** A satisfaction survey sent and answered (CSAT counts it), and one sent only. */
  surveyId: string;
  conflictId: string;
  /** A complaint the acceptance checks declined at intake, for a supervisor to take in. */
  declinedComplaintId: string;
  /** A complaint under investigation whose resolution awaits approval of its compensation. */
  proposalComplaintId: string;
  resolutionId: string;
  /** The resolution's apology, which needs no approval: the customer may choose it. */
  optionId: string;
  /** A complaint under investigation whose resolution the customer chose: ready to execute. */
  chosenComplaintId: string;
  chosenResolutionId: string;
  /** A resolved complaint and the follow-up visit its resolution scheduled. */
  resolvedComplaintId: string;
  followUpId: string;
  templateId: string;
  calendarId: string;
  policyId: string;
  webhookId: string;
  deliveryId: string;
  /** A replay of the webhook's failed deliveries; no worker runs here, so it stays queued. */
  replayId: string;
  apiKeyId: string;
  identityProviderId: string;
  /** The handler of every complaint above, named for this tenant alone: reports show it. */
  assignee: string;
}
interface Seeded {
  tenant: TestTenant;
  fixture: Fixture;
}

const calendar = {
  name: 'Guarded hours',
  timeZone: 'Europe/Berlin',
  weeklyHours: { monday: [{ start: '09:00', end: '17:00' }] },
};
const handler = { name: 'Zhang Wei', role: 'handler' };
/** A team lead's limit covers the fixture's compensation, which a handler's does not. */
const lead = { name: 'Li Na', role: 'team_lead' };
const apology = { kind: 'apology', description: 'A written apology' };
const notice = {
  channel: 'phone',
  measures: 'Apologised in writing',
  reasons: 'The lift was out of service for 30 minutes',
  followUpPlan: 'We will call you within 24 hours',
  body: 'Dear Wang Fang, we apologise and will call you tomorrow.',
};
const template = {
  locale: 'en',
  name: 'Guarded reply',
  body: 'Dear {{customer.name}}, about {{reference}}.',
};

async function ok(
  tenant: TestTenant,
  method: 'GET' | 'POST',
  url: string,
  json?: unknown,
): Promise<Record<string, unknown>> {
  const res = await call(t.app, tenant.adminKey, { method, url, json });
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
  return res.json();
}

/** A new complaint of the tenant's handler, moved through `statuses`; its id. */
async function complaintOf(
  tenant: TestTenant,
  assignee: string,
  statuses: string[] = [],
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const complaint = await ok(
    tenant,
    'POST',
    '/v1/complaints',
    complaintBody({ channel: 'phone', assignee, ...overrides }),
  );
  for (const to of statuses) await ok(tenant, 'POST', `/v1/complaints/${complaint.id}/transitions`, { to });
  return complaint.id as string;
}

/** A proposal of `options` by a handler; the resolution with its option ids. */
async function propose(tenant: TestTenant, complaintId: string, options: unknown[]) {
  const resolution = await ok(tenant, 'POST', `/v1/complaints/${complaintId}/resolutions`, {
    proposedBy: handler,
    options,
  });
  return resolution as { id: string; options: Array<{ id: string; approval: string }> };
}

/** One of everything a route can name, created through the API. */
async function seed(): Promise<Seeded> {
  const tenant = await createTestTenant(t.tenancy);
  const assignee = `handler-${randomUUID()}`;
  const complaintId = await complaintOf(tenant, assignee, [], { channel: 'web', severity: 'major' });
  const deadlines = (await ok(tenant, 'GET', `/v1/complaints/${complaintId}/deadlines`)).data as Array<{
    id: string;
    kind: string;
  }>;
  const preRefund = await ok(tenant, 'POST', `/v1/complaints/${complaintId}/pre-refunds`, {
    amount: 199,
    currency: 'CNY',
    refundedBy: handler,
  });
  const promise = await ok(tenant, 'POST', `/v1/complaints/${complaintId}/promises`, {
    description: 'Call back with the engineer’s report',
    dueAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
  });
  const answered = await ok(tenant, 'POST', `/v1/complaints/${complaintId}/surveys`, {});
  await ok(tenant, 'POST', `/v1/complaints/${complaintId}/surveys/${answered.id}/answer`, { score: 4 });
  const survey = await ok(tenant, 'POST', `/v1/complaints/${complaintId}/surveys`, {});
  const conflict = await ok(tenant, 'POST', `/v1/complaints/${complaintId}/conflicts`, {
    staff: 'zhao.lei',
    reason: 'Neighbour of the customer',
  });
  const declinedComplaintId = await complaintOf(tenant, assignee, [], { complainantRelation: 'other' });

  const proposalComplaintId = await complaintOf(tenant, assignee, ['acknowledged', 'investigating']);
  const proposal = await propose(tenant, proposalComplaintId, [
    apology,
    { kind: 'compensation', description: 'For the lost time', amount: 800, currency: 'CNY' },
  ]);
  expect(proposal.options.map((option) => option.approval)).toEqual(['not_required', 'pending']);
  const chosenComplaintId = await complaintOf(tenant, assignee, ['acknowledged', 'investigating']);
  const chosen = await propose(tenant, chosenComplaintId, [apology]);
  await ok(tenant, 'POST', `/v1/complaints/${chosenComplaintId}/resolutions/${chosen.id}/choice`, {
    optionId: chosen.options[0]!.id,
  });

  const resolvedComplaintId = await complaintOf(tenant, assignee, [
    'acknowledged',
    'investigating',
    'resolved',
  ]);
  const followUps = (await ok(tenant, 'GET', '/v1/follow-ups?limit=100')).data as Array<{
    id: string;
    complaintId: string;
  }>;
  const replyTemplate = await ok(tenant, 'POST', '/v1/reply-templates', { key: 'guarded', ...template });

  const cal = await ok(tenant, 'POST', '/v1/calendars', calendar);
  const policy = await ok(tenant, 'POST', '/v1/sla-policies', {
    name: 'Guarded',
    priority: 5,
    match: { categories: ['guarded'] },
  });
  const webhook = await ok(tenant, 'POST', '/v1/webhooks', {
    url: 'http://127.0.0.1:9/guarded',
    events: ['webhook.ping'],
  });
  await ok(tenant, 'POST', `/v1/webhooks/${webhook.id}/ping`);
  const [delivery] = await eventually(async () => {
    await relay.drain();
    const list = (await ok(tenant, 'GET', `/v1/webhooks/${webhook.id}/deliveries`)).data as Array<{
      id: string;
    }>;
    return list.length > 0 ? list : undefined;
  });
  const replay = await ok(tenant, 'POST', `/v1/webhooks/${webhook.id}/replays`, {
    since: new Date(Date.now() - 3_600_000).toISOString(),
    until: new Date().toISOString(),
  });
  const apiKey = await ok(tenant, 'POST', '/v1/api-keys', { name: 'guarded', scopes: ['reports:read'] });
  const identityProvider = await ok(tenant, 'POST', '/v1/identity-providers', {
    name: 'guarded',
    issuer: 'http://127.0.0.1:9/guarded',
    audience: `guarded-${tenant.tenantId}`,
    scopeMap: { staff: ['complaints:read'] },
  });
  return {
    tenant,
    fixture: {
      complaintId,
      deadlineId: deadlines.find((d) => d.kind === 'major_report')!.id,
      preRefundId: preRefund.id as string,
      promiseId: promise.id as string,
      surveyId: survey.id as string,
      conflictId: conflict.id as string,
      declinedComplaintId,
      proposalComplaintId,
      resolutionId: proposal.id,
      optionId: proposal.options[0]!.id,
      chosenComplaintId,
      chosenResolutionId: chosen.id,
      resolvedComplaintId,
      followUpId: followUps.find((f) => f.complaintId === resolvedComplaintId)!.id,
      templateId: replyTemplate.id as string,
      calendarId: cal.id as string,
      policyId: policy.id as string,
      webhookId: webhook.id as string,
      deliveryId: delivery!.id,
      replayId: replay.id as string,
      apiKeyId: apiKey.id as string,
      identityProviderId: identityProvider.id as string,
      assignee,
    },
  };
}

/** Everything the fixture's owner can read of it: equal before and after means nothing was written. */
async function snapshot({ tenant, fixture: f }: Seeded): Promise<Record<string, unknown>> {
  const complaints = [
    f.complaintId,
    f.declinedComplaintId,
    f.proposalComplaintId,
    f.chosenComplaintId,
    f.resolvedComplaintId,
  ];
  const urls = [
    ...complaints.flatMap((id) => [`/v1/complaints/${id}`, `/v1/complaints/${id}/resolutions`]),
    `/v1/complaints/${f.complaintId}/timeline?limit=100`,
    `/v1/complaints/${f.complaintId}/deadlines`,
    `/v1/complaints/${f.complaintId}/escalations`,
    `/v1/complaints/${f.complaintId}/pre-refunds`,
    `/v1/complaints/${f.complaintId}/promises`,
    `/v1/complaints/${f.complaintId}/surveys`,
    `/v1/complaints/${f.complaintId}/conflicts`,
    `/v1/follow-ups/${f.followUpId}`,
    '/v1/reply-templates',
    `/v1/calendars/${f.calendarId}`,
    `/v1/sla-policies/${f.policyId}`,
    `/v1/webhooks/${f.webhookId}`,
    `/v1/webhooks/${f.webhookId}/deliveries`,
    `/v1/webhooks/${f.webhookId}/replays/${f.replayId}`,
    `/v1/api-keys/${f.apiKeyId}`,
    `/v1/identity-providers/${f.identityProviderId}`,
    '/v1/settings/workflow',
    '/v1/events?limit=500',
  ];
  // The feed shows an event once the outbox relay has placed it: wait until it shows all the
  // tenant's events, so that a relay still at work cannot place some of them between one snapshot
  // and the other.
  const { rows: written } = await t.database.pool.query<{ n: number }>(
    'select count(*)::int as n from events where tenant_id = $1 and subscription_id is null',
    [tenant.tenantId],
  );
  await eventually(async () => {
    const feed = (await ok(tenant, 'GET', '/v1/events?limit=500')) as { data: unknown[] };
    return feed.data.length >= written[0]!.n ? true : undefined;
  }, 10_000);
  const reads = await Promise.all(urls.map((url) => ok(tenant, 'GET', url)));
  const { rows } = await t.database.pool.query(
    'select secret from webhook_secrets where subscription_id = $1 order by created_at',
    [f.webhookId],
  );
  return { ...Object.fromEntries(urls.map((url, i) => [url, reads[i]])), secrets: rows };
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface Route {
  method: Method;
  /** The path as openapi.yaml names it. */
  path: string;
  scope: Scope;
  /** The URL for a fixture, with a valid body and headers: only the caller can make it fail. */
  url: (f: Fixture) => string;
  body?: (f: Fixture) => unknown;
  ifMatch?: true;
  /**
   * `item`: names a resource, so another tenant's is 404. `list`: lists or counts the caller's
   * resources, and another tenant's never appear.
   * `create` and `tenant`: act on the caller's own tenant only (settings, new resources).
   */
  kind: 'item' | 'list' | 'create' | 'tenant';
  /** A request with one bad part; `null` when the route takes no input at all. */
  bad: { url?: (f: Fixture) => string; body?: unknown; field?: string; code?: string } | null;
}

const validComplaintWrite = { direction: 'outbound', channel: 'phone', body: 'Called', contactMade: true };
/** A date `days` from today as YYYY-MM-DD, for report periods. */
const dayFromToday = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

const ROUTES: Route[] = [
  // API keys
  {
    method: 'POST',
    path: '/v1/api-keys',
    scope: 'admin',
    kind: 'create',
    url: () => '/v1/api-keys',
    body: () => ({ name: 'x', scopes: ['complaints:read'] }),
    bad: { body: { name: 'x', scopes: ['root'] }, field: 'body.scopes.0' },
  },
  {
    method: 'GET',
    path: '/v1/api-keys',
    scope: 'admin',
    kind: 'list',
    url: () => '/v1/api-keys',
    bad: null,
  },
  {
    method: 'GET',
    path: '/v1/api-keys/{id}',
    scope: 'admin',
    kind: 'item',
    url: (f) => `/v1/api-keys/${f.apiKeyId}`,
    bad: { url: () => '/v1/api-keys/not-a-uuid', field: 'params.id' },
  },
  {
    method: 'DELETE',
    path: '/v1/api-keys/{id}',
    scope: 'admin',
    kind: 'item',
    url: (f) => `/v1/api-keys/${f.apiKeyId}`,
    bad: { url: () => '/v1/api-keys/rdk_1234', field: 'params.id' },
  },
  // Identity providers
  {
    method: 'POST',
    path: '/v1/identity-providers',
    scope: 'admin',
    kind: 'create',
    url: () => '/v1/identity-providers',
    body: () => ({
      name: 'x',
      issuer: 'http://127.0.0.1:9/new',
      audience: `new-${randomUUID()}`,
      scopeMap: { staff: ['complaints:read'] },
    }),
    bad: {
      body: { name: 'x', issuer: 'http://127.0.0.1:9/new', audience: 'a', scopeMap: { staff: ['root'] } },
      field: 'body.scopeMap.staff.0',
    },
  },
  {
    method: 'GET',
    path: '/v1/identity-providers',
    scope: 'admin',
    kind: 'list',
    url: () => '/v1/identity-providers',
    bad: null,
  },
  {
    method: 'GET',
    path: '/v1/identity-providers/{id}',
    scope: 'admin',
    kind: 'item',
    url: (f) => `/v1/identity-providers/${f.identityProviderId}`,
    bad: { url: () => '/v1/identity-providers/not-a-uuid', field: 'params.id' },
  },
  {
    method: 'DELETE',
    path: '/v1/identity-providers/{id}',
    scope: 'admin',
    kind: 'item',
    url: (f) => `/v1/identity-providers/${f.identityProviderId}`,
    bad: { url: () => '/v1/identity-providers/42', field: 'params.id' },
  },
  // Complaints
  {
    method: 'POST',
    path: '/v1/complaints',
    scope: 'complaints:write',
    kind: 'create',
    url: () => '/v1/complaints',
    body: () => complaintBody(),
    bad: { body: complaintBody({ channel: 'pigeon' }), field: 'body.channel' },
  },
  {
    method: 'GET',
    path: '/v1/complaints',
    scope: 'complaints:read',
    kind: 'list',
    url: () => '/v1/complaints?limit=100',
    bad: { url: () => '/v1/complaints?limit=0', field: 'querystring.limit' },
  },
  {
    method: 'GET',
    path: '/v1/complaints/{id}',
    scope: 'complaints:read',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}`,
    bad: { url: () => '/v1/complaints/not-a-uuid', field: 'params.id' },
  },
  {
    method: 'PATCH',
    path: '/v1/complaints/{id}',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}`,
    body: () => ({ priority: 'low' }),
    ifMatch: true,
    bad: { body: { priority: 'sky-high' }, field: 'body.priority' },
  },
  {
    method: 'POST',
    path: '/v1/complaints/{id}/transitions',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/transitions`,
    body: () => ({ to: 'acknowledged' }),
    bad: { body: { to: 'teleported' }, field: 'body.to' },
  },
  {
    method: 'POST',
    path: '/v1/complaints/{id}/communications',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/communications`,
    body: () => validComplaintWrite,
    bad: { body: { ...validComplaintWrite, direction: 'sideways' }, field: 'body.direction' },
  },
  {
    method: 'POST',
    path: '/v1/complaints/{id}/desk-feedback',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/desk-feedback`,
    body: () => ({ summary: 'Fed back to the central service desk' }),
    bad: { body: { summary: '' }, field: 'body.summary' },
  },
  {
    method: 'GET',
    path: '/v1/complaints/{id}/timeline',
    scope: 'complaints:read',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/timeline`,
    bad: { url: (f) => `/v1/complaints/${f.complaintId}/timeline?cursor=abc`, code: 'invalid_cursor' },
  },
  {
    method: 'GET',
    path: '/v1/complaints/{id}/timeline/verification',
    scope: 'complaints:read',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/timeline/verification`,
    bad: { url: () => '/v1/complaints/not%20a%20complaint/timeline/verification', field: 'params.id' },
  },
  {
    method: 'POST',
    path: '/v1/complaints/{id}/acceptance-override',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.declinedComplaintId}/acceptance-override`,
    body: () => ({ reason: 'Authority shown in person', supervisor: 'li.na' }),
    bad: { body: { reason: 'Authority shown in person' }, field: 'body.supervisor' },
  },
  {
    method: 'GET',
    path: '/v1/major-complaints',
    scope: 'complaints:read',
    kind: 'list',
    url: () => '/v1/major-complaints?limit=100',
    bad: { url: () => '/v1/major-complaints?reason=scary', field: 'querystring.reason' },
  },
  // Ownership and recusal
  {
    method: 'POST',
    path: '/v1/complaints/{id}/handover',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/handover`,
    body: () => ({ to: 'li.na', reason: 'Billing specialist' }),
    bad: { body: { to: 'li.na' }, field: 'body.reason' },
  },
  {
    method: 'POST',
    path: '/v1/complaints/{id}/conflicts',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/conflicts`,
    body: () => ({ staff: 'wang.wu', reason: 'Former colleague of the customer' }),
    bad: { body: { staff: '', reason: 'Former colleague of the customer' }, field: 'body.staff' },
  },
  {
    method: 'GET',
    path: '/v1/complaints/{id}/conflicts',
    scope: 'complaints:read',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/conflicts`,
    bad: { url: () => '/v1/complaints/not-a-uuid/conflicts', field: 'params.id' },
  },
  // Data subjects: our complaints name the fixture customer's phone (complaintBody), theirs too.
  {
    method: 'POST',
    path: '/v1/data-subjects/export',
    scope: 'personal_data:export',
    kind: 'list',
    url: () => '/v1/data-subjects/export',
    body: () => ({ phone: '+86 138 0013 8000' }),
    bad: {
      body: { phone: '+86 138 0013 8000', email: 'wang.fang@example.com' },
      code: 'data_subject_invalid',
      field: 'body.email',
    },
  },
  // Deadlines
  {
    method: 'GET',
    path: '/v1/complaints/{id}/deadlines',
    scope: 'complaints:read',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/deadlines`,
    bad: { url: () => '/v1/complaints/not-a-uuid/deadlines', field: 'params.id' },
  },
  {
    method: 'GET',
    path: '/v1/deadlines',
    scope: 'complaints:read',
    kind: 'list',
    url: () => '/v1/deadlines?limit=100',
    bad: { url: () => '/v1/deadlines?status=lost', field: 'querystring.status' },
  },
  {
    method: 'POST',
    path: '/v1/complaints/{id}/deadlines/{deadlineId}/complete',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/deadlines/${f.deadlineId}/complete`,
    bad: {
      url: (f) => `/v1/complaints/${f.complaintId}/deadlines/not-a-uuid/complete`,
      field: 'params.deadlineId',
    },
  },
  {
    method: 'POST',
    path: '/v1/complaints/{id}/deadlines/{deadlineId}/extensions',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/deadlines/${f.deadlineId}/extensions`,
    body: () => ({
      reason: 'The card network has not answered',
      approver: lead,
      customerNotice: { channel: 'email', body: 'We need more time.' },
    }),
    bad: {
      url: (f) => `/v1/complaints/${f.complaintId}/deadlines/not-a-uuid/extensions`,
      field: 'params.deadlineId',
    },
  },
  // Calendars
  {
    method: 'POST',
    path: '/v1/calendars',
    scope: 'policies:manage',
    kind: 'create',
    url: () => '/v1/calendars',
    body: () => calendar,
    bad: { body: { ...calendar, name: '' }, field: 'body.name' },
  },
  {
    method: 'GET',
    path: '/v1/calendars',
    scope: 'policies:manage',
    kind: 'list',
    url: () => '/v1/calendars',
    bad: null,
  },
  {
    method: 'GET',
    path: '/v1/calendars/{id}',
    scope: 'policies:manage',
    kind: 'item',
    url: (f) => `/v1/calendars/${f.calendarId}`,
    bad: { url: () => '/v1/calendars/12345', field: 'params.id' },
  },
  {
    method: 'PUT',
    path: '/v1/calendars/{id}',
    scope: 'policies:manage',
    kind: 'item',
    url: (f) => `/v1/calendars/${f.calendarId}`,
    body: () => ({ ...calendar, name: 'Taken over' }),
    ifMatch: true,
    bad: {
      body: { ...calendar, weeklyHours: { monday: [{ start: '9am', end: '17:00' }] } },
      field: 'body.weeklyHours.monday.0.start',
    },
  },
  {
    method: 'DELETE',
    path: '/v1/calendars/{id}',
    scope: 'policies:manage',
    kind: 'item',
    url: (f) => `/v1/calendars/${f.calendarId}`,
    bad: { url: () => '/v1/calendars/not-a-uuid', field: 'params.id' },
  },
  // SLA policies
  {
    method: 'POST',
    path: '/v1/sla-policies',
    scope: 'policies:manage',
    kind: 'create',
    url: () => '/v1/sla-policies',
    body: () => ({ name: 'x', priority: 7 }),
    bad: { body: { name: 'x', priority: -1 }, field: 'body.priority' },
  },
  {
    method: 'GET',
    path: '/v1/reports/regulatory-compliance',
    scope: 'reports:read',
    kind: 'tenant',
    url: () =>
      `/v1/reports/regulatory-compliance?regime=eu_psd2&from=${dayFromToday(-1)}&to=${dayFromToday(0)}`,
    bad: {
      url: () =>
        `/v1/reports/regulatory-compliance?regime=eu_psd2&from=${dayFromToday(0)}&to=${dayFromToday(-1)}`,
      field: 'querystring.to',
    },
  },
  {
    method: 'POST',
    path: '/v1/sla-policies/from-regime',
    scope: 'policies:manage',
    kind: 'create',
    url: () => '/v1/sla-policies/from-regime',
    body: () => ({ regime: 'us_cfpb', match: { categories: ['cfpb'] } }),
    bad: { body: { regime: 'nowhere' }, field: 'body.regime' },
  },
  {
    method: 'GET',
    path: '/v1/regulatory-regimes',
    scope: 'policies:manage',
    kind: 'tenant',
    url: () => '/v1/regulatory-regimes',
    bad: null,
  },
  {
    method: 'GET',
    path: '/v1/sla-policies',
    scope: 'policies:manage',
    kind: 'list',
    url: () => '/v1/sla-policies',
    bad: null,
  },
  {
    method: 'GET',
    path: '/v1/sla-policies/{id}',
    scope: 'policies:manage',
    kind: 'item',
    url: (f) => `/v1/sla-policies/${f.policyId}`,
    bad: { url: () => '/v1/sla-policies/not-a-uuid', field: 'params.id' },
  },
  {
    method: 'PATCH',
    path: '/v1/sla-policies/{id}',
    scope: 'policies:manage',
    kind: 'item',
    url: (f) => `/v1/sla-policies/${f.policyId}`,
    body: () => ({ name: 'Taken over' }),
    ifMatch: true,
    bad: { body: { warnAt: [1.5] }, field: 'body.warnAt.0' },
  },
  {
    method: 'POST',
    path: '/v1/sla-policies/{id}/preview',
    scope: 'policies:manage',
    kind: 'item',
    url: (f) => `/v1/sla-policies/${f.policyId}/preview`,
    body: () => ({ receivedAt: '2026-01-05T10:00:00Z', channel: 'web' }),
    bad: { body: { receivedAt: 'yesterday', channel: 'web' }, field: 'body.receivedAt' },
  },
  // Escalations
  {
    method: 'POST',
    path: '/v1/complaints/{id}/escalations',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/escalations`,
    body: () => ({ level: 3, reason: 'Taken over' }),
    bad: { body: { level: 4, reason: 'Too high' }, field: 'body.level' },
  },
  {
    method: 'GET',
    path: '/v1/complaints/{id}/escalations',
    scope: 'complaints:read',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/escalations`,
    bad: { url: () => '/v1/complaints/C-12/escalations', field: 'params.id' },
  },
  // Resolutions
  {
    method: 'POST',
    path: '/v1/complaints/{id}/resolutions',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/resolutions`,
    body: () => ({ proposedBy: handler, options: [apology] }),
    bad: {
      body: { proposedBy: handler, options: [{ kind: 'bribe', description: 'x' }] },
      field: 'body.options.0.kind',
    },
  },
  {
    method: 'GET',
    path: '/v1/complaints/{id}/resolutions',
    scope: 'complaints:read',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.proposalComplaintId}/resolutions`,
    bad: { url: () => '/v1/complaints/not-a-uuid/resolutions', field: 'params.id' },
  },
  {
    method: 'GET',
    path: '/v1/complaints/{id}/resolutions/{resolutionId}',
    scope: 'complaints:read',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.proposalComplaintId}/resolutions/${f.resolutionId}`,
    bad: {
      url: (f) => `/v1/complaints/${f.proposalComplaintId}/resolutions/not-a-uuid`,
      field: 'params.resolutionId',
    },
  },
  {
    method: 'POST',
    path: '/v1/complaints/{id}/resolutions/{resolutionId}/approve',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.proposalComplaintId}/resolutions/${f.resolutionId}/approve`,
    body: () => ({ approver: lead }),
    bad: { body: { approver: { name: 'Li Na' } }, field: 'body.approver.role' },
  },
  {
    method: 'POST',
    path: '/v1/complaints/{id}/resolutions/{resolutionId}/reject',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.proposalComplaintId}/resolutions/${f.resolutionId}/reject`,
    body: () => ({ approver: lead, reason: 'Too much for a short outage' }),
    bad: { body: { approver: lead }, field: 'body.reason' },
  },
  {
    method: 'POST',
    path: '/v1/complaints/{id}/resolutions/{resolutionId}/choice',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.proposalComplaintId}/resolutions/${f.resolutionId}/choice`,
    body: (f) => ({ optionId: f.optionId, note: 'Happy with an apology' }),
    bad: { body: { optionId: 'the-apology' }, field: 'body.optionId' },
  },
  {
    method: 'POST',
    path: '/v1/complaints/{id}/resolutions/{resolutionId}/execute',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.chosenComplaintId}/resolutions/${f.chosenResolutionId}/execute`,
    body: () => ({ notice }),
    bad: { body: { notice: { ...notice, channel: 'pigeon' } }, field: 'body.notice.channel' },
  },
  // Pre-refunds
  {
    method: 'POST',
    path: '/v1/complaints/{id}/pre-refunds',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/pre-refunds`,
    body: () => ({ amount: 100, currency: 'CNY', refundedBy: handler }),
    bad: { body: { amount: 100, currency: 'cny', refundedBy: handler }, field: 'body.currency' },
  },
  {
    method: 'GET',
    path: '/v1/complaints/{id}/pre-refunds',
    scope: 'complaints:read',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/pre-refunds`,
    bad: { url: () => '/v1/complaints/not-a-uuid/pre-refunds', field: 'params.id' },
  },
  {
    method: 'POST',
    path: '/v1/complaints/{id}/pre-refunds/{preRefundId}/verification',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/pre-refunds/${f.preRefundId}/verification`,
    body: () => ({ outcome: 'confirmed', verifiedBy: lead }),
    bad: { body: { outcome: 'maybe', verifiedBy: lead }, field: 'body.outcome' },
  },
  // Promises to the customer
  {
    method: 'POST',
    path: '/v1/complaints/{id}/promises',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/promises`,
    body: () => ({ description: 'Call back', dueAt: new Date(Date.now() + 86_400_000).toISOString() }),
    bad: { body: { description: 'Call back', dueAt: 'tomorrow' }, field: 'body.dueAt' },
  },
  {
    method: 'GET',
    path: '/v1/complaints/{id}/promises',
    scope: 'complaints:read',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/promises`,
    bad: { url: () => '/v1/complaints/not-a-uuid/promises', field: 'params.id' },
  },
  {
    method: 'GET',
    path: '/v1/complaints/{id}/promises/{promiseId}',
    scope: 'complaints:read',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/promises/${f.promiseId}`,
    bad: { url: (f) => `/v1/complaints/${f.complaintId}/promises/not-a-uuid`, field: 'params.promiseId' },
  },
  {
    method: 'POST',
    path: '/v1/complaints/{id}/promises/{promiseId}/kept',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/promises/${f.promiseId}/kept`,
    body: () => ({ note: 'Called back' }),
    bad: { body: { note: '' }, field: 'body.note' },
  },
  {
    method: 'POST',
    path: '/v1/complaints/{id}/promises/{promiseId}/withdrawal',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/promises/${f.promiseId}/withdrawal`,
    body: () => ({ reason: 'The customer chose a refund' }),
    bad: { body: { reason: '' }, field: 'body.reason' },
  },
  // Satisfaction surveys
  {
    method: 'POST',
    path: '/v1/complaints/{id}/surveys',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/surveys`,
    body: () => ({ channel: 'phone' }),
    bad: { body: { channel: 'pigeon' }, field: 'body.channel' },
  },
  {
    method: 'GET',
    path: '/v1/complaints/{id}/surveys',
    scope: 'complaints:read',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/surveys`,
    bad: { url: () => '/v1/complaints/not-a-uuid/surveys', field: 'params.id' },
  },
  {
    method: 'POST',
    path: '/v1/complaints/{id}/surveys/{surveyId}/answer',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/complaints/${f.complaintId}/surveys/${f.surveyId}/answer`,
    body: () => ({ score: 5, comment: 'Well handled' }),
    bad: { body: { score: 9 }, field: 'body.score' },
  },
  {
    method: 'GET',
    path: '/v1/reports/csat',
    scope: 'reports:read',
    kind: 'list',
    url: () => `/v1/reports/csat?from=${dayFromToday(-1)}&to=${dayFromToday(1)}&groupBy=assignee`,
    bad: { url: () => '/v1/reports/csat?from=2026-01-02&to=2026-01-01', field: 'querystring.to' },
  },
  // Follow-up visits
  {
    method: 'GET',
    path: '/v1/follow-ups',
    scope: 'complaints:read',
    kind: 'list',
    url: () => '/v1/follow-ups?limit=100',
    bad: { url: () => '/v1/follow-ups?status=lost', field: 'querystring.status' },
  },
  {
    method: 'GET',
    path: '/v1/follow-ups/{id}',
    scope: 'complaints:read',
    kind: 'item',
    url: (f) => `/v1/follow-ups/${f.followUpId}`,
    bad: { url: () => '/v1/follow-ups/not-a-uuid', field: 'params.id' },
  },
  {
    method: 'POST',
    path: '/v1/follow-ups/{id}/outcome',
    scope: 'complaints:write',
    kind: 'item',
    url: (f) => `/v1/follow-ups/${f.followUpId}/outcome`,
    body: () => ({ outcome: 'satisfied', score: 5 }),
    bad: { body: { outcome: 'satisfied', score: 6 }, field: 'body.score' },
  },
  // Events
  {
    method: 'GET',
    path: '/v1/events',
    scope: 'complaints:read',
    kind: 'list',
    url: () => '/v1/events?limit=500',
    bad: { url: () => '/v1/events?types=nope', field: 'querystring.types' },
  },
  // Reply templates
  {
    method: 'POST',
    path: '/v1/reply-templates',
    scope: 'policies:manage',
    kind: 'create',
    url: () => '/v1/reply-templates',
    body: () => ({ key: 'guarded_new', ...template }),
    bad: { body: { key: 'Bad Key', ...template }, field: 'body.key' },
  },
  {
    method: 'GET',
    path: '/v1/reply-templates',
    scope: 'complaints:read',
    kind: 'list',
    url: () => '/v1/reply-templates',
    bad: { url: () => '/v1/reply-templates?locale=english', field: 'querystring.locale' },
  },
  {
    method: 'GET',
    path: '/v1/reply-templates/{id}',
    scope: 'complaints:read',
    kind: 'item',
    url: (f) => `/v1/reply-templates/${f.templateId}`,
    bad: { url: () => '/v1/reply-templates/not-a-uuid', field: 'params.id' },
  },
  {
    method: 'PATCH',
    path: '/v1/reply-templates/{id}',
    scope: 'policies:manage',
    kind: 'item',
    url: (f) => `/v1/reply-templates/${f.templateId}`,
    body: () => ({ name: 'Taken over' }),
    ifMatch: true,
    bad: { body: { body: '' }, field: 'body.body' },
  },
  {
    method: 'DELETE',
    path: '/v1/reply-templates/{id}',
    scope: 'policies:manage',
    kind: 'item',
    url: (f) => `/v1/reply-templates/${f.templateId}`,
    bad: { url: () => '/v1/reply-templates/42', field: 'params.id' },
  },
  {
    method: 'POST',
    path: '/v1/reply-templates/{id}/render',
    scope: 'complaints:read',
    kind: 'item',
    url: (f) => `/v1/reply-templates/${f.templateId}/render`,
    body: (f) => ({ complaintId: f.complaintId }),
    bad: { body: { complaintId: 'nope' }, field: 'body.complaintId' },
  },
  // Reports: they count complaints by handler, and another tenant's handler never appears.
  {
    method: 'GET',
    path: '/v1/reports/daily-inventory',
    scope: 'reports:read',
    kind: 'list',
    url: () => '/v1/reports/daily-inventory',
    bad: { url: () => '/v1/reports/daily-inventory?date=2026-02-30', field: 'querystring.date' },
  },
  {
    method: 'GET',
    path: '/v1/reports/sla-compliance',
    scope: 'reports:read',
    kind: 'list',
    url: () => `/v1/reports/sla-compliance?from=${dayFromToday(-1)}&to=${dayFromToday(30)}&groupBy=assignee`,
    bad: {
      url: () => '/v1/reports/sla-compliance?from=2026-01-02&to=2026-01-01',
      field: 'querystring.to',
    },
  },
  // Settings
  {
    method: 'GET',
    path: '/v1/settings/workflow',
    scope: 'policies:manage',
    kind: 'tenant',
    url: () => '/v1/settings/workflow',
    bad: null,
  },
  {
    method: 'PUT',
    path: '/v1/settings/workflow',
    scope: 'policies:manage',
    kind: 'tenant',
    url: () => '/v1/settings/workflow',
    body: () => ({ repeatWindowDays: 7 }),
    ifMatch: true,
    bad: { body: { collectiveThreshold: 1 }, field: 'body.collectiveThreshold' },
  },
  // Webhooks
  {
    method: 'POST',
    path: '/v1/webhooks',
    scope: 'webhooks:manage',
    kind: 'create',
    url: () => '/v1/webhooks',
    body: () => ({ url: 'http://127.0.0.1:9/new', events: ['*'] }),
    bad: { body: { url: 'ftp://127.0.0.1/hook', events: ['*'] }, field: 'body.url' },
  },
  {
    method: 'GET',
    path: '/v1/webhooks',
    scope: 'webhooks:manage',
    kind: 'list',
    url: () => '/v1/webhooks?limit=100',
    bad: { url: () => '/v1/webhooks?limit=0', field: 'querystring.limit' },
  },
  {
    method: 'GET',
    path: '/v1/webhooks/{id}',
    scope: 'webhooks:manage',
    kind: 'item',
    url: (f) => `/v1/webhooks/${f.webhookId}`,
    bad: { url: () => '/v1/webhooks/nope', field: 'params.id' },
  },
  {
    method: 'PATCH',
    path: '/v1/webhooks/{id}',
    scope: 'webhooks:manage',
    kind: 'item',
    url: (f) => `/v1/webhooks/${f.webhookId}`,
    body: () => ({ url: 'http://127.0.0.1:9/taken-over' }),
    ifMatch: true,
    bad: { body: { events: ['nope'] }, field: 'body.events.0' },
  },
  {
    method: 'DELETE',
    path: '/v1/webhooks/{id}',
    scope: 'webhooks:manage',
    kind: 'item',
    url: (f) => `/v1/webhooks/${f.webhookId}`,
    bad: { url: () => '/v1/webhooks/123', field: 'params.id' },
  },
  {
    method: 'POST',
    path: '/v1/webhooks/{id}/rotate-secret',
    scope: 'webhooks:manage',
    kind: 'item',
    url: (f) => `/v1/webhooks/${f.webhookId}/rotate-secret`,
    bad: { url: () => '/v1/webhooks/x/rotate-secret', field: 'params.id' },
  },
  {
    method: 'GET',
    path: '/v1/webhooks/{id}/deliveries',
    scope: 'webhooks:manage',
    kind: 'item',
    url: (f) => `/v1/webhooks/${f.webhookId}/deliveries`,
    bad: { url: (f) => `/v1/webhooks/${f.webhookId}/deliveries?status=lost`, field: 'querystring.status' },
  },
  {
    method: 'POST',
    path: '/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver',
    scope: 'webhooks:manage',
    kind: 'item',
    url: (f) => `/v1/webhooks/${f.webhookId}/deliveries/${f.deliveryId}/redeliver`,
    bad: {
      url: (f) => `/v1/webhooks/${f.webhookId}/deliveries/nope/redeliver`,
      field: 'params.deliveryId',
    },
  },
  {
    method: 'POST',
    path: '/v1/webhooks/{id}/ping',
    scope: 'webhooks:manage',
    kind: 'item',
    url: (f) => `/v1/webhooks/${f.webhookId}/ping`,
    bad: { url: () => '/v1/webhooks/0/ping', field: 'params.id' },
  },
  {
    method: 'POST',
    path: '/v1/webhooks/{id}/replays',
    scope: 'webhooks:manage',
    kind: 'item',
    url: (f) => `/v1/webhooks/${f.webhookId}/replays`,
    body: () => ({ since: new Date(Date.now() - 60_000).toISOString(), until: new Date().toISOString() }),
    bad: { body: { since: 'yesterday', until: new Date().toISOString() }, field: 'body.since' },
  },
  {
    method: 'GET',
    path: '/v1/webhooks/{id}/replays/{replayId}',
    scope: 'webhooks:manage',
    kind: 'item',
    url: (f) => `/v1/webhooks/${f.webhookId}/replays/${f.replayId}`,
    bad: { url: (f) => `/v1/webhooks/${f.webhookId}/replays/nope`, field: 'params.replayId' },
  },
];

/** Routes anyone may call; /metrics has its own token (test/platform.test.ts). */
const PUBLIC_ROUTES = ['GET /healthz', 'GET /readyz', 'GET /metrics'];

const label = (route: Route) => `${route.method} ${route.path}`;

function request(route: Route, key: string | null, f: Fixture, part: 'valid' | 'bad' = 'valid') {
  const bad = part === 'bad' ? route.bad : undefined;
  const body = bad?.body ?? route.body?.(f);
  return call(t.app, key, {
    method: route.method,
    url: (bad?.url ?? route.url)(f),
    headers: route.ifMatch ? { 'if-match': '*' } : {},
    ...(body !== undefined ? { json: body } : {}),
  });
}

const keysWithout = new Map<Scope, string>();
/** A key of our tenant holding every scope but `scope` (and never admin, which holds them all). */
async function keyWithout(scope: Scope): Promise<string> {
  let key = keysWithout.get(scope);
  if (!key) {
    key = await us.tenant.keyWith(...SCOPES.filter((s) => s !== scope && s !== 'admin'));
    keysWithout.set(scope, key);
  }
  return key;
}

beforeAll(async () => {
  isolated = await startIsolatedTestApp('guards', {
    WEBHOOK_ALLOW_PRIVATE: 'true',
    OIDC_ALLOW_PRIVATE: 'true',
    // Each snapshot reads every fixture, twice a test: far beyond one key's default request rate.
    RATE_LIMIT_MAX: '1000000',
  });
  t = isolated.app;
  relay = startEventRelay({
    db: t.database.db,
    databaseUrl: isolated.databaseUrl,
    events: t.services.repositories.events,
    consumers: [
      createWebhookFanout({
        webhooks: t.services.repositories.webhooks,
        firstDelaySeconds: 3600,
        onCommitted: () => {},
      }),
    ],
    log: pino({ level: 'silent' }),
  });
  us = await seed();
  them = await seed();
});
afterAll(async () => {
  await relay?.stop();
  await isolated?.close();
});

describe('the guard table', () => {
  it('has a row for every operation in openapi.yaml', async () => {
    const document = parse(await readFile(new URL('../openapi.yaml', import.meta.url), 'utf8')) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    const covered = [...ROUTES.map(label), ...PUBLIC_ROUTES];
    expect(new Set(covered).size).toBe(covered.length);
    expect([...covered].sort()).toEqual([...documented].sort());
  });
});

describe.each(ROUTES.map((route) => [label(route), route] as const))('%s', (_label, route) => {
  it('answers 401 without a key', async () => {
    const res = await request(route, null, us.fixture);
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().code).toBe('unauthenticated');
  });

  it(`answers 403 to a key without ${route.scope}`, async () => {
    const res = await request(route, await keyWithout(route.scope), us.fixture);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'insufficient_scope', requiredScope: route.scope });
  });

  if (route.kind === 'item') {
    it("answers a plain 404 for another tenant's resource and changes nothing of theirs", async () => {
      const before = await snapshot(them);
      const res = await request(route, us.tenant.adminKey, them.fixture);
      expect(res.statusCode, res.body).toBe(404);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().code).toBe('not_found');
      expect(res.body).not.toContain(them.tenant.tenantId);
      expect(await snapshot(them)).toEqual(before);
    });
  }

  if (route.kind === 'list') {
    it("lists our resources and nothing of another tenant's", async () => {
      const res = await request(route, us.tenant.adminKey, us.fixture);
      expect(res.statusCode, res.body).toBe(200);
      const mine = Object.values(us.fixture).filter((id) => res.body.includes(id));
      expect(mine.length).toBeGreaterThan(0);
      for (const id of [them.tenant.tenantId, ...Object.values(them.fixture)])
        expect(res.body).not.toContain(id);
    });
  }

  if (route.bad) {
    const bad = route.bad;
    it('answers 400 to bad input, naming the field, and writes nothing', async () => {
      const before = await snapshot(us);
      const res = await request(route, us.tenant.adminKey, us.fixture, 'bad');
      expect(res.statusCode, res.body).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().code).toBe(bad.code ?? 'validation_failed');
      if (bad.field) expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(bad.field);
      expect(await snapshot(us)).toEqual(before);
    });
  }
});

describe('references across tenants', () => {
  it("refuses another tenant's calendar in a policy, as if it did not exist", async () => {
    const created = await call(t.app, us.tenant.adminKey, {
      method: 'POST',
      url: '/v1/sla-policies',
      json: { name: 'Borrowed hours', priority: 9, calendarId: them.fixture.calendarId },
    });
    expect(created.statusCode, created.body).toBe(400);
    expect(created.json().errors.map((e: { field: string }) => e.field)).toContain('body.calendarId');
    const changed = await call(t.app, us.tenant.adminKey, {
      method: 'PATCH',
      url: `/v1/sla-policies/${us.fixture.policyId}`,
      headers: { 'if-match': '*' },
      json: { calendarId: them.fixture.calendarId },
    });
    expect(changed.statusCode, changed.body).toBe(400);
    expect(changed.body).not.toContain(them.tenant.tenantId);
  });

  it("renders no complaint of another tenant's into our template", async () => {
    const res = await call(t.app, us.tenant.adminKey, {
      method: 'POST',
      url: `/v1/reply-templates/${us.fixture.templateId}/render`,
      json: { complaintId: them.fixture.complaintId },
    });
    expect(res.statusCode, res.body).toBe(404);
    expect(res.json().code).toBe('not_found');
    expect(res.body).not.toContain(them.tenant.tenantId);
  });

  it("writes nothing to our customers from another tenant's template", async () => {
    const f = us.fixture;
    const before = await snapshot(us);
    const communication = await call(t.app, us.tenant.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${f.complaintId}/communications`,
      json: {
        direction: 'outbound',
        channel: 'email',
        templateId: them.fixture.templateId,
        contactMade: true,
      },
    });
    expect(communication.statusCode, communication.body).toBe(400);
    expect(communication.json().errors.map((e: { field: string }) => e.field)).toContain('body.templateId');
    const { body: _body, ...written } = notice;
    const executed = await call(t.app, us.tenant.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${f.chosenComplaintId}/resolutions/${f.chosenResolutionId}/execute`,
      json: { notice: { ...written, templateId: them.fixture.templateId } },
    });
    expect(executed.statusCode, executed.body).toBe(400);
    for (const res of [communication, executed]) expect(res.body).not.toContain(them.tenant.tenantId);
    expect(await snapshot(us)).toEqual(before);
  });

  it("reaches no resolution, pre-refund or promise of another of our complaints through this one's URL", async () => {
    const f = us.fixture;
    const before = await snapshot(us);
    const elsewhere = [
      { method: 'GET' as const, url: `/v1/complaints/${f.chosenComplaintId}/resolutions/${f.resolutionId}` },
      {
        method: 'POST' as const,
        url: `/v1/complaints/${f.chosenComplaintId}/resolutions/${f.resolutionId}/approve`,
        json: { approver: lead },
      },
      {
        method: 'POST' as const,
        url: `/v1/complaints/${f.proposalComplaintId}/pre-refunds/${f.preRefundId}/verification`,
        json: { outcome: 'confirmed', verifiedBy: lead },
      },
      {
        method: 'POST' as const,
        url: `/v1/complaints/${f.proposalComplaintId}/promises/${f.promiseId}/kept`,
        json: {},
      },
      { method: 'GET' as const, url: `/v1/complaints/${f.proposalComplaintId}/promises/${f.promiseId}` },
    ];
    for (const options of elsewhere) {
      const res = await call(t.app, us.tenant.adminKey, options);
      expect(res.statusCode, `${options.url}: ${res.body}`).toBe(404);
      expect(res.json().code).toBe('not_found');
    }
    expect(await snapshot(us)).toEqual(before);
  });

  it("completes no deadline of another of our complaints through this one's URL", async () => {
    const other = await ok(us.tenant, 'POST', '/v1/complaints', complaintBody({ channel: 'phone' }));
    const res = await call(t.app, us.tenant.adminKey, {
      method: 'POST',
      url: `/v1/complaints/${other.id}/deadlines/${us.fixture.deadlineId}/complete`,
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('not_found');
    const deadlines = (await ok(us.tenant, 'GET', `/v1/complaints/${us.fixture.complaintId}/deadlines`))
      .data as Array<{ id: string; status: string }>;
    expect(deadlines.find((d) => d.id === us.fixture.deadlineId)!.status).toBe('pending');
  });
});
