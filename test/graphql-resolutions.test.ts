import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countQueries, type GraphqlAnswer, postGraphql } from './graphql-client.js';
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

const get = (key: string, url: string) => call(t.app, key, { method: 'GET', url });

// Every field of the REST view, so an answer can be compared with REST's JSON as a whole.
const RESOLUTION_FIELDS = /* GraphQL */ `
  id complaintId status proposedBy { name role } note
  options { id kind description amount currency approval decidedBy { name role } decidedAt decisionNote }
  chosenOptionId choiceNote choiceRecordedAt executedAt executedBy
  notice { measures reasons followUpPlan communicationId }
  actor { type id name onBehalfOf } createdAt updatedAt
`;
const PRE_REFUND_FIELDS = /* GraphQL */ `
  id complaintId amount currency refundedBy { name role } refundedAt paymentReference note status
  deadlineId verifiedAt verifiedBy { name role } verificationNote actor { type id name onBehalfOf } createdAt
`;

const PROPOSE = `mutation ($c: ID!, $input: ResolutionInput!, $key: String) {
  proposeResolution(complaintId: $c, input: $input, idempotencyKey: $key) { ${RESOLUTION_FIELDS} }
}`;
const APPROVE = `mutation ($c: ID!, $r: ID!, $input: ResolutionApprovalInput!) {
  approveResolution(complaintId: $c, resolutionId: $r, input: $input) { ${RESOLUTION_FIELDS} }
}`;
const REJECT = `mutation ($c: ID!, $r: ID!, $input: ResolutionRejectionInput!) {
  rejectResolution(complaintId: $c, resolutionId: $r, input: $input) { ${RESOLUTION_FIELDS} }
}`;
const CHOOSE = `mutation ($c: ID!, $r: ID!, $input: ResolutionChoiceInput!) {
  recordResolutionChoice(complaintId: $c, resolutionId: $r, input: $input) { ${RESOLUTION_FIELDS} }
}`;
const EXECUTE = `mutation ($c: ID!, $r: ID!, $input: ResolutionExecutionInput!) {
  executeResolution(complaintId: $c, resolutionId: $r, input: $input) { ${RESOLUTION_FIELDS} }
}`;
const ISSUE = `mutation ($c: ID!, $input: PreRefundInput!, $key: String) {
  issuePreRefund(complaintId: $c, input: $input, idempotencyKey: $key) { ${PRE_REFUND_FIELDS} }
}`;
const VERIFY = `mutation ($c: ID!, $p: ID!, $input: PreRefundVerificationInput!) {
  verifyPreRefund(complaintId: $c, preRefundId: $p, input: $input) { ${PRE_REFUND_FIELDS} }
}`;
const RESOLUTION = `query ($c: ID!, $id: ID!) { resolution(complaintId: $c, id: $id) { ${RESOLUTION_FIELDS} } }`;

const handler = { name: 'Zhang Wei', role: 'handler' };
const lead = { name: 'Li Na', role: 'team_lead' };
const manager = { name: 'Chen Jie', role: 'department_manager' };
const notice = {
  channel: 'phone',
  measures: 'Refunded the service fee',
  reasons: 'The lift was out of service for 30 minutes',
  followUpPlan: 'We will call you within 24 hours',
  body: 'Dear Wang Fang, we have refunded the fee and will call you tomorrow.',
};
const threeOptions = {
  proposedBy: handler,
  note: 'Offered on the phone',
  options: [
    { kind: 'apology', description: 'A written apology' },
    // Above a handler's limit (500 CNY), within a team lead's.
    { kind: 'compensation', description: 'Compensation for lost time', amount: 800, currency: 'CNY' },
    { kind: 'refund', description: 'Refund of the service fee', amount: 120.5, currency: 'CNY' },
  ],
};

/** A complaint of `key`'s tenant taken in and moved to investigating over REST. */
async function investigating(key = tenant.adminKey) {
  const res = await call(t.app, key, {
    method: 'POST',
    url: '/v1/complaints',
    json: complaintBody({ channel: 'phone' }),
  });
  expect(res.statusCode, res.body).toBe(201);
  const complaint = res.json();
  for (const to of ['acknowledged', 'investigating']) {
    const moved = await call(t.app, key, {
      method: 'POST',
      url: `/v1/complaints/${complaint.id}/transitions`,
      json: { to },
    });
    expect(moved.statusCode, moved.body).toBe(200);
  }
  return complaint as { id: string; reference: string };
}

