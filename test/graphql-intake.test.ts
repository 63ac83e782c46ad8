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
import { daysAgo, type Json } from './intake-helpers.js';

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

const CREATE = `mutation ($input: ComplaintInput!) { createComplaint(input: $input) { ${COMPLAINT_FIELDS} } }`;

async function restComplaint(key: string, id: string): Promise<Json> {
  const res = await call(t.app, key, { method: 'GET', url: `/v1/complaints/${id}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function rowCount(table: string, complaintId: string): Promise<number> {
  const { rows } = await t.database.pool.query(
    `select count(*)::int as n from ${table} where complaint_id = $1`,
    [complaintId],
  );
  return rows[0].n;
}

describe('GraphQL intake fields', () => {
  it('takes in a complaint with its classification and shows it exactly as REST does', async () => {
    const answer = await gql(tenant.adminKey, CREATE, {
      input: complaintBody({
        responsibility: 'upstream',
        upstreamParty: 'Lift manufacturer',
        needType: 'immediate',
        liability: { finding: 'not_liable', reason: 'third_party', note: 'A contractor cut the power.' },
        subjectStaff: ['Zhao Lei'],
        incidentKey: 'lift-3-outage',
        complainantRelation: 'immediate_family',
      }),
    });
    expect(answer.errors).toEqual([]);
    const created = answer.data!.createComplaint;
    expect(created).toMatchObject({
      responsibility: 'upstream',
      upstreamParty: 'Lift manufacturer',
      needType: 'immediate',
      liability: { finding: 'not_liable', reason: 'third_party', note: 'A contractor cut the power.' },
      subjectStaff: ['Zhao Lei'],
      incidentKey: 'lift-3-outage',
      complainantRelation: 'immediate_family',
      complainantAuthorised: false,
      majorReasons: [],
      majorSince: null,
      rejection: null,
    });
    expect(created).toEqual(await restComplaint(tenant.adminKey, created.id));

    const byIncident = await gql(
      tenant.adminKey,
      '{ complaints(filter: { incidentKey: "lift-3-outage" }) { nodes { id } } }',
    );
    expect(byIncident.errors).toEqual([]);
    expect(byIncident.data!.complaints.nodes).toEqual([{ id: created.id }]);
  });

  it('edits the classification at a version, and refuses what REST refuses with the same codes', async () => {
    const created = (await gql(tenant.adminKey, CREATE, { input: complaintBody() })).data!.createComplaint;
    const UPDATE = `mutation ($id: ID!, $version: Int!, $input: ComplaintUpdateInput!) {
      updateComplaint(id: $id, version: $version, input: $input) { ${COMPLAINT_FIELDS} } }`;
    const updated = await gql(tenant.adminKey, UPDATE, {
      id: created.id,
      version: created.version,
      input: { liability: { finding: 'liable' }, needType: 'emotional', regulatorInvolved: true },
    });
    expect(updated.errors).toEqual([]);
    expect(updated.data!.updateComplaint).toMatchObject({
      liability: { finding: 'liable', reason: null, note: null },
      needType: 'emotional',
      regulatorInvolved: true,
      severity: 'major',
      majorReasons: ['regulator_involved'],
    });
    expect(updated.data!.updateComplaint).toEqual(await restComplaint(tenant.adminKey, created.id));

    const cleared = await gql(tenant.adminKey, UPDATE, {
      id: created.id,
      version: updated.data!.updateComplaint.version,
      input: { liability: null },
    });
    expect(cleared.errors).toEqual([]);
    expect(cleared.data!.updateComplaint.liability).toBeNull();

    const upstreamAlone = await gql(tenant.adminKey, CREATE, {
      input: complaintBody({ responsibility: 'upstream' }),
    });
    expect(upstreamAlone.errors[0]!.extensions).toMatchObject({ code: 'validation_failed', status: 400 });
    expect(upstreamAlone.errors[0]!.extensions.errors).toEqual([
      { field: 'input.upstreamParty', message: expect.any(String) },
    ]);
    const notLiableBare = await gql(tenant.adminKey, CREATE, {
      input: complaintBody({ liability: { finding: 'not_liable' } }),
    });
    expect(notLiableBare.errors[0]!.extensions.code).toBe('validation_failed');
    const badEnum = await gql(tenant.adminKey, CREATE, { input: complaintBody({ needType: 'urgent' }) });
    expect(badEnum.status).toBe(400);
    expect(badEnum.errors[0]!.extensions.code).toBe('graphql_validation_failed');
  });
});

describe('GraphQL acceptance override', () => {
  const OVERRIDE = `mutation ($id: ID!, $reason: String!, $supervisor: String!, $key: String) {
    overrideAcceptance(id: $id, reason: $reason, supervisor: $supervisor, idempotencyKey: $key) { ${COMPLAINT_FIELDS} } }`;

  it('takes in a complaint declined at intake, once, and replays a retry with the same key', async () => {
    const declined = (
      await gql(tenant.adminKey, CREATE, {
        input: complaintBody({ category: 'billing', occurredAt: daysAgo(200) }),
      })
    ).data!.createComplaint;
    expect(declined).toMatchObject({ status: 'rejected', rejection: { code: 'outside_acceptance_window' } });

    const variables = {
      id: declined.id,
      reason: 'The bill arrived late.',
      supervisor: 'Chen Jing',
      key: 'ov-1',
    };
    const first = await gql(tenant.adminKey, OVERRIDE, variables);
    expect(first.errors).toEqual([]);
    expect(first.data!.overrideAcceptance).toMatchObject({
      status: 'received',
      acceptanceOverride: {
        rejectionCode: 'outside_acceptance_window',
        reason: 'The bill arrived late.',
        supervisor: 'Chen Jing',
      },
    });
    expect(first.data!.overrideAcceptance).toEqual(await restComplaint(tenant.adminKey, declined.id));

    const retry = await gql(tenant.adminKey, OVERRIDE, variables);
    expect(retry.errors).toEqual([]);
    expect(retry.data!.overrideAcceptance).toEqual(first.data!.overrideAcceptance);
    const otherInput = await gql(tenant.adminKey, OVERRIDE, { ...variables, reason: 'Another reason' });
    expect(otherInput.errors[0]!.extensions).toMatchObject({ code: 'idempotency_key_reused', status: 422 });
    const withoutKey = await gql(tenant.adminKey, OVERRIDE, { ...variables, key: null });
    expect(withoutKey.errors[0]!.extensions).toMatchObject({ code: 'not_rejected_at_intake', status: 409 });

    const timeline = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url: `/v1/complaints/${declined.id}/timeline?limit=100`,
    });
    const overrides = timeline
      .json()
      .data.filter((entry: { type: string }) => entry.type === 'complaint.acceptance_overridden');
    expect(overrides).toHaveLength(1);
  });

  it('honours Idempotency-Key on the REST route, as its contract says', async () => {
    const declined = (
      await gql(tenant.adminKey, CREATE, {
        input: complaintBody({ complainantRelation: 'other' }),
      })
    ).data!.createComplaint;
    expect(declined.rejection.code).toBe('not_a_stakeholder');
    const send = () =>
      call(t.app, tenant.adminKey, {
        method: 'POST',
        url: `/v1/complaints/${declined.id}/acceptance-override`,
        headers: { 'idempotency-key': 'rest-ov-1' },
        json: { reason: 'Power of attorney shown.', supervisor: 'Chen Jing' },
      });
    const first = await send();
    expect(first.statusCode, first.body).toBe(200);
    const again = await send();
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
  });
});

describe('GraphQL ownership', () => {
  const HANDOVER = `mutation ($id: ID!, $to: String!, $reason: String!, $version: Int) {
    handOverComplaint(id: $id, to: $to, reason: $reason, version: $version) { ${COMPLAINT_FIELDS} } }`;
  const DECLARE = `mutation ($id: ID!, $staff: String!, $reason: String!, $handoverTo: String) {
    declareConflict(complaintId: $id, staff: $staff, reason: $reason, handoverTo: $handoverTo) {
      conflict { id complaintId staff reason declaredBy { type id name onBehalfOf } createdAt }
      complaint { id assignee version conflicts { id staff } }
    } }`;

  it('hands a complaint over at a version, and refuses the people it is about', async () => {
    const created = (
      await gql(tenant.adminKey, CREATE, {
        input: complaintBody({ receivedBy: 'Wu Min', subjectStaff: ['Zhao Lei'] }),
      })
    ).data!.createComplaint;
    expect(created.assignee).toBe('Wu Min');

    const stale = await gql(tenant.adminKey, HANDOVER, {
      id: created.id,
      to: 'Li Na',
      reason: 'Billing specialist',
      version: created.version + 5,
    });
    expect(stale.errors[0]!.extensions).toMatchObject({ code: 'precondition_failed', status: 412 });

    const handed = await gql(tenant.adminKey, HANDOVER, {
      id: created.id,
      to: 'Li Na',
      reason: 'Billing specialist',
      version: created.version,
    });
    expect(handed.errors).toEqual([]);
    expect(handed.data!.handOverComplaint.assignee).toBe('Li Na');
    expect(handed.data!.handOverComplaint).toEqual(await restComplaint(tenant.adminKey, created.id));

    const toSubject = await gql(tenant.adminKey, HANDOVER, { id: created.id, to: 'zhao lei', reason: 'x' });
    expect(toSubject.errors[0]!.extensions).toMatchObject({
      code: 'conflict_of_interest',
      status: 409,
      staff: 'zhao lei',
    });
    const toOwner = await gql(tenant.adminKey, HANDOVER, { id: created.id, to: 'Li Na', reason: 'x' });
    expect(toOwner.errors[0]!.extensions.code).toBe('already_owner');
  });

  it('declares a conflict of the owner only together with a handover, and lists it on the complaint', async () => {
    const created = (await gql(tenant.adminKey, CREATE, { input: complaintBody({ receivedBy: 'Sun Hao' }) }))
      .data!.createComplaint;
    const variables = { id: created.id, staff: 'Sun Hao', reason: 'The customer is his neighbour.' };

    const alone = await gql(tenant.adminKey, DECLARE, variables);
    expect(alone.errors[0]!.extensions).toMatchObject({ code: 'conflict_of_interest', status: 409 });
    expect(await rowCount('complaint_conflicts', created.id)).toBe(0);

    const declared = await gql(tenant.adminKey, DECLARE, { ...variables, handoverTo: 'Ma Li' });
    expect(declared.errors).toEqual([]);
    const { conflict, complaint } = declared.data!.declareConflict;
    expect(conflict).toMatchObject({
      complaintId: created.id,
      staff: 'Sun Hao',
      reason: 'The customer is his neighbour.',
      declaredBy: { type: 'api_key' },
    });
    expect(complaint).toMatchObject({
      assignee: 'Ma Li',
      conflicts: [{ id: conflict.id, staff: 'Sun Hao' }],
    });
    const rest = await call(t.app, tenant.adminKey, {
      method: 'GET',
      url: `/v1/complaints/${created.id}/conflicts`,
    });
    expect(rest.json().data).toEqual([conflict]);

    const twice = await gql(tenant.adminKey, DECLARE, { ...variables, handoverTo: 'Ma Li' });
    expect(twice.errors[0]!.extensions.code).toBe('conflict_already_declared');
    const back = await gql(tenant.adminKey, HANDOVER, { id: created.id, to: 'sun hao', reason: 'Back' });
    expect(back.errors[0]!.extensions).toMatchObject({
      code: 'conflict_of_interest',
      basis: 'declared_conflict',
    });
  });

  it('reads the conflicts of a page of complaints in one query, however long the page', async () => {
    const own = await createTestTenant(t.tenancy);
    for (let i = 0; i < 50; i += 1) {
      const created = (await gql(own.adminKey, CREATE, { input: complaintBody({ receivedBy: 'Owner' }) }))
        .data!.createComplaint;
      if (i % 2 === 0) {
        const declared = await gql(own.adminKey, DECLARE, {
          id: created.id,
          staff: `Staff ${i}`,
          reason: 'r',
        });
        expect(declared.errors).toEqual([]);
      }
    }
    const query = (first: number) => `{ complaints(first: ${first}) { nodes { id conflicts { staff } } } }`;
    await gql(own.adminKey, query(1));
    const counted = async (first: number) => {
      const queries = countQueries(t.database.pool);
      const answer = await gql(own.adminKey, query(first));
      queries.stop();
      expect(answer.errors).toEqual([]);
      const nodes = answer.data!.complaints.nodes as Array<{ conflicts: unknown[] }>;
      expect(nodes).toHaveLength(first);
      expect(nodes.filter((node) => node.conflicts.length === 1)).toHaveLength(first / 2);
      return queries.count;
    };
    const ten = await counted(10);
    const fifty = await counted(50);
    expect(fifty).toBe(ten);
    // The page, its next deadlines, the conflicts.
    expect(fifty).toBeLessThanOrEqual(3);
  });

  it('needs complaints:write, and answers another tenant’s complaint as not found, writing nothing', async () => {
    const created = (await gql(tenant.adminKey, CREATE, { input: complaintBody() })).data!.createComplaint;
    const reader = await tenant.keyWith('complaints:read');
    const refused = await gql(reader, HANDOVER, { id: created.id, to: 'Li Na', reason: 'x' });
    expect(refused.errors[0]!.extensions).toMatchObject({
      code: 'insufficient_scope',
      status: 403,
      requiredScope: 'complaints:write',
    });
    const other = await createTestTenant(t.tenancy);
    for (const [query, variables] of [
      [HANDOVER, { id: created.id, to: 'Li Na', reason: 'x' }],
      [DECLARE, { id: created.id, staff: 'Li Na', reason: 'x' }],
      [DECLARE, { id: created.reference, staff: 'Li Na', reason: 'x' }],
    ] as const) {
      const answer = await gql(other.adminKey, query, variables);
      expect(answer.errors[0]!.extensions).toMatchObject({ code: 'not_found', status: 404 });
    }
    expect(await rowCount('complaint_conflicts', created.id)).toBe(0);
    expect((await restComplaint(tenant.adminKey, created.id)).version).toBe(created.version);
    const unauthenticated = await gql(null, HANDOVER, { id: created.id, to: 'Li Na', reason: 'x' });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.errors[0]!.extensions.code).toBe('unauthenticated');
  });
});

describe('GraphQL major-complaint file', () => {
  const FILE = `query ($filter: MajorComplaintFilter, $first: Int, $after: String) {
    majorComplaints(filter: $filter, first: $first, after: $after) {
      edges { cursor node { id majorReasons } } nodes { id } pageInfo { hasNextPage endCursor }
    } }`;

  it('pages the major complaints as REST does, filtered by reason and status', async () => {
    const own = await createTestTenant(t.tenancy);
    const general = (await gql(own.adminKey, CREATE, { input: complaintBody() })).data!.createComplaint;
    const majors: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const created = await gql(own.adminKey, CREATE, { input: complaintBody({ mediaExposure: true }) });
      majors.unshift(created.data!.createComplaint.id);
    }
    const manual = (await gql(own.adminKey, CREATE, { input: complaintBody({ severity: 'major' }) })).data!
      .createComplaint;

    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await gql(own.adminKey, FILE, { filter: { reason: 'media_exposure' }, first: 2, after });
      expect(page.errors).toEqual([]);
      const connection = page.data!.majorComplaints;
      for (const edge of connection.edges) expect(edge.node.majorReasons).toContain('media_exposure');
      seen.push(...connection.nodes.map((node: { id: string }) => node.id));
      if (!connection.pageInfo.hasNextPage) break;
      expect(connection.pageInfo.endCursor).toBe(connection.edges.at(-1).cursor);
      after = connection.pageInfo.endCursor;
    }
    expect(seen).toEqual(majors);

    const rest = await call(t.app, own.adminKey, { method: 'GET', url: '/v1/major-complaints?limit=100' });
    const all = await gql(own.adminKey, FILE, { first: 100 });
    expect(all.data!.majorComplaints.nodes.map((node: { id: string }) => node.id)).toEqual(
      rest.json().data.map((complaint: { id: string }) => complaint.id),
    );
    expect(all.data!.majorComplaints.nodes.map((node: { id: string }) => node.id)).toContain(manual.id);
    expect(all.data!.majorComplaints.nodes.map((node: { id: string }) => node.id)).not.toContain(general.id);

    const closedOnly = await gql(own.adminKey, FILE, { filter: { status: ['closed'] } });
    expect(closedOnly.data!.majorComplaints.nodes).toEqual([]);
    const badCursor = await gql(own.adminKey, FILE, { after: 'not-a-cursor' });
    expect(badCursor.errors[0]!.extensions.code).toMatch(/^(invalid_cursor|validation_failed)$/);
    expect(badCursor.errors[0]!.extensions.status).toBe(400);

    const other = await createTestTenant(t.tenancy);
    const theirs = await gql(other.adminKey, FILE, { first: 100 });
    expect(theirs.data!.majorComplaints.nodes).toEqual([]);
    const noScope = await gql(await own.keyWith('reports:read'), FILE);
    expect(noScope.errors[0]!.extensions.code).toBe('insufficient_scope');
  });
});

describe('GraphQL writes that are safe to retry', () => {
  it('records a communication, a status change and an escalation once per idempotency key', async () => {
    const created = (await gql(tenant.adminKey, CREATE, { input: complaintBody() })).data!.createComplaint;
    const COMMUNICATE = `mutation ($id: ID!, $input: CommunicationInput!, $key: String) {
      recordCommunication(complaintId: $id, input: $input, idempotencyKey: $key) { id body template { id version } } }`;
    const contact = { direction: 'outbound', channel: 'phone', body: 'Called back.', contactMade: true };
    const first = await gql(tenant.adminKey, COMMUNICATE, { id: created.id, input: contact, key: 'comm-1' });
    expect(first.errors).toEqual([]);
    const again = await gql(tenant.adminKey, COMMUNICATE, { id: created.id, input: contact, key: 'comm-1' });
    expect(again.data!.recordCommunication).toEqual(first.data!.recordCommunication);
    expect(await rowCount('communications', created.id)).toBe(1);
    const reused = await gql(tenant.adminKey, COMMUNICATE, {
      id: created.id,
      input: { ...contact, body: 'Something else' },
      key: 'comm-1',
    });
    expect(reused.errors[0]!.extensions).toMatchObject({ code: 'idempotency_key_reused', status: 422 });

    const TRANSITION = `mutation ($id: ID!, $key: String) {
      transitionComplaint(id: $id, to: acknowledged, idempotencyKey: $key) { status version } }`;
    const moved = await gql(tenant.adminKey, TRANSITION, { id: created.id, key: 'move-1' });
    expect(moved.errors).toEqual([]);
    const movedAgain = await gql(tenant.adminKey, TRANSITION, { id: created.id, key: 'move-1' });
    expect(movedAgain.errors).toEqual([]);
    expect(movedAgain.data!.transitionComplaint).toEqual(moved.data!.transitionComplaint);
    const movedWithoutKey = await gql(tenant.adminKey, TRANSITION, { id: created.id });
    expect(movedWithoutKey.errors[0]!.extensions.code).toBe('invalid_transition');

    const ESCALATE = `mutation ($id: ID!, $key: String) {
      escalateComplaint(complaintId: $id, level: 1, reason: "Customer called three times", idempotencyKey: $key) { id level } }`;
    const escalated = await gql(tenant.adminKey, ESCALATE, { id: created.id, key: 'esc-1' });
    expect(escalated.errors).toEqual([]);
    const escalatedAgain = await gql(tenant.adminKey, ESCALATE, { id: created.id, key: 'esc-1' });
    expect(escalatedAgain.data!.escalateComplaint).toEqual(escalated.data!.escalateComplaint);
    expect(await rowCount('escalations', created.id)).toBe(1);

    const badKey = await gql(tenant.adminKey, ESCALATE, { id: created.id, key: 'has space' });
    expect(badKey.errors[0]!.extensions.errors).toEqual([
      { field: 'idempotencyKey', message: 'must be 1 to 255 visible ASCII characters' },
    ]);
  });

  it('recovers a communication whose first attempt committed but died before answering', async () => {
    const created = (await gql(tenant.adminKey, CREATE, { input: complaintBody() })).data!.createComplaint;
    const COMMUNICATE = `mutation ($id: ID!, $input: CommunicationInput!, $key: String) {
      recordCommunication(complaintId: $id, input: $input, idempotencyKey: $key) {
        id complaintId direction channel body contactMade occurredAt createdAt } }`;
    const contact = { direction: 'inbound', channel: 'phone', body: 'Customer called.', contactMade: true };
    const variables = { id: created.id, input: contact, key: `comm-crash-${created.id}` };
    const first = await gql(tenant.adminKey, COMMUNICATE, variables);
    expect(first.errors).toEqual([]);
    // As the first attempt leaves the key when it dies between its commit and its answer.
    await t.database.pool.query(
      `update idempotency_keys set state = 'in_progress', response_status = null, response_body = null,
         locked_until = now() - interval '1 second' where tenant_id = $1 and key = $2`,
      [tenant.tenantId, variables.key],
    );
    const retry = await gql(tenant.adminKey, COMMUNICATE, variables);
    expect(retry.errors).toEqual([]);
    expect(retry.data!.recordCommunication).toEqual(first.data!.recordCommunication);
    expect(await rowCount('communications', created.id)).toBe(1);
    const { rows } = await t.database.pool.query(
      'select state, resource_id from idempotency_keys where tenant_id = $1 and key = $2',
      [tenant.tenantId, variables.key],
    );
    expect(rows[0]).toEqual({ state: 'completed', resource_id: first.data!.recordCommunication.id });
    const replay = await gql(tenant.adminKey, COMMUNICATE, variables);
    expect(replay.data!.recordCommunication).toEqual(first.data!.recordCommunication);
    expect(await rowCount('communications', created.id)).toBe(1);
  });

  it('sends a reply template rendered for the complaint and records the version it used', async () => {
    const created = (await gql(tenant.adminKey, CREATE, { input: complaintBody() })).data!.createComplaint;
    const template = await call(t.app, tenant.adminKey, {
      method: 'POST',
      url: '/v1/reply-templates',
      json: {
        key: 'gql_callback',
        locale: 'en',
        name: 'Callback',
        body: 'Dear {{customer.name}}, about {{reference}}.',
      },
    });
    expect(template.statusCode, template.body).toBe(201);
    const answer = await gql(
      tenant.adminKey,
      `mutation ($id: ID!, $input: CommunicationInput!) {
        recordCommunication(complaintId: $id, input: $input) { body template { id version } } }`,
      {
        id: created.id,
        input: {
          direction: 'outbound',
          channel: 'email',
          templateId: template.json().id,
          body: null,
          contactMade: true,
        },
      },
    );
    expect(answer.errors).toEqual([]);
    expect(answer.data!.recordCommunication).toEqual({
      body: `Dear Wang Fang, about ${created.reference}.`,
      template: { id: template.json().id, version: 1 },
    });
    const neither = await gql(
      tenant.adminKey,
      `mutation ($id: ID!) { recordCommunication(complaintId: $id, input: { direction: outbound, channel: email, contactMade: true }) { id } }`,
      { id: created.id },
    );
    expect(neither.errors[0]!.extensions.errors).toEqual([
      { field: 'input.body', message: 'is required unless templateId is given' },
    ]);
  });
});
