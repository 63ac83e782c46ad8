import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countQueries, postGraphql, validationFields } from './graphql-client.js';
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

const FOLLOW_UP_FIELDS = /* GraphQL */ `
  id complaintId reference assignee resolutionId deadlineId attempt status dueAt overdue
  outcome score comment contactedBy completedAt recordedBy { type id name onBehalfOf } createdAt
`;

const RECORD = /* GraphQL */ `
  mutation ($id: ID!, $input: FollowUpOutcomeInput!, $key: String) {
    recordFollowUpOutcome(id: $id, input: $input, idempotencyKey: $key) {
      followUp { ${FOLLOW_UP_FIELDS} }
      nextAttempt { ${FOLLOW_UP_FIELDS} }
      attemptsExhausted
    }
  }
`;

/** A complaint taken through to resolved by the plain status changes, which schedules a visit. */
async function resolved(key: string, overrides: Record<string, unknown> = {}) {
  const res = await post('/v1/complaints', complaintBody({ channel: 'phone', ...overrides }), key);
  expect(res.statusCode, res.body).toBe(201);
  const complaint = res.json();
  for (const to of ['acknowledged', 'investigating', 'resolved']) {
    const moved = await post(`/v1/complaints/${complaint.id}/transitions`, { to }, key);
    expect(moved.statusCode, moved.body).toBe(200);
  }
  return complaint;
}

/** The complaint's pending visit as REST lists it. */
async function restFollowUp(complaintId: string, key: string) {
  const page = (await get('/v1/follow-ups?limit=100', key)).json().data;
  const found = page.find((f: { complaintId: string }) => f.complaintId === complaintId);
  expect(found, `no pending follow-up for ${complaintId}`).toBeDefined();
  return found;
}

describe('GraphQL follow-up queries', () => {
  it("shows a resolved complaint's visit on complaint { followUps }, in followUps and by id, as REST does", async () => {
    const own = await createTestTenant(t.tenancy);
    const complaint = await resolved(own.adminKey, { assignee: 'li.na' });
    const rest = await restFollowUp(complaint.id, own.adminKey);
    expect(rest).toMatchObject({ attempt: 1, status: 'pending', assignee: 'li.na', overdue: false });

    const nested = await gql(
      own.adminKey,
      `query ($id: ID!) { complaint(id: $id) { id status followUps { ${FOLLOW_UP_FIELDS} } } }`,
      { id: complaint.id },
    );
    expect(nested.errors).toEqual([]);
    expect(nested.data.complaint).toEqual({ id: complaint.id, status: 'resolved', followUps: [rest] });

    const list = await gql(
      own.adminKey,
      `{ followUps(filter: { assignee: "li.na" }) {
        nodes { ${FOLLOW_UP_FIELDS} } edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`,
    );
    expect(list.errors).toEqual([]);
    expect(list.data.followUps.nodes).toEqual([rest]);
    expect(list.data.followUps.edges).toEqual([{ cursor: expect.any(String), node: { id: rest.id } }]);
    expect(list.data.followUps.pageInfo).toEqual({ hasNextPage: false, endCursor: null });
    const nobody = await gql(own.adminKey, '{ followUps(filter: { assignee: "nobody" }) { nodes { id } } }');
    expect(nobody.data.followUps.nodes).toEqual([]);

    const byId = await gql(own.adminKey, `query ($id: ID!) { followUp(id: $id) { ${FOLLOW_UP_FIELDS} } }`, {
      id: rest.id,
    });
    expect(byId.data.followUp).toEqual((await get(`/v1/follow-ups/${rest.id}`, own.adminKey)).json());
  });

  it('pages the work list with REST cursors and filters overdue and settled visits', async () => {
    const own = await createTestTenant(t.tenancy);
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await resolved(own.adminKey)).id);
    const restOrder = (await get('/v1/follow-ups?limit=100', own.adminKey))
      .json()
      .data.map((f: { id: string }) => f.id);
    expect(restOrder).toHaveLength(3);

    const query = `query ($after: String) { followUps(first: 2, after: $after) {
      nodes { id } edges { cursor } pageInfo { hasNextPage endCursor } } }`;
    const first = await gql(own.adminKey, query);
    expect(first.errors).toEqual([]);
    expect(first.data.followUps.pageInfo).toEqual({
      hasNextPage: true,
      endCursor: first.data.followUps.edges[1].cursor,
    });
    // The GraphQL cursor is REST's: REST's second page starts where GraphQL's first ended.
    const restNext = (
      await get(`/v1/follow-ups?limit=2&cursor=${first.data.followUps.pageInfo.endCursor}`, own.adminKey)
    ).json();
    const second = await gql(own.adminKey, query, { after: first.data.followUps.pageInfo.endCursor });
    expect(second.data.followUps.pageInfo.hasNextPage).toBe(false);
    const seen = [...first.data.followUps.nodes, ...second.data.followUps.nodes].map((n) => n.id);
    expect(seen).toEqual(restOrder);
    expect(second.data.followUps.nodes.map((n: { id: string }) => n.id)).toEqual(
      restNext.data.map((f: { id: string }) => f.id),
    );

    const none = await gql(own.adminKey, '{ followUps(filter: { overdue: true }) { nodes { id } } }');
    expect(none.data.followUps.nodes).toEqual([]);
    await t.database.pool.query(
      "update follow_ups set due_at = now() - interval '1 hour' where complaint_id = $1",
      [ids[0]],
    );
    const overdue = await gql(
      own.adminKey,
      '{ followUps(filter: { overdue: true }) { nodes { complaintId overdue } } }',
    );
    expect(overdue.data.followUps.nodes).toEqual([{ complaintId: ids[0], overdue: true }]);
    const completed = await gql(
      own.adminKey,
      '{ followUps(filter: { status: [completed] }) { nodes { id } } }',
    );
    expect(completed.data.followUps.nodes).toEqual([]);
  });
});