/** How many resolutions and pre-refunds a complaint has in the database, whoever asks. */
async function rowsOf(complaintId: string) {
  const { rows } = await t.database.pool.query(
    `select (select count(*) from resolutions where complaint_id = $1)::int as resolutions,
            (select count(*) from pre_refunds where complaint_id = $1)::int as "preRefunds"`,
    [complaintId],
  );
  return rows[0] as { resolutions: number; preRefunds: number };
}

describe('GraphQL resolutions', () => {
  it('proposes, approves above the limit, records the choice and executes to resolved, as REST shows it', async () => {
    const complaint = await investigating();
    const proposed = await gql(tenant.adminKey, PROPOSE, { c: complaint.reference, input: threeOptions });
    expect(proposed.errors).toEqual([]);
    const resolution = proposed.data.proposeResolution;
    expect(resolution).toMatchObject({
      complaintId: complaint.id,
      status: 'awaiting_approval',
      proposedBy: handler,
      note: 'Offered on the phone',
      chosenOptionId: null,
      notice: null,
      actor: { type: 'api_key', onBehalfOf: null },
    });
    expect(resolution.options.map((o: { approval: string }) => o.approval)).toEqual([
      'not_required',
      'pending',
      'not_required',
    ]);
    expect(resolution.options[2]).toMatchObject({ kind: 'refund', amount: 120.5, currency: 'CNY' });
    const [, compensation, refund] = resolution.options;
    const ids = { c: complaint.id, r: resolution.id };

    // Nothing is executed or chosen before approval.
    const early = await gql(tenant.adminKey, EXECUTE, { ...ids, input: { notice } });
    expect(early.status).toBe(409);
    expect(early.errors[0]!.extensions).toMatchObject({
      code: 'resolution_awaiting_approval',
      status: 409,
      currentStatus: 'awaiting_approval',
    });
    const pendingChoice = await gql(tenant.adminKey, CHOOSE, {
      ...ids,
      input: { optionId: compensation.id },
    });
    expect(pendingChoice.errors[0]!.extensions).toMatchObject({
      code: 'option_awaiting_approval',
      optionId: compensation.id,
    });

    // A handler's limit does not cover 800 CNY; the proposer may not approve whatever role they claim.
    const byHandler = await gql(tenant.adminKey, APPROVE, {
      ...ids,
      input: { approver: { name: 'Other Handler', role: 'handler' } },
    });
    expect(byHandler.status).toBe(422);
    expect(byHandler.errors[0]!.extensions).toMatchObject({
      code: 'approver_not_authorised',
      status: 422,
      role: 'handler',
      optionId: compensation.id,
      amount: 800,
    });
    const self = await gql(tenant.adminKey, APPROVE, {
      ...ids,
      input: { approver: { name: 'zhang wei', role: 'team_lead' } },
    });
    expect(self.errors[0]!.extensions).toMatchObject({ code: 'approver_is_proposer', status: 422 });
    const stillPending = await gql(tenant.adminKey, RESOLUTION, { c: complaint.id, id: resolution.id });
    expect(stillPending.data.resolution).toEqual(resolution);

    const approved = await gql(tenant.adminKey, APPROVE, {
      ...ids,
      input: { approver: lead, note: 'Fair', optionIds: null },
    });
    expect(approved.errors).toEqual([]);
    expect(approved.data.approveResolution.status).toBe('proposed');
    expect(approved.data.approveResolution.options[1]).toMatchObject({
      id: compensation.id,
      approval: 'approved',
      decidedBy: lead,
      decisionNote: 'Fair',
      decidedAt: expect.any(String),
    });

    const chosen = await gql(tenant.adminKey, CHOOSE, {
      ...ids,
      input: { optionId: refund.id, note: 'Prefers the refund' },
    });
    expect(chosen.errors).toEqual([]);
    expect(chosen.data.recordResolutionChoice).toMatchObject({
      status: 'chosen',
      chosenOptionId: refund.id,
      choiceNote: 'Prefers the refund',
      choiceRecordedAt: expect.any(String),
    });

    // The acting person (X-On-Behalf-Of) carries it out when executedBy is left out, as on REST.
    const executed = await gql(
      tenant.adminKey,
      EXECUTE,
      { ...ids, input: { notice, followUp: { sensitive: false } } },
      { 'x-on-behalf-of': 'Agent Li' },
    );
    expect(executed.errors).toEqual([]);
    const result = executed.data.executeResolution;
    expect(result).toMatchObject({
      status: 'executed',
      executedBy: 'Agent Li',
      executedAt: expect.any(String),
      notice: {
        measures: notice.measures,
        reasons: notice.reasons,
        followUpPlan: notice.followUpPlan,
        communicationId: expect.any(String),
      },
    });

    const rest = await get(tenant.adminKey, `/v1/complaints/${complaint.id}/resolutions/${resolution.id}`);
    expect(rest.statusCode).toBe(200);
    expect(result).toEqual(rest.json());
    const read = await gql(tenant.adminKey, RESOLUTION, { c: complaint.reference, id: resolution.id });
    expect(read.data.resolution).toEqual(rest.json());

    const after = await gql(
      tenant.adminKey,
      `query ($id: ID!) { complaint(id: $id) { status resolutions { ${RESOLUTION_FIELDS} } deadlines { kind status } } }`,
      { id: complaint.id },
    );
    expect(after.errors).toEqual([]);
    expect(after.data.complaint.status).toBe('resolved');
    expect(after.data.complaint.resolutions).toEqual(
      (await get(tenant.adminKey, `/v1/complaints/${complaint.id}/resolutions`)).json().data,
    );
    expect(after.data.complaint.resolutions).toHaveLength(1);
    expect(after.data.complaint.deadlines).toContainEqual({ kind: 'resolution', status: 'met' });
    const timeline = (await get(tenant.adminKey, `/v1/complaints/${complaint.id}/timeline?limit=100`)).json()
      .data;
    const communication = timeline.find(
      (e: { type: string; data: { communicationId?: string } }) =>
        e.type === 'communication.recorded' && e.data.communicationId === result.notice.communicationId,
    );
    expect(communication.data).toMatchObject({ direction: 'outbound', body: notice.body });

    const again = await gql(tenant.adminKey, EXECUTE, { ...ids, input: { notice } });
    expect(again.errors[0]!.extensions).toMatchObject({ code: 'resolution_closed', status: 409 });
  });

  it('rejects by an approver whose limit covers the option, and ends a proposal the customer declines', async () => {
    const complaint = await investigating();
    const big = await gql(tenant.adminKey, PROPOSE, {
      c: complaint.id,
      input: {
        proposedBy: handler,
        options: [{ kind: 'compensation', description: 'Large', amount: 20_000, currency: 'CNY' }],
      },
    });
    expect(big.errors).toEqual([]);
    const ids = { c: complaint.id, r: big.data.proposeResolution.id };
    const byLead = await gql(tenant.adminKey, REJECT, {
      ...ids,
      input: { approver: lead, reason: 'Too much' },
    });
    expect(byLead.errors[0]!.extensions).toMatchObject({
      code: 'approver_not_authorised',
      role: 'team_lead',
      amount: 20_000,
    });
    const rejected = await gql(tenant.adminKey, REJECT, {
      ...ids,
      input: { approver: manager, reason: 'Too much' },
    });
    expect(rejected.errors).toEqual([]);
    expect(rejected.data.rejectResolution).toMatchObject({
      status: 'rejected',
      options: [{ approval: 'rejected', decidedBy: manager, decisionNote: 'Too much' }],
    });
    const late = await gql(tenant.adminKey, APPROVE, { ...ids, input: { approver: manager } });
    expect(late.errors[0]!.extensions).toMatchObject({
      code: 'resolution_not_awaiting_approval',
      currentStatus: 'rejected',
    });

    const second = await gql(tenant.adminKey, PROPOSE, {
      c: complaint.id,
      input: { proposedBy: handler, options: [{ kind: 'apology', description: 'Sorry' }] },
    });
    expect(second.data.proposeResolution.status).toBe('proposed');
    const busy = await gql(tenant.adminKey, PROPOSE, {
      c: complaint.id,
      input: { proposedBy: handler, options: [{ kind: 'apology', description: 'Again' }] },
    });
    expect(busy.errors[0]!.extensions).toMatchObject({
      code: 'resolution_already_open',
      status: 409,
      resolutionId: second.data.proposeResolution.id,
    });
    const declined = await gql(tenant.adminKey, CHOOSE, {
      c: complaint.id,
      r: second.data.proposeResolution.id,
      input: { declined: true, note: 'Wants more' },
    });
    expect(declined.data.recordResolutionChoice).toMatchObject({
      status: 'declined',
      chosenOptionId: null,
      choiceNote: 'Wants more',
    });
    const listed = await gql(
      tenant.adminKey,
      'query ($id: ID!) { complaint(id: $id) { status resolutions { id status } } }',
      { id: complaint.id },
    );
    expect(listed.data.complaint).toEqual({
      status: 'investigating',
      resolutions: [
        { id: ids.r, status: 'rejected' },
        { id: second.data.proposeResolution.id, status: 'declined' },
      ],
    });
  });
});

