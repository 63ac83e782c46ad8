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

const handler = { name: 'Zhang Wei', role: 'handler' };
const lead = { name: 'Li Na', role: 'team_lead' };
const manager = { name: 'Chen Jie', role: 'department_manager' };
const post = (url: string, json: unknown, key = tenant.adminKey) =>
  call(t.app, key, { method: 'POST', url, json });

async function investigating(overrides: Record<string, unknown> = {}) {
  const res = await post('/v1/complaints', complaintBody({ channel: 'phone', ...overrides }));
  expect(res.statusCode, res.body).toBe(201);
  const complaint = res.json();
  for (const to of ['acknowledged', 'investigating']) {
    expect((await post(`/v1/complaints/${complaint.id}/transitions`, { to })).statusCode).toBe(200);
  }
  return complaint;
}

const base = (complaintId: string) => `/v1/complaints/${complaintId}/resolutions`;
const notice = {
  channel: 'phone',
  measures: 'Refunded the service fee',
  reasons: 'The lift was out of service for 30 minutes',
  followUpPlan: 'We will call you within 24 hours',
  body: 'Dear Wang Fang, we have refunded the fee and will call you tomorrow.',
};

async function eventTypes(complaintId: string) {
  const { rows } = await t.database.pool.query(
    'select type from events where complaint_id = $1 order by sequence',
    [complaintId],
  );
  return rows.map((row) => row.type as string);
}

