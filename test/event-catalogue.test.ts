/**
 * The event catalogue against what Redress really sends: complaints taken through their whole
 * life (intake, edits, ownership, the worker's warnings, breaches and escalations, resolutions,
 * pre-refunds, promises, surveys, follow-up visits, reopening, acceptance overrides), webhooks pinged
 * and disabled, timelines digested and a data subject exported, until every type of the catalogue
 * has happened. Each event, as the feed shows it and as a webhook delivers it, must match its
 * type's schema; the receiver checks each delivery too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/lib/clock.js';
import { EVENT_TYPES, type EventType } from '../src/modules/events/event-types.js';
import { createTimelineIntegrityService } from '../src/modules/timeline-integrity/timeline-integrity.service.js';
import { eventProblems } from './event-catalogue.js';
import { call, complaintBody, createFastLaneTenant, type TestApp, type TestTenant } from './harness.js';
import { daysAgo } from './intake-helpers.js';
import { type IsolatedTestApp, startIsolatedTestApp } from './isolated-database.js';
import { type Receiver, startReceiver } from './receiver.js';
import { testRedisEnv } from './redis-keys.js';
import { eventually, startWorkerProcess, type WorkerProcess } from './worker-process.js';

let isolated: IsolatedTestApp;
let t: TestApp;
let worker: WorkerProcess;
let receiver: Receiver;

beforeAll(async () => {
  isolated = await startIsolatedTestApp('event-catalogue', { WEBHOOK_ALLOW_PRIVATE: 'true' });
  t = isolated.app;
  receiver = await startReceiver();
  worker = await startWorkerProcess({
    DATABASE_URL: isolated.databaseUrl,
    ...testRedisEnv(),
    REDIS_PREFIX: isolated.redisPrefix,
    SLA_RECONCILE_INTERVAL: '1',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_RETRY_SCHEDULE: '0,1,1,1',
    WEBHOOK_TIMEOUT_SECONDS: '2',
  });
});
afterAll(async () => {
  await worker?.stop();
  await isolated?.close();
  // Last: it fails the file when a delivery was off the event catalogue.
  await receiver?.close();
});

type Json = Record<string, unknown>;
const handler = { name: 'Zhang Wei', role: 'handler' };
const lead = { name: 'Li Na', role: 'team_lead' };
const manager = { name: 'Chen Jie', role: 'department_manager' };

/** The whole feed of the tenant, oldest first, each page checked against the catalogue. */
async function feedOf(tenant: TestTenant): Promise<Json[]> {
  const seen: Json[] = [];
  let cursor: string | undefined;
  for (;;) {
    const res = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url: `/v1/events?limit=500${cursor ? `&after=${cursor}` : ''}`,
    });
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json();
    if (page.data.length === 0) return seen;
    seen.push(...page.data);
    cursor = page.nextCursor;
  }
}