describe('GraphQL pre-refunds', () => {
  it('issues a pre-refund with its verification deadline and verifies it, meeting the deadline', async () => {
    const complaint = await investigating();
    const issued = await gql(tenant.adminKey, ISSUE, {
      c: complaint.id,
      input: { amount: 199, currency: 'CNY', refundedBy: handler, paymentReference: 'PAY-001', note: null },
    });
    expect(issued.errors).toEqual([]);
    const preRefund = issued.data.issuePreRefund;
    expect(preRefund).toMatchObject({
      complaintId: complaint.id,
      amount: 199,
      currency: 'CNY',
      refundedBy: handler,
      paymentReference: 'PAY-001',
      note: null,
      status: 'awaiting_verification',
      verifiedAt: null,
    });
    expect((await get(tenant.adminKey, `/v1/complaints/${complaint.id}/pre-refunds`)).json().data).toEqual([
      preRefund,
    ]);

    const over = await gql(tenant.adminKey, ISSUE, {
      c: complaint.id,
      input: { amount: 501, currency: 'CNY', refundedBy: handler },
    });
    expect(over.errors[0]!.extensions).toMatchObject({
      code: 'pre_refund_over_limit',
      status: 422,
      role: 'handler',
    });

    const verified = await gql(tenant.adminKey, VERIFY, {
      c: complaint.reference,
      p: preRefund.id,
      input: { outcome: 'confirmed', verifiedBy: lead, note: 'Order records match' },
    });
    expect(verified.errors).toEqual([]);
    expect(verified.data.verifyPreRefund).toMatchObject({
      id: preRefund.id,
      status: 'confirmed',
      verifiedBy: lead,
      verificationNote: 'Order records match',
      verifiedAt: expect.any(String),
    });
    const twice = await gql(tenant.adminKey, VERIFY, {
      c: complaint.id,
      p: preRefund.id,
      input: { outcome: 'disputed', verifiedBy: lead },
    });
    expect(twice.errors[0]!.extensions).toMatchObject({
      code: 'pre_refund_already_verified',
      status: 409,
      currentStatus: 'confirmed',
    });

    const read = await gql(
      tenant.adminKey,
      `query ($id: ID!) { complaint(id: $id) { preRefunds { ${PRE_REFUND_FIELDS} } deadlines { id kind status } } }`,
      { id: complaint.id },
    );
    expect(read.errors).toEqual([]);
    expect(read.data.complaint.preRefunds).toEqual(
      (await get(tenant.adminKey, `/v1/complaints/${complaint.id}/pre-refunds`)).json().data,
    );
    expect(read.data.complaint.preRefunds).toEqual([verified.data.verifyPreRefund]);
    expect(read.data.complaint.deadlines).toContainEqual({
      id: preRefund.deadlineId,
      kind: 'pre_refund_verification',
      status: 'met',
    });
  });
});

