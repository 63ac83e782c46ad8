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
import { eventsOf } from './intake-helpers.js';

/**
 * Satisfaction surveys (满意度调查, seeds 000 and 003): sent and answered for any complaint, even one
 * exempt from a follow-up visit, and reported as CSAT per period, channel, category and handler.
 */
let t: TestApp;
let tenant: TestTenant;
beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTestTenant(t.tenancy);
});
afterAll(async () => {
  await t?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Json = Record<string, any>;
const post = (url: string, json: unknown, headers: Record<string, string> = {}, key = tenant.adminKey) =>
  call(t.app, key, { method: 'POST', url, json, headers });
const get = (url: string, key = tenant.adminKey) => call(t.app, key, { method: 'GET', url });
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

async function newComplaint(key = tenant.adminKey, overrides: Json = {}): Promise<string> {
  const res = await call(t.app, key, {
    method: 'POST',
    url: '/v1/complaints',
    json: complaintBody(overrides),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

async function surveyed(key: string, complaintId: string, score: number, comment?: string) {
  const sent = await post(`/v1/complaints/${complaintId}/surveys`, {}, {}, key);
  expect(sent.statusCode, sent.body).toBe(201);
  const answered = await post(
    `/v1/complaints/${complaintId}/surveys/${sent.json().id}/answer`,
    { score, ...(comment ? { comment } : {}) },
    {},
    key,
  );
  expect(answered.statusCode, answered.body).toBe(200);
  return answered.json();
}

describe('satisfaction surveys', () => {
  it('are sent for any complaint, answered once with a score and a comment, and listed', async () => {
    const id = await newComplaint();
    const sent = await post(`/v1/complaints/${id}/surveys`, { channel: 'phone' });
    expect(sent.statusCode, sent.body).toBe(201);
    expect(sent.json()).toMatchObject({ complaintId: id, channel: 'phone', status: 'sent', score: null });
    const answer = await post(`/v1/complaints/${id}/surveys/${sent.json().id}/answer`, {
      score: 4,
      comment: 'Fixed quickly',
    });
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json()).toMatchObject({ status: 'answered', score: 4, comment: 'Fixed quickly' });
    const again = await post(`/v1/complaints/${id}/surveys/${sent.json().id}/answer`, { score: 1 });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('survey_already_answered');

    const list = await get(`/v1/complaints/${id}/surveys`);
    expect(list.json().data).toEqual([answer.json()]);
    expect((await eventsOf(t, id)).slice(-2).map((event) => event.type)).toEqual([
      'survey.sent',
      'survey.answered',
    ]);

    // A closed complaint exempt from a visit can still be surveyed.
    const sensitive = await newComplaint(tenant.adminKey, { channel: 'phone', tags: ['sensitive'] });
    for (const to of ['acknowledged', 'investigating', 'resolved', 'closed']) {
      const res = await post(`/v1/complaints/${sensitive}/transitions`, { to });
      expect(res.statusCode, res.body).toBe(200);
    }
    expect((await surveyed(tenant.adminKey, sensitive, 5)).status).toBe('answered');
  });

  it('reports CSAT per period, channel, category and handler', async () => {
    const own = await createTestTenant(t.tenancy);
    const a = await newComplaint(own.adminKey, { channel: 'phone', category: 'lift', assignee: 'li.na' });
    const b = await newComplaint(own.adminKey, { channel: 'web', category: 'lift', assignee: 'li.na' });
    const c = await newComplaint(own.adminKey, { channel: 'web', category: 'noise', assignee: 'wang.wu' });
    await surveyed(own.adminKey, a, 5);
    await surveyed(own.adminKey, b, 2, 'Slow');
    await surveyed(own.adminKey, c, 4);
    await post(`/v1/complaints/${c}/surveys`, {}, {}, own.adminKey); // sent, not answered: not counted

    const report = async (query: string) => {
      const res = await get(`/v1/reports/csat?from=${day(-1)}&to=${day(1)}${query}`, own.adminKey);
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    };
    expect((await report('')).groups).toEqual([
      { group: null, answered: 3, satisfied: 2, averageScore: 3.67, csatPercent: 66.7 },
    ]);
    expect((await report('&groupBy=channel')).groups).toEqual([
      { group: 'phone', answered: 1, satisfied: 1, averageScore: 5, csatPercent: 100 },
      { group: 'web', answered: 2, satisfied: 1, averageScore: 3, csatPercent: 50 },
    ]);
    expect((await report('&groupBy=category')).groups.map((g: Json) => [g.group, g.answered])).toEqual([
      ['lift', 2],
      ['noise', 1],
    ]);
    expect((await report('&groupBy=assignee')).groups.map((g: Json) => [g.group, g.csatPercent])).toEqual([
      ['li.na', 50],
      ['wang.wu', 100],
    ]);
    const before = await get(`/v1/reports/csat?from=${day(-30)}&to=${day(-10)}`, own.adminKey);
    expect(before.json().groups).toEqual([]);
    // Another tenant's answers are never counted.
    const other = await get(`/v1/reports/csat?from=${day(-1)}&to=${day(1)}`, tenant.adminKey);
    expect(other.json().groups[0].answered).toBe(2);
  });

  it('refuses bad input, replays an idempotent send, and hides other tenants', async () => {
    const id = await newComplaint();
    const first = await post(`/v1/complaints/${id}/surveys`, {}, { 'idempotency-key': `survey-${id}` });
    const retry = await post(`/v1/complaints/${id}/surveys`, {}, { 'idempotency-key': `survey-${id}` });
    expect(retry.statusCode).toBe(201);
    expect(retry.json()).toEqual(first.json());
    const surveyId = first.json().id;
    for (const bad of [
      {},
      { score: 0 },
      { score: 6 },
      { score: 3.5 },
      { score: 3, comment: '' },
      { score: 3, x: 1 },
    ]) {
      const res = await post(`/v1/complaints/${id}/surveys/${surveyId}/answer`, bad);
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
    }
    const badChannel = await post(`/v1/complaints/${id}/surveys`, { channel: 'pigeon' });
    expect(badChannel.statusCode).toBe(400);
    const badPeriod = await get(`/v1/reports/csat?from=${day(1)}&to=${day(-1)}`);
    expect(badPeriod.statusCode).toBe(400);

    const other = await createTestTenant(t.tenancy);
    const foreign = [
      await post(`/v1/complaints/${id}/surveys`, {}, {}, other.adminKey),
      await get(`/v1/complaints/${id}/surveys`, other.adminKey),
      await post(`/v1/complaints/${id}/surveys/${surveyId}/answer`, { score: 5 }, {}, other.adminKey),
    ];
    expect(foreign.map((res) => res.statusCode)).toEqual([404, 404, 404]);
  });

  it('are sent, answered, listed and reported over GraphQL too', async () => {
    const id = await newComplaint();
    const sent = await postGraphql(
      t.app,
      tenant.adminKey,
      'mutation ($c: ID!) { sendSurvey(complaintId: $c, input: { channel: email }) { id status channel } }',
      { c: id },
    );
    expect(sent.errors).toEqual([]);
    expect(sent.data.sendSurvey).toMatchObject({ status: 'sent', channel: 'email' });
    const answered = await postGraphql(
      t.app,
      tenant.adminKey,
      `mutation ($c: ID!, $s: ID!) {
        answerSurvey(complaintId: $c, surveyId: $s, input: { score: 3, comment: "OK" }) { status score comment } }`,
      { c: id, s: sent.data.sendSurvey.id },
    );
    expect(answered.errors).toEqual([]);
    expect(answered.data.answerSurvey).toEqual({ status: 'answered', score: 3, comment: 'OK' });
    const read = await postGraphql(
      t.app,
      tenant.adminKey,
      `query ($id: ID!, $from: String!, $to: String!) {
        complaint(id: $id) { surveys { score } }
        csat(from: $from, to: $to, groupBy: channel) { groups { group answered } } }`,
      { id, from: day(-1), to: day(1) },
    );
    expect(read.errors).toEqual([]);
    expect(read.data.complaint.surveys).toEqual([{ score: 3 }]);
    // Grouped by the complaint's channel (web), not the survey's.
    expect(read.data.csat.groups).toContainEqual({ group: 'web', answered: 2 });
  });
});