describe('GraphQL follow-up outcomes', () => {
  it('closes the complaint of a satisfied customer, through the same service as REST', async () => {
    const own = await createTestTenant(t.tenancy);
    const complaint = await resolved(own.adminKey);
    const followUp = await restFollowUp(complaint.id, own.adminKey);
    const answer = await gql(own.adminKey, RECORD, {
      id: followUp.id,
      input: { outcome: 'satisfied', score: 5, comment: '很满意', contactedBy: null },
    });
    expect(answer.errors).toEqual([]);
    const result = answer.data.recordFollowUpOutcome;
    expect(result).toMatchObject({
      followUp: { id: followUp.id, status: 'completed', outcome: 'satisfied', score: 5, comment: '很满意' },
      nextAttempt: null,
      attemptsExhausted: false,
    });
    expect(result.followUp).toEqual((await get(`/v1/follow-ups/${followUp.id}`, own.adminKey)).json());

    const after = await gql(
      own.adminKey,
      'query ($id: ID!) { complaint(id: $id) { status followUps { id status outcome } } }',
      { id: complaint.id },
    );
    expect(after.data.complaint).toEqual({
      status: 'closed',
      followUps: [{ id: followUp.id, status: 'completed', outcome: 'satisfied' }],
    });
    const again = await gql(own.adminKey, RECORD, { id: followUp.id, input: { outcome: 'satisfied' } });
    expect(again.status).toBe(409);
    expect(again.errors[0]!.extensions).toMatchObject({
      code: 'follow_up_not_pending',
      status: 409,
      currentStatus: 'completed',
    });
  });

  it('reopens and escalates the complaint of an unsatisfied customer, and tries an unreachable one again', async () => {
    const own = await createTestTenant(t.tenancy);
    const complaint = await resolved(own.adminKey);
    const followUp = await restFollowUp(complaint.id, own.adminKey);
    const answer = await gql(own.adminKey, RECORD, {
      id: followUp.id,
      input: { outcome: 'unsatisfied', score: 1, comment: 'The lift broke again' },
    });
    expect(answer.errors).toEqual([]);
    const after = await gql(
      own.adminKey,
      'query ($id: ID!) { complaint(id: $id) { status escalationLevel escalations { level trigger reason } } }',
      { id: complaint.id },
    );
    expect(after.data.complaint).toMatchObject({ status: 'investigating', escalationLevel: 1 });
    expect(after.data.complaint.escalations).toEqual([
      { level: 1, trigger: 'unsatisfied', reason: expect.stringContaining('The lift broke again') },
    ]);

    const other = await resolved(own.adminKey);
    const visit = await restFollowUp(other.id, own.adminKey);
    const unreachable = await gql(own.adminKey, RECORD, { id: visit.id, input: { outcome: 'unreachable' } });
    expect(unreachable.errors).toEqual([]);
    const { nextAttempt } = unreachable.data.recordFollowUpOutcome;
    expect(nextAttempt).toMatchObject({ attempt: 2, status: 'pending', complaintId: other.id });
    expect(nextAttempt).toEqual((await get(`/v1/follow-ups/${nextAttempt.id}`, own.adminKey)).json());
    const both = await gql(
      own.adminKey,
      'query ($id: ID!) { complaint(id: $id) { followUps { attempt status } } }',
      {
        id: other.id,
      },
    );
    expect(both.data.complaint.followUps).toEqual([
      { attempt: 1, status: 'completed' },
      { attempt: 2, status: 'pending' },
    ]);
  });

  it('replays an outcome with the same idempotency key, and refuses the key with another input', async () => {
    const own = await createTestTenant(t.tenancy);
    const complaint = await resolved(own.adminKey);
    const followUp = await restFollowUp(complaint.id, own.adminKey);
    const variables = { id: followUp.id, input: { outcome: 'satisfied', score: 4 }, key: 'visit-1' };
    const first = await gql(own.adminKey, RECORD, variables);
    expect(first.errors).toEqual([]);
    const again = await gql(own.adminKey, RECORD, variables);
    // Run twice, the second would be follow_up_not_pending: the same answer means it ran once.
    expect(again.errors).toEqual([]);
    expect(again.data).toEqual(first.data);
    const { rows } = await t.database.pool.query(
      "select count(*)::int as n from events where complaint_id = $1 and type = 'follow_up.completed'",
      [complaint.id],
    );
    expect(rows[0].n).toBe(1);

    const other = await gql(own.adminKey, RECORD, {
      ...variables,
      input: { outcome: 'satisfied', score: 5 },
    });
    expect(other.status).toBe(422);
    expect(other.errors[0]!.extensions).toMatchObject({ code: 'idempotency_key_reused', status: 422 });
    const badKey = await gql(own.adminKey, RECORD, { ...variables, key: 'with space' });
    expect(badKey.errors[0]!.extensions).toMatchObject({
      code: 'validation_failed',
      errors: [{ field: 'idempotencyKey', message: expect.any(String) }],
    });
  });

  it('refuses bad input with validation_failed naming the field', async () => {
    const own = await createTestTenant(t.tenancy);
    const complaint = await resolved(own.adminKey);
    const followUp = await restFollowUp(complaint.id, own.adminKey);
    for (const [input, field] of [
      [{ outcome: 'satisfied', score: 6 }, 'input.score'],
      [{ outcome: 'satisfied', score: 0 }, 'input.score'],
      [{ outcome: 'declined', score: 2 }, 'input.score'],
      [{ outcome: 'satisfied', comment: '   ' }, 'input.comment'],
    ] as const) {
      expect(
        validationFields(await gql(own.adminKey, RECORD, { id: followUp.id, input })),
        JSON.stringify(input),
      ).toEqual([field]);
    }
    expect(
      validationFields(await gql(own.adminKey, RECORD, { id: 'nope', input: { outcome: 'satisfied' } })),
    ).toEqual(['args.id']);
    expect(validationFields(await gql(own.adminKey, '{ followUps(first: 101) { nodes { id } } }'))).toEqual([
      'args.first',
    ]);
    expect(
      validationFields(
        await gql(own.adminKey, '{ followUps(filter: { dueBefore: "soon" }) { nodes { id } } }'),
      ),
    ).toEqual(['args.filter.dueBefore']);
    const badCursor = await gql(own.adminKey, '{ followUps(after: "zzz") { nodes { id } } }');
    expect(badCursor.errors[0]!.extensions.code).toBe('invalid_cursor');
    const badEnum = await gql(own.adminKey, RECORD, { id: followUp.id, input: { outcome: 'happy' } });
    expect(badEnum.errors[0]!.extensions.code).toBe('graphql_validation_failed');
    // Nothing was recorded by any of them.
    expect((await get(`/v1/follow-ups/${followUp.id}`, own.adminKey)).json().status).toBe('pending');
  });
});