describe('resolutions', () => {
  it('proposes, approves above the proposer’s limit, records the choice and executes to resolved', async () => {
    const complaint = await investigating();
    const proposed = await post(base(complaint.id), {
      proposedBy: handler,
      options: [
        { kind: 'apology', description: 'A written apology' },
        { kind: 'compensation', description: 'Compensation for lost time', amount: 800, currency: 'CNY' },
        { kind: 'refund', description: 'Refund of the service fee', amount: 120.5, currency: 'CNY' },
      ],
    });
    expect(proposed.statusCode, proposed.body).toBe(201);
    const resolution = proposed.json();
    expect(resolution.status).toBe('awaiting_approval');
    expect(resolution.options.map((o: { approval: string }) => o.approval)).toEqual([
      'not_required',
      'pending',
      'not_required',
    ]);
    expect(proposed.headers.location).toBe(`${base(complaint.id)}/${resolution.id}`);
    const [, compensation, refund] = resolution.options;

    // Nothing is executed before approval, nor is the complaint resolved around it.
    const early = await post(`${base(complaint.id)}/${resolution.id}/execute`, { notice });
    expect(early.statusCode).toBe(409);
    expect(early.json().code).toBe('resolution_awaiting_approval');
    const around = await post(`/v1/complaints/${complaint.id}/transitions`, { to: 'resolved' });
    expect(around.statusCode).toBe(409);
    expect(around.json()).toMatchObject({
      code: 'resolution_awaiting_approval',
      resolutionId: resolution.id,
    });
    const pendingChoice = await post(`${base(complaint.id)}/${resolution.id}/choice`, {
      optionId: compensation.id,
    });
    expect(pendingChoice.json().code).toBe('option_awaiting_approval');

    // A handler cannot approve, nor can the proposer, whatever role they claim.
    const byHandler = await post(`${base(complaint.id)}/${resolution.id}/approve`, {
      approver: { name: 'Other Handler', role: 'handler' },
    });
    expect(byHandler.statusCode).toBe(422);
    expect(byHandler.json()).toMatchObject({ code: 'approver_not_authorised', role: 'handler', amount: 800 });
    const self = await post(`${base(complaint.id)}/${resolution.id}/approve`, {
      approver: { name: 'zhang wei', role: 'team_lead' },
    });
    expect(self.json().code).toBe('approver_is_proposer');
    const intern = await post(`${base(complaint.id)}/${resolution.id}/approve`, {
      approver: { name: 'Intern', role: 'intern' },
    });
    expect(intern.json()).toMatchObject({ code: 'unknown_role', role: 'intern' });

    const approved = await post(`${base(complaint.id)}/${resolution.id}/approve`, {
      approver: lead,
      note: 'Fair',
    });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json().status).toBe('proposed');
    expect(approved.json().options[1]).toMatchObject({
      approval: 'approved',
      decidedBy: lead,
      decisionNote: 'Fair',
    });

    const noChoice = await post(`${base(complaint.id)}/${resolution.id}/execute`, { notice });
    expect(noChoice.json().code).toBe('resolution_choice_missing');
    const chosen = await post(`${base(complaint.id)}/${resolution.id}/choice`, {
      optionId: refund.id,
      note: 'Prefers the refund',
    });
    expect(chosen.json()).toMatchObject({
      status: 'chosen',
      chosenOptionId: refund.id,
      choiceNote: 'Prefers the refund',
    });

    const executed = await post(
      `${base(complaint.id)}/${resolution.id}/execute`,
      { notice, executedBy: 'zhang.wei' },
      tenant.adminKey,
    );
    expect(executed.statusCode, executed.body).toBe(200);
    const result = executed.json();
    expect(result).toMatchObject({
      status: 'executed',
      executedBy: 'zhang.wei',
      notice: { measures: notice.measures, reasons: notice.reasons, followUpPlan: notice.followUpPlan },
    });

    const after = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}` })
    ).json();
    expect(after.status).toBe('resolved');
    const deadlines = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}/deadlines` })
    ).json().data;
    expect(deadlines.find((d: { kind: string }) => d.kind === 'resolution').status).toBe('met');
    expect(deadlines.find((d: { kind: string }) => d.kind === 'follow_up').status).toBe('pending');

    const timeline = (
      await call(t.app, tenant.adminKey, {
        method: 'GET',
        url: `/v1/complaints/${complaint.id}/timeline?limit=100`,
      })
    ).json().data;
    const communication = timeline.find((e: { type: string }) => e.type === 'communication.recorded');
    expect(communication.data).toMatchObject({ direction: 'outbound', body: notice.body });
    expect(communication.data.communicationId).toBe(result.notice.communicationId);
    expect(timeline.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining([
        'resolution.proposed',
        'resolution.approved',
        'resolution.choice_recorded',
        'resolution.executed',
      ]),
    );
    const types = await eventTypes(complaint.id);
    expect(types.lastIndexOf('communication.recorded')).toBeLessThan(types.indexOf('resolution.executed'));
    expect(types.indexOf('resolution.executed')).toBeLessThan(types.lastIndexOf('complaint.status_changed'));
    expect(types.lastIndexOf('complaint.status_changed')).toBeLessThan(types.indexOf('follow_up.due'));

    const listed = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: base(complaint.reference) })
    ).json().data;
    expect(listed.map((r: { id: string }) => r.id)).toEqual([resolution.id]);
    const again = await post(`${base(complaint.id)}/${resolution.id}/execute`, { notice });
    expect(again.json().code).toBe('resolution_closed');
  });

  it('renders the notice from a reply template with the resolution filled in', async () => {
    const complaint = await investigating();
    const resolution = (
      await post(base(complaint.id), {
        proposedBy: handler,
        options: [{ kind: 'repair', description: 'Fix the lift' }],
      })
    ).json();
    await post(`${base(complaint.id)}/${resolution.id}/choice`, { optionId: resolution.options[0].id });
    const [template] = (
      await call(t.app, tenant.adminKey, {
        method: 'GET',
        url: '/v1/reply-templates?key=resolution_notice&locale=zh-CN',
      })
    ).json().data;
    const { body: _body, ...withoutBody } = notice;
    const res = await post(`${base(complaint.id)}/${resolution.id}/execute`, {
      notice: { ...withoutBody, templateId: template.id },
    });
    expect(res.statusCode, res.body).toBe(200);
    const comms = (
      await call(t.app, tenant.adminKey, {
        method: 'GET',
        url: `/v1/complaints/${complaint.id}/timeline?limit=100`,
      })
    )
      .json()
      .data.filter((e: { type: string }) => e.type === 'communication.recorded');
    expect(comms.at(-1).data.body).toContain(`处理措施：${notice.measures}`);
    expect(comms.at(-1).data.template).toEqual({ id: template.id, version: template.version });
  });

  it('ends a proposal whose options are all rejected, or that the customer declines', async () => {
    const complaint = await investigating();
    const big = (
      await post(base(complaint.id), {
        proposedBy: handler,
        options: [{ kind: 'compensation', description: 'Large', amount: 20_000, currency: 'CNY' }],
      })
    ).json();
    const lowLead = await post(`${base(complaint.id)}/${big.id}/reject`, {
      approver: lead,
      reason: 'Too much',
    });
    expect(lowLead.json().code).toBe('approver_not_authorised');
    const rejected = await post(`${base(complaint.id)}/${big.id}/reject`, {
      approver: manager,
      reason: 'Too much',
    });
    expect(rejected.json()).toMatchObject({
      status: 'rejected',
      options: [{ approval: 'rejected', decisionNote: 'Too much' }],
    });
    const late = await post(`${base(complaint.id)}/${big.id}/approve`, { approver: manager });
    expect(late.json().code).toBe('resolution_not_awaiting_approval');

    const second = (
      await post(base(complaint.id), {
        proposedBy: handler,
        options: [{ kind: 'apology', description: 'Sorry' }],
      })
    ).json();
    const busy = await post(base(complaint.id), {
      proposedBy: handler,
      options: [{ kind: 'apology', description: 'x' }],
    });
    expect(busy.statusCode).toBe(409);
    expect(busy.json()).toMatchObject({ code: 'resolution_already_open', resolutionId: second.id });
    const declined = await post(`${base(complaint.id)}/${second.id}/choice`, {
      declined: true,
      note: 'Wants more',
    });
    expect(declined.json().status).toBe('declined');
    expect((await post(`${base(complaint.id)}/${second.id}/choice`, { declined: true })).json().code).toBe(
      'resolution_closed',
    );
    expect(
      (
        await post(base(complaint.id), {
          proposedBy: handler,
          options: [{ kind: 'apology', description: 'x' }],
        })
      ).statusCode,
    ).toBe(201);
  });

  it('refuses amounts beyond every limit, bad options, and complaints not being handled', async () => {
    const complaint = await investigating();
    const usd = await post(base(complaint.id), {
      proposedBy: handler,
      options: [{ kind: 'refund', description: 'x', amount: 10, currency: 'USD' }],
    });
    expect(usd.statusCode).toBe(422);
    expect(usd.json()).toMatchObject({ code: 'approval_limit_unreachable', currency: 'USD', ceiling: 0 });
    // The default matrix's ceiling: the general manager's CNY 200,000, and not a fen more.
    const aboveCeiling = await post(base(complaint.id), {
      proposedBy: handler,
      options: [
        { kind: 'refund', description: 'The bill', amount: 120, currency: 'CNY' },
        { kind: 'compensation', description: 'Outsized', amount: 200_000.01, currency: 'CNY' },
      ],
    });
    expect(aboveCeiling.statusCode).toBe(422);
    expect(aboveCeiling.json()).toMatchObject({
      code: 'approval_limit_unreachable',
      optionIndex: 1,
      amount: 200_000.01,
      currency: 'CNY',
      ceiling: 200_000,
    });
    // Nothing of the refused proposal was written.
    const listed = await call(t.app, tenant.adminKey, { method: 'GET', url: base(complaint.id) });
    expect(listed.json().data).toEqual([]);
    for (const options of [
      [],
      [{ kind: 'refund', description: 'no amount' }],
      [{ kind: 'apology', description: 'x', amount: 5, currency: 'CNY' }],
      [{ kind: 'other', description: 'x', amount: 5 }],
      [{ kind: 'refund', description: 'x', amount: 5, currency: 'XYZ' }],
      [{ kind: 'refund', description: 'x', amount: 5.001, currency: 'CNY' }],
      [{ kind: 'refund', description: 'x', amount: -1, currency: 'CNY' }],
      [{ kind: 'bribe', description: 'x' }],
    ]) {
      const res = await post(base(complaint.id), { proposedBy: handler, options });
      expect(res.statusCode, JSON.stringify(options)).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
    expect(
      (await post(base(complaint.id), { options: [{ kind: 'apology', description: 'x' }] })).statusCode,
    ).toBe(400);
    const withdrawn = await investigating();
    await post(`/v1/complaints/${withdrawn.id}/transitions`, { to: 'withdrawn', reason: 'Settled' });
    const closed = await post(base(withdrawn.id), {
      proposedBy: handler,
      options: [{ kind: 'apology', description: 'x' }],
    });
    expect(closed.json()).toMatchObject({ code: 'complaint_not_in_handling', currentStatus: 'withdrawn' });

    // Executing from a status that cannot move to resolved is the life cycle's own refusal.
    const fresh = (await post('/v1/complaints', complaintBody())).json();
    const r = (
      await post(base(fresh.id), { proposedBy: handler, options: [{ kind: 'apology', description: 'x' }] })
    ).json();
    await post(`${base(fresh.id)}/${r.id}/choice`, { optionId: r.options[0].id });
    const invalid = await post(`${base(fresh.id)}/${r.id}/execute`, { notice });
    expect(invalid.statusCode).toBe(409);
    expect(invalid.json().code).toBe('invalid_transition');
    // …and the notice it would have sent was not recorded.
    const comms = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${fresh.id}/timeline` })
    )
      .json()
      .data.filter((e: { type: string }) => e.type === 'communication.recorded');
    expect(comms).toEqual([]);
    const { body: _b, ...noText } = notice;
    expect((await post(`${base(fresh.id)}/${r.id}/execute`, { notice: noText })).statusCode).toBe(400);
  });

  it('keeps resolutions to their tenant and scopes', async () => {
    const complaint = await investigating();
    const resolution = (
      await post(base(complaint.id), {
        proposedBy: handler,
        options: [{ kind: 'apology', description: 'x' }],
      })
    ).json();
    const other = await createTestTenant(t.tenancy);
    expect((await call(t.app, other.adminKey, { method: 'GET', url: base(complaint.id) })).statusCode).toBe(
      404,
    );
    expect(
      (await call(t.app, other.adminKey, { method: 'GET', url: `${base(complaint.id)}/${resolution.id}` }))
        .statusCode,
    ).toBe(404);
    expect(
      (await post(`${base(complaint.id)}/${resolution.id}/choice`, { declined: true }, other.adminKey))
        .statusCode,
    ).toBe(404);
    expect(
      (await post(base(complaint.id), { proposedBy: handler, options: [] }, null as unknown as string))
        .statusCode,
    ).toBe(401);
    const reader = await tenant.keyWith('complaints:read');
    expect(
      (
        await post(
          base(complaint.id),
          { proposedBy: handler, options: [{ kind: 'apology', description: 'x' }] },
          reader,
        )
      ).statusCode,
    ).toBe(403);
    expect(
      (await call(t.app, reader, { method: 'GET', url: `${base(complaint.id)}/${resolution.id}` }))
        .statusCode,
    ).toBe(200);
    const policies = await tenant.keyWith('policies:manage');
    expect((await call(t.app, policies, { method: 'GET', url: base(complaint.id) })).statusCode).toBe(403);
    expect(
      (
        await call(t.app, tenant.adminKey, {
          method: 'GET',
          url: `${base(complaint.id)}/00000000-0000-4000-8000-000000000000`,
        })
      ).statusCode,
    ).toBe(404);
  });
});

describe('recusal and limits on money (DOMAIN §4)', () => {
  it('keeps the staff a complaint is about, or who declared a conflict, from approving, refunding or verifying', async () => {
    const complaint = await investigating({ subjectStaff: ['Chen Jie'] });
    const declared = await post(`/v1/complaints/${complaint.id}/conflicts`, {
      staff: 'Li Na',
      reason: 'Neighbour of the customer',
    });
    expect(declared.statusCode, declared.body).toBeLessThan(300);
    const resolution = (
      await post(base(complaint.id), {
        proposedBy: handler,
        options: [{ kind: 'compensation', description: 'For the trouble', amount: 3000, currency: 'CNY' }],
      })
    ).json();
    for (const approver of [manager, { name: 'li na', role: 'department_manager' }]) {
      for (const decision of ['approve', 'reject']) {
        const body = decision === 'reject' ? { approver, reason: 'Not justified' } : { approver };
        const res = await post(`${base(complaint.id)}/${resolution.id}/${decision}`, body);
        expect(res.statusCode, `${approver.name} ${decision}`).toBe(409);
        expect(res.json().code).toBe('conflict_of_interest');
      }
    }
    const refund = await post(`/v1/complaints/${complaint.id}/pre-refunds`, {
      amount: 100,
      currency: 'CNY',
      refundedBy: { name: 'Chen Jie', role: 'department_manager' },
    });
    expect(refund.statusCode).toBe(409);
    const made = (
      await post(`/v1/complaints/${complaint.id}/pre-refunds`, {
        amount: 100,
        currency: 'CNY',
        refundedBy: handler,
      })
    ).json();
    const verified = await post(`/v1/complaints/${complaint.id}/pre-refunds/${made.id}/verification`, {
      outcome: 'confirmed',
      verifiedBy: { name: 'LI NA', role: 'team_lead' },
    });
    expect(verified.statusCode).toBe(409);
    expect(verified.json().code).toBe('conflict_of_interest');
  });

  it('holds pre-refunds to the refunder’s limit in all, so small ones cannot add up past it', async () => {
    const complaint = await investigating();
    const refund = (amount: number, currency = 'CNY') =>
      post(`/v1/complaints/${complaint.id}/pre-refunds`, { amount, currency, refundedBy: handler });
    expect((await refund(300)).statusCode).toBe(201);
    expect((await refund(200)).statusCode).toBe(201);
    const third = await refund(1);
    expect(third.statusCode).toBe(422);
    expect(third.json()).toMatchObject({ code: 'pre_refund_over_limit', alreadyPreRefunded: 500 });
  });
});

describe('pre-refunds', () => {
  it('refunds at once, starts a 3-day verification deadline, and verification meets it', async () => {
    const complaint = await investigating();
    const res = await post(`/v1/complaints/${complaint.id}/pre-refunds`, {
      amount: 199,
      currency: 'CNY',
      refundedBy: handler,
      paymentReference: 'PAY-001',
    });
    expect(res.statusCode, res.body).toBe(201);
    const preRefund = res.json();
    expect(preRefund).toMatchObject({
      amount: 199,
      currency: 'CNY',
      status: 'awaiting_verification',
      refundedBy: handler,
    });
    const deadline = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}/deadlines` })
    )
      .json()
      .data.find((d: { id: string }) => d.id === preRefund.deadlineId);
    expect(deadline).toMatchObject({
      kind: 'pre_refund_verification',
      status: 'pending',
      targetDuration: 'P3D',
      clock: 'calendar',
    });
    expect(new Date(deadline.dueAt).getTime() - new Date(preRefund.refundedAt).getTime()).toBe(
      3 * 86_400_000,
    );

    // Met by its action, not by hand.
    const byHand = await post(`/v1/complaints/${complaint.id}/deadlines/${deadline.id}/complete`, undefined);
    expect(byHand.json().code).toBe('deadline_met_by_action');

    // Closing the complaint does not cancel what is owed on money already paid.
    await post(`/v1/complaints/${complaint.id}/transitions`, {
      to: 'withdrawn',
      reason: 'Customer withdrew',
    });
    const verified = await post(`/v1/complaints/${complaint.id}/pre-refunds/${preRefund.id}/verification`, {
      outcome: 'confirmed',
      verifiedBy: lead,
      note: 'Order records match',
    });
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json()).toMatchObject({
      status: 'confirmed',
      verifiedBy: lead,
      verificationNote: 'Order records match',
    });
    const met = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}/deadlines` })
    )
      .json()
      .data.find((d: { id: string }) => d.id === preRefund.deadlineId);
    expect(met).toMatchObject({ status: 'met', metLate: false });
    const twice = await post(`/v1/complaints/${complaint.id}/pre-refunds/${preRefund.id}/verification`, {
      outcome: 'disputed',
      verifiedBy: lead,
    });
    expect(twice.json()).toMatchObject({ code: 'pre_refund_already_verified', currentStatus: 'confirmed' });
    const types = await eventTypes(complaint.id);
    expect(types).toEqual(expect.arrayContaining(['pre_refund.issued', 'pre_refund.verified']));
    const listed = (
      await call(t.app, tenant.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}/pre-refunds` })
    ).json();
    expect(listed.data).toHaveLength(1);
  });

  it('plans the verification from the default target for a policy stored before the kind existed', async () => {
    const own = await createTestTenant(t.tenancy);
    // As migration 0012 finds policies written earlier: no preRefundVerification target.
    await t.database.pool.query(
      "update sla_policies set targets = targets - 'preRefundVerification' where tenant_id = $1",
      [own.tenantId],
    );
    const [policy] = (await call(t.app, own.adminKey, { method: 'GET', url: '/v1/sla-policies' })).json()
      .data;
    expect(policy.targets.preRefundVerification).toEqual({ duration: 'P3D', clock: 'calendar' });
    const complaint = (await post('/v1/complaints', complaintBody(), own.adminKey)).json();
    const res = await post(
      `/v1/complaints/${complaint.id}/pre-refunds`,
      { amount: 50, currency: 'CNY', refundedBy: handler },
      own.adminKey,
    );
    expect(res.statusCode, res.body).toBe(201);
    const deadline = (
      await call(t.app, own.adminKey, { method: 'GET', url: `/v1/complaints/${complaint.id}/deadlines` })
    )
      .json()
      .data.find((d: { kind: string }) => d.kind === 'pre_refund_verification');
    expect(deadline).toMatchObject({ targetDuration: 'P3D', status: 'pending' });
  });

  it('refuses a pre-refund beyond the refunder’s own limit, bad input, and other tenants', async () => {
    const complaint = await investigating();
    const over = await post(`/v1/complaints/${complaint.id}/pre-refunds`, {
      amount: 501,
      currency: 'CNY',
      refundedBy: handler,
    });
    expect(over.statusCode).toBe(422);
    expect(over.json()).toMatchObject({ code: 'pre_refund_over_limit', role: 'handler' });
    for (const json of [
      { amount: 0, currency: 'CNY', refundedBy: handler },
      { amount: 10, currency: 'cny', refundedBy: handler },
      { amount: 10, currency: 'CNY' },
      { amount: 10, currency: 'CNY', refundedBy: handler, refundedAt: '2999-01-01T00:00:00Z' },
    ]) {
      const res = await post(`/v1/complaints/${complaint.id}/pre-refunds`, json);
      expect(res.statusCode, JSON.stringify(json)).toBe(400);
    }
    const other = await createTestTenant(t.tenancy);
    expect(
      (
        await post(
          `/v1/complaints/${complaint.id}/pre-refunds`,
          { amount: 1, currency: 'CNY', refundedBy: handler },
          other.adminKey,
        )
      ).statusCode,
    ).toBe(404);
    const reader = await tenant.keyWith('complaints:read');
    expect(
      (
        await post(
          `/v1/complaints/${complaint.id}/pre-refunds`,
          { amount: 1, currency: 'CNY', refundedBy: handler },
          reader,
        )
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await post(
          `/v1/complaints/${complaint.id}/pre-refunds/00000000-0000-4000-8000-000000000000/verification`,
          {
            outcome: 'confirmed',
            verifiedBy: lead,
          },
        )
      ).statusCode,
    ).toBe(404);
  });
});