describe('the event catalogue', () => {
  it('describes every event Redress sends, by the feed and by webhook, of every type', async () => {
    const tenant = await createFastLaneTenant(t, { warnAt: [0.5] });
    const post = async (url: string, json?: unknown, status = 200) => {
      const res = await call(t.app, tenant.adminKey, { method: 'POST', url, json });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(status);
      return res.json();
    };
    const get = async (url: string) => (await call(t.app, tenant.adminKey, { method: 'GET', url })).json();
    const transition = (id: string, to: string, reason?: string) =>
      post(`/v1/complaints/${id}/transitions`, reason ? { to, reason } : { to });

    // Webhooks: one for everything, one whose endpoint is gone (webhook.disabled), both pinged.
    const everything = await post('/v1/webhooks', { url: `${receiver.url}/hooks/all`, events: ['*'] }, 201);
    receiver.answer('/hooks/gone', () => ({ status: 410 }));
    const gone = await post('/v1/webhooks', { url: `${receiver.url}/hooks/gone`, events: ['*'] }, 201);
    await post(`/v1/webhooks/${gone.id}/ping`, undefined, 202);
    await post(`/v1/webhooks/${everything.id}/ping`, undefined, 202);

    // On the fast lane: warned, breached and escalated by the worker within seconds.
    const complaint = await post('/v1/complaints', complaintBody({ channel: 'web', category: 'fast' }), 201);
    const id = complaint.id as string;
    await eventually(async () => (await get(`/v1/complaints/${id}`)).escalationLevel >= 1, 20_000);

    await transition(id, 'acknowledged');
    await transition(id, 'investigating');
    const current = await get(`/v1/complaints/${id}`);
    const edited = await call(t.app, tenant.adminKey, {
      method: 'PATCH',
      url: `/v1/complaints/${id}`,
      headers: { 'if-match': `"${current.version}"` },
      json: { assignee: 'li.na', responsibility: 'own', mediaExposure: true },
    });
    expect(edited.statusCode, edited.body).toBe(200);
    await post(
      `/v1/complaints/${id}/communications`,
      {
        direction: 'outbound',
        channel: 'phone',
        body: 'Called back',
        contactMade: true,
      },
      201,
    );
    await post(
      `/v1/complaints/${id}/conflicts`,
      { staff: 'li.na', reason: 'She lives in the building', handoverTo: 'wang.wu' },
      201,
    );

    // Resolutions: one rejected by the approver, one approved, chosen and carried out.
    const resolutions = `/v1/complaints/${id}/resolutions`;
    const tooMuch = await post(
      resolutions,
      {
        proposedBy: handler,
        options: [{ kind: 'compensation', description: 'Large', amount: 20_000, currency: 'CNY' }],
      },
      201,
    );
    await post(`${resolutions}/${tooMuch.id}/reject`, { approver: manager, reason: 'Too much' });
    const refund = await post(
      `/v1/complaints/${id}/pre-refunds`,
      { amount: 100, currency: 'CNY', refundedBy: handler },
      201,
    );
    await post(`/v1/complaints/${id}/pre-refunds/${refund.id}/verification`, {
      outcome: 'confirmed',
      verifiedBy: lead,
    });
    // A satisfaction survey, sent and answered.
    const survey = await post(`/v1/complaints/${id}/surveys`, {}, 201);
    await post(`/v1/complaints/${id}/surveys/${survey.id}/answer`, { score: 4, comment: 'Fixed' });
    // Promises to the customer: one kept, one withdrawn with a reason.
    const promiseDue = new Date(Date.now() + 86_400_000).toISOString();
    const kept = await post(
      `/v1/complaints/${id}/promises`,
      { description: 'Call back', dueAt: promiseDue },
      201,
    );
    await post(`/v1/complaints/${id}/promises/${kept.id}/kept`, { note: 'Called back' });
    const dropped = await post(
      `/v1/complaints/${id}/promises`,
      { description: 'Visit', dueAt: promiseDue },
      201,
    );
    await post(`/v1/complaints/${id}/promises/${dropped.id}/withdrawal`, { reason: 'Not needed any more' });
    const resolution = await post(
      resolutions,
      {
        proposedBy: handler,
        options: [
          { kind: 'apology', description: 'A written apology' },
          { kind: 'compensation', description: 'For the lost time', amount: 800, currency: 'CNY' },
        ],
      },
      201,
    );
    await post(`${resolutions}/${resolution.id}/approve`, { approver: lead });
    await post(`${resolutions}/${resolution.id}/choice`, { optionId: resolution.options[1].id });
    await post(`${resolutions}/${resolution.id}/execute`, {
      notice: {
        channel: 'phone',
        measures: 'Paid the compensation',
        reasons: 'The lift stopped for 30 minutes',
        followUpPlan: 'We will call you within 24 hours',
        body: 'Dear Wang Fang, we have paid the compensation.',
      },
    });

    // The follow-up visit satisfies the customer (closed); the complaint is then reopened.
    const followUps = (await get('/v1/follow-ups?limit=100')).data as Array<{
      id: string;
      complaintId: string;
    }>;
    const visit = followUps.find((followUp) => followUp.complaintId === id)!;
    await post(`/v1/follow-ups/${visit.id}/outcome`, { outcome: 'satisfied', score: 5 });
    await transition(id, 'investigating', 'The lift stopped again');

    // A sensitive complaint needs no visit; one declined at intake is taken in by a supervisor.
    const sensitive = await post(
      '/v1/complaints',
      complaintBody({ channel: 'phone', tags: ['sensitive'] }),
      201,
    );
    for (const to of ['acknowledged', 'investigating', 'resolved']) await transition(sensitive.id, to);
    // Its resolution is fed back to the central service desk.
    await post(`/v1/complaints/${sensitive.id}/desk-feedback`, { summary: 'Resolved without a visit' });
    const declined = await post(
      '/v1/complaints',
      complaintBody({ category: 'billing', occurredAt: daysAgo(200) }),
      201,
    );
    expect(declined.status).toBe('rejected');
    await post(`/v1/complaints/${declined.id}/acceptance-override`, {
      reason: 'The customer only learnt of the charge last week',
      supervisor: 'li.na',
    });

    // A PSD2 complaint's reply deadline extended to 35 business days with a holding reply.
    const frankfurt = await post(
      '/v1/calendars',
      {
        name: 'Frankfurt',
        timeZone: 'Europe/Berlin',
        weeklyHours: Object.fromEntries(
          ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => [
            day,
            [{ start: '09:00', end: '17:00' }],
          ]),
        ),
      },
      201,
    );
    await post(
      '/v1/sla-policies/from-regime',
      { regime: 'eu_psd2', match: { categories: ['payments'] }, calendarId: frankfurt.id, priority: 2 },
      201,
    );
    const payment = await post(
      '/v1/complaints',
      complaintBody({ channel: 'phone', category: 'payments' }),
      201,
    );
    const owed = ((await get(`/v1/complaints/${payment.id}/deadlines`)).data as Json[]).find(
      (deadline) => deadline.kind === 'resolution',
    )!;
    await post(`/v1/complaints/${payment.id}/deadlines/${owed.id}/extensions`, {
      reason: 'The card network has not answered',
      approver: lead,
      customerNotice: {
        channel: 'email',
        body: 'We need more time; our final reply follows by the date below.',
      },
    });

    // The day's timelines digested, as the worker does once the day is over: run as if tomorrow.
    const tomorrow = { now: () => new Date(systemClock.now().getTime() + 86_400_000) };
    await createTimelineIntegrityService({
      db: t.database.db,
      repository: t.services.repositories.timelineIntegrity,
      complaints: t.services.complaints,
      events: t.services.repositories.events,
      clock: tomorrow,
    }).digestFinishedDays();

    // A data subject's access export, recorded without the subject in clear.
    await post('/v1/data-subjects/export', { phone: '+86 138 0013 8000' });

    // Every type has happened: in the feed (pings go to their subscription only)…
    const inFeed = new Set<EventType>(EVENT_TYPES.filter((type) => type !== 'webhook.ping'));
    const feed = await eventually(async () => {
      const events = await feedOf(tenant);
      const types = new Set(events.map((event) => event.type as EventType));
      return [...inFeed].every((type) => types.has(type)) ? events : undefined;
    }, 30_000);
    expect(feed.flatMap(eventProblems)).toEqual([]);

    // …and delivered by webhook, each delivery as its type's schema says.
    const deliveries = await eventually(async () => {
      const bodies = receiver.on('/hooks/all').map((request) => JSON.parse(request.rawBody) as Json);
      const types = new Set(bodies.map((body) => body.type as EventType));
      return EVENT_TYPES.every((type) => types.has(type)) ? bodies : undefined;
    }, 30_000);
    expect(deliveries.flatMap(eventProblems)).toEqual([]);
    expect(new Set(deliveries.map((delivery) => delivery.type))).toEqual(new Set(EVENT_TYPES));
    // As long as its waits above may take together, on a busy machine: a whole complaint life,
    // the worker's breaches and a webhook delivery of every type.
  }, 150_000);
});