describe('GraphQL resolution idempotency', () => {
  it('replays a proposal with the same key and refuses the key with another input or complaint', async () => {
    const complaint = await investigating();
    const input = { proposedBy: handler, options: [{ kind: 'apology', description: 'Sorry' }] };
    const first = await gql(tenant.adminKey, PROPOSE, { c: complaint.id, input, key: 'gql-res-1' });
    expect(first.errors).toEqual([]);
    // Without the key this would be resolution_already_open: the replay is the first answer.
    const again = await gql(tenant.adminKey, PROPOSE, { c: complaint.id, input, key: 'gql-res-1' });
    expect(again.errors).toEqual([]);
    expect(again.data.proposeResolution).toEqual(first.data.proposeResolution);
    expect((await rowsOf(complaint.id)).resolutions).toBe(1);

    const other = await gql(tenant.adminKey, PROPOSE, {
      c: complaint.id,
      input: { ...input, note: 'Different' },
      key: 'gql-res-1',
    });
    expect(other.status).toBe(422);
    expect(other.errors[0]!.extensions).toMatchObject({ code: 'idempotency_key_reused', status: 422 });
    const elsewhere = await investigating();
    const otherComplaint = await gql(tenant.adminKey, PROPOSE, { c: elsewhere.id, input, key: 'gql-res-1' });
    expect(otherComplaint.errors[0]!.extensions.code).toBe('idempotency_key_reused');
    expect((await rowsOf(elsewhere.id)).resolutions).toBe(0);
  });

  it('replays a pre-refund with the same key, once, and keeps the keys of the two mutations apart', async () => {
    const complaint = await investigating();
    const input = { amount: 50, currency: 'CNY', refundedBy: handler };
    const first = await gql(tenant.adminKey, ISSUE, { c: complaint.id, input, key: 'gql-pre-1' });
    expect(first.errors).toEqual([]);
    const again = await gql(tenant.adminKey, ISSUE, { c: complaint.id, input, key: 'gql-pre-1' });
    expect(again.data.issuePreRefund).toEqual(first.data.issuePreRefund);
    expect((await rowsOf(complaint.id)).preRefunds).toBe(1);
    const other = await gql(tenant.adminKey, ISSUE, {
      c: complaint.id,
      input: { ...input, amount: 60 },
      key: 'gql-pre-1',
    });
    expect(other.errors[0]!.extensions).toMatchObject({ code: 'idempotency_key_reused', status: 422 });
    const asProposal = await gql(tenant.adminKey, PROPOSE, {
      c: complaint.id,
      input: { proposedBy: handler, options: [{ kind: 'apology', description: 'Sorry' }] },
      key: 'gql-pre-1',
    });
    expect(asProposal.errors[0]!.extensions.code).toBe('idempotency_key_reused');

    // A refusal is the first answer too, and a refused input never claims the key.
    const overInput = { amount: 501, currency: 'CNY', refundedBy: handler };
    const refused = await gql(tenant.adminKey, ISSUE, {
      c: complaint.id,
      input: overInput,
      key: 'gql-pre-2',
    });
    const refusedAgain = await gql(tenant.adminKey, ISSUE, {
      c: complaint.id,
      input: overInput,
      key: 'gql-pre-2',
    });
    expect(refused.errors[0]!.extensions.code).toBe('pre_refund_over_limit');
    expect(refusedAgain.errors[0]!.extensions).toEqual(refused.errors[0]!.extensions);
    const invalid = await gql(tenant.adminKey, ISSUE, {
      c: complaint.id,
      input: { ...input, currency: 'cny' },
      key: 'gql-pre-3',
    });
    expect(invalid.errors[0]!.extensions.code).toBe('validation_failed');
    const valid = await gql(tenant.adminKey, ISSUE, { c: complaint.id, input, key: 'gql-pre-3' });
    expect(valid.errors).toEqual([]);
    expect((await rowsOf(complaint.id)).preRefunds).toBe(2);
  });

  it('recovers a proposal and a pre-refund whose first attempt committed but died before answering', async () => {
    const complaint = await investigating();
    const cases = [
      {
        mutation: PROPOSE,
        field: 'proposeResolution',
        input: { proposedBy: handler, options: [{ kind: 'apology', description: 'Sorry' }] },
        rows: 'resolutions' as const,
      },
      {
        mutation: ISSUE,
        field: 'issuePreRefund',
        input: { amount: 50, currency: 'CNY', refundedBy: handler },
        rows: 'preRefunds' as const,
      },
    ];
    for (const { mutation, field, input, rows } of cases) {
      const variables = { c: complaint.id, input, key: `gql-crash-${field}-${complaint.id}` };
      const first = await gql(tenant.adminKey, mutation, variables);
      expect(first.errors).toEqual([]);
      // As the first attempt leaves the key when it dies between its commit and its answer.
      await t.database.pool.query(
        `update idempotency_keys set state = 'in_progress', response_status = null, response_body = null,
           locked_until = now() - interval '1 second' where tenant_id = $1 and key = $2`,
        [tenant.tenantId, variables.key],
      );
      const retry = await gql(tenant.adminKey, mutation, variables);
      expect(retry.errors).toEqual([]);
      expect(retry.data[field]).toEqual(first.data[field]);
      expect((await rowsOf(complaint.id))[rows]).toBe(1);
      const { rows: keys } = await t.database.pool.query(
        'select state from idempotency_keys where tenant_id = $1 and key = $2',
        [tenant.tenantId, variables.key],
      );
      expect(keys[0].state).toBe('completed');
      const replay = await gql(tenant.adminKey, mutation, variables);
      expect(replay.data[field]).toEqual(first.data[field]);
      expect((await rowsOf(complaint.id))[rows]).toBe(1);
    }
  });
});