describe('GraphQL follow-up security', () => {
  it('needs a key, and the scope of the REST route', async () => {
    const complaint = await resolved(tenant.adminKey);
    const followUp = await restFollowUp(complaint.id, tenant.adminKey);
    const anonymous = await gql(null, '{ followUps { nodes { id } } }');
    expect(anonymous.status).toBe(401);
    expect(anonymous.errors[0]!.extensions).toMatchObject({ code: 'unauthenticated', status: 401 });

    const reports = await tenant.keyWith('reports:read');
    const list = await gql(reports, '{ followUps { nodes { id } } }');
    expect(list.status).toBe(403);
    expect(list.errors[0]!.extensions).toMatchObject({
      code: 'insufficient_scope',
      requiredScope: 'complaints:read',
    });
    const reader = await tenant.keyWith('complaints:read');
    const write = await gql(reader, RECORD, { id: followUp.id, input: { outcome: 'satisfied' } });
    expect(write.status).toBe(403);
    expect(write.errors[0]!.extensions).toMatchObject({
      code: 'insufficient_scope',
      requiredScope: 'complaints:write',
    });
    const read = await gql(reader, 'query ($id: ID!) { followUp(id: $id) { status } }', { id: followUp.id });
    expect(read.data.followUp).toEqual({ status: 'pending' });
  });

  it("answers another tenant's visit as not_found and writes nothing", async () => {
    const theirs = await resolved(tenant.adminKey);
    const visit = await restFollowUp(theirs.id, tenant.adminKey);
    const other = await createTestTenant(t.tenancy);
    const read = await gql(other.adminKey, 'query ($id: ID!) { followUp(id: $id) { id } }', { id: visit.id });
    expect(read.data).toEqual({ followUp: null });
    expect(read.errors[0]!.extensions).toEqual({ code: 'not_found', status: 404 });
    const write = await gql(other.adminKey, RECORD, {
      id: visit.id,
      input: { outcome: 'satisfied' },
      key: 'foreign-1',
    });
    expect(write.errors[0]!.extensions).toMatchObject({ code: 'not_found', status: 404 });
    const list = await gql(other.adminKey, '{ followUps(first: 100) { nodes { id } } }');
    expect(list.data.followUps.nodes).toEqual([]);
    expect((await get(`/v1/follow-ups/${visit.id}`)).json()).toMatchObject({
      status: 'pending',
      outcome: null,
    });
    expect((await get(`/v1/complaints/${theirs.id}`)).json().status).toBe('resolved');
  });
});

describe('GraphQL follow-up limits', () => {
  it('reads the visits of a page of complaints in the same bounded number of queries for 10 and 50', async () => {
    const own = await createTestTenant(t.tenancy);
    for (let i = 0; i < 50; i += 1) await resolved(own.adminKey, { subject: `Complaint ${i}` });
    const query = (first: number) =>
      `{ complaints(first: ${first}) { nodes { id followUps { id status } } } }`;
    // Warm: the key lookup is cached after the first request.
    await gql(own.adminKey, query(1));
    const counted = async (first: number) => {
      const queries = countQueries(t.database.pool);
      const answer = await gql(own.adminKey, query(first));
      queries.stop();
      expect(answer.errors).toEqual([]);
      expect(answer.data.complaints.nodes).toHaveLength(first);
      for (const node of answer.data.complaints.nodes) {
        expect(node.followUps).toEqual([{ id: expect.any(String), status: 'pending' }]);
      }
      return queries.count;
    };
    const ten = await counted(10);
    const fifty = await counted(50);
    // The complaints page, their next deadlines, and one query for all their visits.
    expect(fifty).toBe(ten);
    expect(fifty).toBeLessThanOrEqual(3);
  });
});