describe('GraphQL resolution input', () => {
  it('refuses bad input with validation_failed naming each field', async () => {
    const complaint = await investigating();
    const fieldsOf = (answer: GraphqlAnswer) =>
      (answer.errors[0]!.extensions.errors as Array<{ field: string }>).map((e) => e.field).sort();

    const bad = await gql(tenant.adminKey, PROPOSE, {
      c: complaint.id,
      input: {
        proposedBy: { name: '  ', role: 'handler' },
        options: [
          { kind: 'refund', description: 'No amount' },
          { kind: 'apology', description: 'x', amount: 5, currency: 'CNY' },
          { kind: 'refund', description: 'x', amount: 5.001, currency: 'CNY' },
        ],
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.errors[0]!.extensions).toMatchObject({ code: 'validation_failed', status: 400 });
    expect(fieldsOf(bad)).toEqual([
      'input.options.0.amount',
      'input.options.1.amount',
      'input.options.2.amount',
      'input.proposedBy.name',
    ]);
    const none = await gql(tenant.adminKey, PROPOSE, {
      c: complaint.id,
      input: { proposedBy: handler, options: [] },
    });
    expect(fieldsOf(none)).toEqual(['input.options']);
    const badKey = await gql(tenant.adminKey, PROPOSE, {
      c: 'not a complaint',
      input: { proposedBy: handler, options: [{ kind: 'apology', description: 'x' }] },
    });
    expect(fieldsOf(badKey)).toEqual(['args.complaintId']);
    const badIdempotencyKey = await gql(tenant.adminKey, PROPOSE, {
      c: complaint.id,
      input: { proposedBy: handler, options: [{ kind: 'apology', description: 'x' }] },
      key: 'with spaces',
    });
    expect(fieldsOf(badIdempotencyKey)).toEqual(['idempotencyKey']);

    const proposed = await gql(tenant.adminKey, PROPOSE, {
      c: complaint.id,
      input: { proposedBy: handler, options: [{ kind: 'repair', description: 'Fix the lift' }] },
    });
    const ids = { c: complaint.id, r: proposed.data.proposeResolution.id };
    const both = await gql(tenant.adminKey, CHOOSE, {
      ...ids,
      input: { optionId: proposed.data.proposeResolution.options[0].id, declined: true },
    });
    expect(both.errors[0]!.extensions.errors).toEqual([
      { field: 'input', message: 'give exactly one of optionId and declined' },
    ]);
    const notAnOption = await gql(tenant.adminKey, CHOOSE, {
      ...ids,
      input: { optionId: '00000000-0000-4000-8000-000000000000' },
    });
    expect(fieldsOf(notAnOption)).toEqual(['input.optionId']);
    const badResolution = await gql(tenant.adminKey, CHOOSE, {
      c: complaint.id,
      r: 'nope',
      input: { declined: true },
    });
    expect(fieldsOf(badResolution)).toEqual(['args.resolutionId']);
    const noText = await gql(tenant.adminKey, EXECUTE, {
      ...ids,
      input: { notice: { ...notice, body: null } },
    });
    expect(noText.errors[0]!.extensions.errors).toEqual([
      { field: 'input.notice.body', message: 'give the notice body or a templateId' },
    ]);
    const future = await gql(tenant.adminKey, ISSUE, {
      c: complaint.id,
      input: { amount: 10, currency: 'CNY', refundedBy: handler, refundedAt: '2999-01-01T00:00:00Z' },
    });
    expect(future.errors[0]!.extensions.errors).toEqual([
      { field: 'input.refundedAt', message: 'must not be in the future' },
    ]);
    const badPreRefund = await gql(tenant.adminKey, VERIFY, {
      c: complaint.id,
      p: 'nope',
      input: { outcome: 'confirmed', verifiedBy: lead },
    });
    expect(fieldsOf(badPreRefund)).toEqual(['args.preRefundId']);
    // Nothing refused was written.
    expect(await rowsOf(complaint.id)).toEqual({ resolutions: 1, preRefunds: 0 });
  });
});

describe('GraphQL resolution security', () => {
  it('needs a key, and complaints:write to write and complaints:read to read', async () => {
    const complaint = await investigating();
    const input = { proposedBy: handler, options: [{ kind: 'apology', description: 'x' }] };
    const anonymous = await gql(null, PROPOSE, { c: complaint.id, input });
    expect(anonymous.status).toBe(401);
    expect(anonymous.errors[0]!.extensions).toMatchObject({ code: 'unauthenticated', status: 401 });

    const reader = await tenant.keyWith('complaints:read');
    const proposal = await gql(reader, PROPOSE, { c: complaint.id, input });
    expect(proposal.status).toBe(403);
    expect(proposal.errors[0]!.extensions).toMatchObject({
      code: 'insufficient_scope',
      status: 403,
      requiredScope: 'complaints:write',
    });
    const preRefund = await gql(reader, ISSUE, {
      c: complaint.id,
      input: { amount: 1, currency: 'CNY', refundedBy: handler },
    });
    expect(preRefund.errors[0]!.extensions).toMatchObject({
      code: 'insufficient_scope',
      requiredScope: 'complaints:write',
    });
    expect(await rowsOf(complaint.id)).toEqual({ resolutions: 0, preRefunds: 0 });

    const proposed = await gql(tenant.adminKey, PROPOSE, { c: complaint.id, input });
    const resolutionId = proposed.data.proposeResolution.id;
    const choice = await gql(reader, CHOOSE, { c: complaint.id, r: resolutionId, input: { declined: true } });
    expect(choice.errors[0]!.extensions.code).toBe('insufficient_scope');
    const readable = await gql(reader, RESOLUTION, { c: complaint.id, id: resolutionId });
    expect(readable.data.resolution).toEqual(proposed.data.proposeResolution);

    const policies = await tenant.keyWith('policies:manage');
    const unreadable = await gql(policies, RESOLUTION, { c: complaint.id, id: resolutionId });
    expect(unreadable.errors[0]!.extensions).toMatchObject({
      code: 'insufficient_scope',
      requiredScope: 'complaints:read',
    });
    // A writer sees what it wrote; its nested lists need complaints:read, as REST's GETs do.
    const writer = await tenant.keyWith('complaints:write');
    const nested = await gql(
      writer,
      'mutation ($c: ID!) { transitionComplaint(id: $c, to: awaiting_customer) { status resolutions { id } } }',
      { c: complaint.id },
    );
    expect(nested.errors[0]).toMatchObject({
      path: ['transitionComplaint', 'resolutions'],
      extensions: { code: 'insufficient_scope', requiredScope: 'complaints:read' },
    });
  });

  it("answers another tenant's complaint, resolution and pre-refund as not_found, writing nothing", async () => {
    const other = await createTestTenant(t.tenancy);
    const theirs = await investigating(other.adminKey);
    const proposed = await gql(other.adminKey, PROPOSE, { c: theirs.id, input: threeOptions });
    const theirResolution = proposed.data.proposeResolution;
    const issued = await gql(other.adminKey, ISSUE, {
      c: theirs.id,
      input: { amount: 10, currency: 'CNY', refundedBy: handler },
    });
    const theirPreRefund = issued.data.issuePreRefund;
    const before = await rowsOf(theirs.id);
    expect(before).toEqual({ resolutions: 1, preRefunds: 1 });

    const read = await gql(tenant.adminKey, RESOLUTION, { c: theirs.id, id: theirResolution.id });
    expect(read.data).toEqual({ resolution: null });
    expect(read.errors[0]!.extensions).toEqual({ code: 'not_found', status: 404 });
    expect(read.errors[0]!.message).toBe(`Complaint '${theirs.id}' not found.`);
    const byReference = await gql(tenant.adminKey, RESOLUTION, {
      c: theirs.reference,
      id: theirResolution.id,
    });
    expect(byReference.errors[0]!.extensions.code).toBe('not_found');

    const ids = { c: theirs.id, r: theirResolution.id };
    const writes = [
      await gql(tenant.adminKey, PROPOSE, {
        c: theirs.id,
        input: { proposedBy: handler, options: [{ kind: 'apology', description: 'x' }] },
        key: 'gql-foreign-1',
      }),
      await gql(tenant.adminKey, APPROVE, { ...ids, input: { approver: lead } }),
      await gql(tenant.adminKey, REJECT, { ...ids, input: { approver: lead, reason: 'No' } }),
      await gql(tenant.adminKey, CHOOSE, { ...ids, input: { declined: true } }),
      await gql(tenant.adminKey, EXECUTE, { ...ids, input: { notice } }),
      await gql(tenant.adminKey, ISSUE, {
        c: theirs.id,
        input: { amount: 10, currency: 'CNY', refundedBy: handler },
      }),
      await gql(tenant.adminKey, VERIFY, {
        c: theirs.id,
        p: theirPreRefund.id,
        input: { outcome: 'disputed', verifiedBy: lead },
      }),
    ];
    for (const answer of writes) {
      expect(answer.status).toBe(404);
      expect(answer.data).toBeNull();
      expect(answer.errors[0]!.extensions).toEqual({ code: 'not_found', status: 404 });
      expect(answer.errors[0]!.message).toBe(`Complaint '${theirs.id}' not found.`);
    }
    expect(await rowsOf(theirs.id)).toEqual(before);
    const untouched = await gql(other.adminKey, RESOLUTION, { c: theirs.id, id: theirResolution.id });
    expect(untouched.data.resolution).toEqual(theirResolution);
    const theirPreRefunds = (await get(other.adminKey, `/v1/complaints/${theirs.id}/pre-refunds`)).json()
      .data;
    expect(theirPreRefunds).toEqual([theirPreRefund]);

    // Their resolution under one of our complaints is a resolution we do not have.
    const ours = await investigating();
    const crossed = await gql(tenant.adminKey, RESOLUTION, { c: ours.id, id: theirResolution.id });
    expect(crossed.data.resolution).toBeNull();
    expect(crossed.errors[0]!.extensions).toEqual({ code: 'not_found', status: 404 });
    expect(crossed.errors[0]!.message).toBe(`Resolution '${theirResolution.id}' not found.`);
  });
});

describe('GraphQL resolution limits', () => {
  it('reads resolutions and pre-refunds of a page of complaints in a bounded number of queries', async () => {
    const own = await createTestTenant(t.tenancy);
    for (let i = 0; i < 50; i += 1) {
      const complaint = (
        await call(t.app, own.adminKey, {
          method: 'POST',
          url: '/v1/complaints',
          json: complaintBody({ subject: `Complaint ${i}` }),
        })
      ).json();
      const proposed = await gql(own.adminKey, PROPOSE, { c: complaint.id, input: threeOptions });
      expect(proposed.errors).toEqual([]);
      const issued = await gql(own.adminKey, ISSUE, {
        c: complaint.id,
        input: { amount: 10 + i, currency: 'CNY', refundedBy: handler },
      });
      expect(issued.errors).toEqual([]);
    }
    const query = (first: number) => `{ complaints(first: ${first}) { nodes {
      id resolutions { id status options { id approval } } preRefunds { id amount }
    } } }`;
    // Warm: the key lookup is cached after the first request.
    await gql(own.adminKey, query(1));
    const counted = async (first: number) => {
      const queries = countQueries(t.database.pool);
      const answer = await gql(own.adminKey, query(first));
      queries.stop();
      expect(answer.errors).toEqual([]);
      const nodes = answer.data.complaints.nodes;
      expect(nodes).toHaveLength(first);
      for (const node of nodes) {
        expect(node.resolutions).toHaveLength(1);
        expect(node.resolutions[0].options.map((o: { approval: string }) => o.approval)).toEqual([
          'not_required',
          'pending',
          'not_required',
        ]);
        expect(node.preRefunds).toHaveLength(1);
      }
      // Each complaint gets its own records, not a neighbour's.
      expect(
        new Set(nodes.map((n: { preRefunds: Array<{ amount: number }> }) => n.preRefunds[0]!.amount)).size,
      ).toBe(first);
      return queries.count;
    };
    const ten = await counted(10);
    const fifty = await counted(50);
    // The complaints page, their next deadlines, then one each for resolutions and pre-refunds.
    expect(fifty).toBe(ten);
    expect(fifty).toBeLessThanOrEqual(4);
  });
});
