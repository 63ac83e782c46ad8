import type { Db, Queryable, Tx } from '../../db/client.js';
import type { StaffRecord } from '../../db/schema/index.js';
import type { Clock } from '../../lib/clock.js';
import { ConflictError, NotFoundError, UnprocessableError, ValidationError } from '../../lib/errors.js';
import { groupBy } from '../../lib/group-by.js';
import { newId } from '../../lib/ids.js';
import { isFinished } from '../complaints/complaint-status.js';
import type { ComplaintRow, ComplaintsRepository } from '../complaints/complaints.repository.js';
import type { ActingContext, ComplaintsService } from '../complaints/complaints.service.js';
import type { DeadlineEffects, DeadlinesService } from '../deadlines/deadlines.service.js';
import type { ComplaintEventType } from '../events/event-types.js';
import type { EventsRepository } from '../events/events.repository.js';
import type { IdempotencyRepository } from '../idempotency/idempotency.repository.js';
import { bindToKey, type IdempotencyBinding } from '../idempotency/idempotency-binding.js';
import type { OwnershipService } from '../ownership/ownership.service.js';
import type { WorkflowSettings } from '../settings/settings.schemas.js';
import { ceilingOf, roleCovers, someRoleCovers, statusAfterApprovals } from './approval-matrix.js';
import { toPreRefundView, toResolutionView } from './resolution-views.js';
import type {
  PreRefundRow,
  ResolutionOptionRow,
  ResolutionsRepository,
  ResolutionWithOptions,
} from './resolutions.repository.js';
import type {
  ApproveInput,
  ChoiceInput,
  CreateResolutionInput,
  ExecuteInput,
  PreRefundInput,
  RejectInput,
  VerificationInput,
} from './resolutions.schemas.js';

/** Tolerance for callers' clocks running ahead when they send refundedAt. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** Statuses in which a complaint is still being handled, so a resolution can be proposed. */
const IN_HANDLING: ReadonlySet<ComplaintRow['status']> = new Set([
  'received',
  'acknowledged',
  'investigating',
  'awaiting_customer',
]);

const sameName = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * Resolutions (DOMAIN §4): options proposed to the customer, approval by the approval matrix, the
 * customer's choice, and execution, which sends the resolution notice and resolves the complaint
 * through the same transition as everything else; and pre-refunds with their verification.
 */
export function createResolutionsService(deps: {
  db: Db;
  resolutions: ResolutionsRepository;
  complaints: Pick<ComplaintsRepository, 'findByKey' | 'appendTimeline'>;
  /** Execution records the notice and resolves the complaint inside its own transaction. */
  transitions: Pick<ComplaintsService, 'transitionInTx' | 'recordCommunicationInTx'>;
  deadlines: Pick<DeadlinesService, 'openDeadlines' | 'meetByAction' | 'arm'>;
  events: EventsRepository;
  settingsOf: (tenantId: string, tx: Queryable) => Promise<WorkflowSettings>;
  /** Proposals and pre-refunds with an idempotency key point it at what they wrote, in their transaction. */
  idempotency: Pick<IdempotencyRepository, 'bindResource'>;
  /**
   * Recusal (DOMAIN §4): whoever approves, rejects, refunds or verifies handles the complaint,
   * so nobody it is about, nor anyone who declared a conflict in it, may.
   */
  recusal: Pick<OwnershipService, 'assertMayHandle'>;
  clock: Clock;
}) {
  const { db, resolutions, clock } = deps;

  async function lockComplaint(context: ActingContext, key: string, tx: Tx): Promise<ComplaintRow> {
    const complaint = await deps.complaints.findByKey(context.tenantId, key, { forUpdate: true }, tx);
    if (!complaint) throw new NotFoundError('Complaint', key);
    return complaint;
  }

  async function lockResolution(complaint: ComplaintRow, id: string, tx: Tx): Promise<ResolutionWithOptions> {
    const row = await resolutions.find(complaint.tenantId, complaint.id, id, { forUpdate: true }, tx);
    if (!row) throw new NotFoundError('Resolution', id);
    return row;
  }

  function assertKnownRole(settings: WorkflowSettings, staff: StaffRecord, field: string) {
    if (!settings.roles.includes(staff.role)) {
      throw new UnprocessableError('unknown_role', 'Unknown role', {
        detail: `${field} has role '${staff.role}', which is not one of the tenant's roles (${settings.roles.join(', ')}).`,
        extensions: { role: staff.role, roles: settings.roles },
      });
    }
  }

  async function record(
    context: ActingContext,
    complaint: ComplaintRow,
    type: ComplaintEventType,
    subject: Record<string, unknown>,
    timelineData: Record<string, unknown>,
    tx: Queryable,
  ) {
    const at = clock.now();
    await deps.complaints.appendTimeline(
      [
        {
          tenantId: context.tenantId,
          complaintId: complaint.id,
          type,
          actor: context.actor,
          occurredAt: at,
          data: timelineData,
        },
      ],
      tx,
    );
    await deps.events.appendForComplaint(
      {
        tenantId: context.tenantId,
        complaint,
        type,
        occurredAt: at,
        payload: { ...subject, actor: context.actor },
      },
      tx,
    );
  }

  /** The complaint a retried write names, read without a lock: a recovery writes nothing. */
  async function complaintOf(context: ActingContext, key: string): Promise<ComplaintRow> {
    const complaint = await deps.complaints.findByKey(context.tenantId, key);
    if (!complaint) throw new NotFoundError('Complaint', key);
    return complaint;
  }

  async function reread(complaint: ComplaintRow, id: string, tx: Tx) {
    return (await resolutions.find(complaint.tenantId, complaint.id, id, {}, tx))!;
  }

  /** Approves or rejects options awaiting approval, for an approver whose limit covers each. */
  async function decide(
    context: ActingContext,
    key: string,
    resolutionId: string,
    decision: 'approved' | 'rejected',
    input: { approver: StaffRecord; optionIds?: string[] | undefined; note: string | null },
  ): Promise<ResolutionWithOptions> {
    return db.transaction(async (tx) => {
      const complaint = await lockComplaint(context, key, tx);
      const resolution = await lockResolution(complaint, resolutionId, tx);
      if (resolution.status !== 'awaiting_approval') {
        throw new ConflictError('resolution_not_awaiting_approval', 'Nothing awaits approval', {
          detail: `Resolution '${resolutionId}' is '${resolution.status}'; only options awaiting approval are approved or rejected.`,
          extensions: { currentStatus: resolution.status },
        });
      }
      const settings = await deps.settingsOf(context.tenantId, tx);
      assertKnownRole(settings, input.approver, 'The approver');
      await deps.recusal.assertMayHandle(complaint, input.approver.name, complaint.subjectStaff, tx);
      if (sameName(input.approver.name, resolution.proposedBy.name)) {
        throw new UnprocessableError('approver_is_proposer', 'Approval needs a second person', {
          detail: `'${input.approver.name}' proposed this resolution and cannot also approve or reject it.`,
        });
      }
      const pending = resolution.options.filter((option) => option.approval === 'pending');
      let targets: ResolutionOptionRow[] = pending;
      if (input.optionIds) {
        const unknown = input.optionIds.filter(
          (id) => !resolution.options.some((option) => option.id === id),
        );
        if (unknown.length > 0) {
          throw new ValidationError([
            { field: 'body.optionIds', message: `not options of this resolution: ${unknown.join(', ')}` },
          ]);
        }
        targets = resolution.options.filter((option) => input.optionIds!.includes(option.id));
        const settled = targets.find((option) => option.approval !== 'pending');
        if (settled) {
          throw new ConflictError('option_not_awaiting_approval', 'Option does not await approval', {
            detail: `Option '${settled.id}' is '${settled.approval}'.`,
            extensions: { optionId: settled.id, approval: settled.approval },
          });
        }
      }
      const beyond = targets.find(
        (option) => !roleCovers(settings.approvalLimits, input.approver.role, option),
      );
      if (beyond) {
        throw new UnprocessableError('approver_not_authorised', 'Above the approver’s limit', {
          detail: `A '${input.approver.role}' may not decide on ${beyond.amount} ${beyond.currency} (${beyond.kind}); ask a role whose approval limit covers it.`,
          extensions: {
            role: input.approver.role,
            optionId: beyond.id,
            amount: beyond.amount,
            currency: beyond.currency,
          },
        });
      }
      const now = clock.now();
      await resolutions.decideOptions(
        complaint.tenantId,
        targets.map((option) => option.id),
        { approval: decision, decidedBy: input.approver, decidedAt: now, decisionNote: input.note },
        tx,
      );
      const approvals = resolution.options.map((option) =>
        targets.some((target) => target.id === option.id) ? decision : option.approval,
      );
      await resolutions.update(
        complaint.tenantId,
        resolution.id,
        { status: statusAfterApprovals(approvals) },
        now,
        resolution.version,
        tx,
      );
      const updated = await reread(complaint, resolution.id, tx);
      await record(
        context,
        complaint,
        decision === 'approved' ? 'resolution.approved' : 'resolution.rejected',
        { resolution: toResolutionView(updated), optionIds: targets.map((option) => option.id) },
        {
          resolutionId: resolution.id,
          optionIds: targets.map((option) => option.id),
          approver: input.approver,
          note: input.note,
          status: updated.status,
        },
        tx,
      );
      return updated;
    });
  }

  return {
    async list(tenantId: string, complaintId: string) {
      return resolutions.listForComplaint(tenantId, complaintId);
    },

    /** The resolutions of each complaint, in one query however many (GraphQL's nested `resolutions`). */
    async listForComplaints(tenantId: string, complaintIds: readonly string[]) {
      const rows = await resolutions.listForComplaints(tenantId, [...new Set(complaintIds)]);
      return groupBy(rows, (row) => row.complaintId);
    },

    async get(tenantId: string, complaintId: string, id: string) {
      const row = await resolutions.find(tenantId, complaintId, id);
      if (!row) throw new NotFoundError('Resolution', id);
      return row;
    },

    /** Proposes options; each above the proposer's own limit waits for an approver. */
    async propose(
      context: ActingContext,
      key: string,
      input: CreateResolutionInput,
      idempotency: IdempotencyBinding | null = null,
    ): Promise<ResolutionWithOptions> {
      if (idempotency?.recoveredResourceId) {
        const complaint = await complaintOf(context, key);
        const proposed = await resolutions.find(
          context.tenantId,
          complaint.id,
          idempotency.recoveredResourceId,
        );
        if (!proposed) throw new NotFoundError('Resolution', idempotency.recoveredResourceId);
        return proposed;
      }
      return db.transaction(async (tx) => {
        const complaint = await lockComplaint(context, key, tx);
        if (!IN_HANDLING.has(complaint.status)) {
          throw new ConflictError('complaint_not_in_handling', 'The complaint is not being handled', {
            detail: `Complaint '${complaint.reference}' is '${complaint.status}'; resolutions are proposed while it is handled (reopen it first).`,
            extensions: { currentStatus: complaint.status },
          });
        }
        const open = await resolutions.findOpen(context.tenantId, complaint.id, tx);
        if (open) {
          throw new ConflictError('resolution_already_open', 'Another resolution is in play', {
            detail: `Resolution '${open.id}' of complaint '${complaint.reference}' is '${open.status}'; settle it (or record that the customer declined) first.`,
            extensions: { resolutionId: open.id, currentStatus: open.status },
          });
        }
        const settings = await deps.settingsOf(context.tenantId, tx);
        assertKnownRole(settings, input.proposedBy, 'The proposer');
        input.options.forEach((option, index) => {
          const money = { amount: option.amount ?? null, currency: option.currency ?? null };
          if (!someRoleCovers(settings.approvalLimits, settings.roles, money)) {
            const ceiling = ceilingOf(settings.approvalLimits, settings.roles, money.currency!);
            throw new UnprocessableError('approval_limit_unreachable', 'No role may grant this', {
              detail: `Option ${index + 1} (${option.kind}, ${option.amount} ${option.currency}) is above every role's approval limit (the most any role may grant in ${option.currency} is ${ceiling}); compensation follows policy, and no customer is bought off.`,
              extensions: { optionIndex: index, amount: option.amount, currency: option.currency, ceiling },
            });
          }
        });
        const now = clock.now();
        const id = newId();
        const options = input.options.map((option, position) => {
          const money = { amount: option.amount ?? null, currency: option.currency ?? null };
          return {
            id: newId(),
            tenantId: context.tenantId,
            resolutionId: id,
            position,
            kind: option.kind,
            description: option.description,
            ...money,
            approval: roleCovers(settings.approvalLimits, input.proposedBy.role, money)
              ? ('not_required' as const)
              : ('pending' as const),
          };
        });
        const created = await resolutions.insert(
          {
            id,
            tenantId: context.tenantId,
            complaintId: complaint.id,
            status: statusAfterApprovals(options.map((option) => option.approval)),
            proposedBy: input.proposedBy,
            note: input.note ?? null,
            actor: context.actor,
            createdAt: now,
            updatedAt: now,
          },
          options,
          tx,
        );
        await record(
          context,
          complaint,
          'resolution.proposed',
          { resolution: toResolutionView(created) },
          {
            resolutionId: id,
            proposedBy: input.proposedBy,
            status: created.status,
            options: created.options.map((option) => ({
              id: option.id,
              kind: option.kind,
              amount: option.amount,
              currency: option.currency,
              approval: option.approval,
            })),
          },
          tx,
        );
        await bindToKey(deps.idempotency, context.tenantId, idempotency, created.id, tx);
        return created;
      });
    },

    approve: (context: ActingContext, key: string, id: string, input: ApproveInput) =>
      decide(context, key, id, 'approved', { ...input, note: input.note ?? null }),

    reject: (context: ActingContext, key: string, id: string, input: RejectInput) =>
      decide(context, key, id, 'rejected', { ...input, note: input.reason }),

    /** Records the option the customer chose, or that they declined every one. */
    async recordChoice(context: ActingContext, key: string, id: string, input: ChoiceInput) {
      return db.transaction(async (tx) => {
        const complaint = await lockComplaint(context, key, tx);
        const resolution = await lockResolution(complaint, id, tx);
        if (!['awaiting_approval', 'proposed', 'chosen'].includes(resolution.status)) {
          throw new ConflictError('resolution_closed', 'The resolution is settled', {
            detail: `Resolution '${id}' is '${resolution.status}'.`,
            extensions: { currentStatus: resolution.status },
          });
        }
        let chosen: ResolutionOptionRow | undefined;
        if (input.optionId) {
          chosen = resolution.options.find((option) => option.id === input.optionId);
          if (!chosen) {
            throw new ValidationError([
              { field: 'body.optionId', message: `not an option of resolution '${id}'` },
            ]);
          }
          if (chosen.approval === 'pending' || chosen.approval === 'rejected') {
            throw new ConflictError(
              chosen.approval === 'pending' ? 'option_awaiting_approval' : 'option_rejected',
              chosen.approval === 'pending' ? 'The option awaits approval' : 'The option was rejected',
              {
                detail: `Option '${chosen.id}' is '${chosen.approval}'; only options that need no approval or were approved are offered.`,
                extensions: { optionId: chosen.id, approval: chosen.approval },
              },
            );
          }
        }
        const now = clock.now();
        await resolutions.update(
          complaint.tenantId,
          id,
          {
            status: chosen ? 'chosen' : 'declined',
            chosenOptionId: chosen?.id ?? null,
            choiceNote: input.note ?? null,
            choiceRecordedAt: now,
          },
          now,
          resolution.version,
          tx,
        );
        const updated = await reread(complaint, id, tx);
        await record(
          context,
          complaint,
          'resolution.choice_recorded',
          { resolution: toResolutionView(updated) },
          {
            resolutionId: id,
            chosenOptionId: chosen?.id ?? null,
            declined: !chosen,
            note: input.note ?? null,
          },
          tx,
        );
        return updated;
      });
    },

    /**
     * Carries out the chosen option: records the resolution notice as an outbound communication,
     * then resolves the complaint through the status machine (deadlines met, follow-up scheduled
     * or exempted), all in one transaction.
     */
    async execute(context: ActingContext, key: string, id: string, input: ExecuteInput) {
      const result = await db.transaction(async (tx) => {
        const complaint = await lockComplaint(context, key, tx);
        const resolution = await lockResolution(complaint, id, tx);
        if (resolution.status !== 'chosen') {
          const [code, title, why] =
            resolution.status === 'awaiting_approval'
              ? ([
                  'resolution_awaiting_approval',
                  'Awaiting approval',
                  'options still await approval',
                ] as const)
              : resolution.status === 'proposed'
                ? ([
                    'resolution_choice_missing',
                    'No choice recorded',
                    "the customer's choice is not recorded",
                  ] as const)
                : ([
                    'resolution_closed',
                    'The resolution is settled',
                    `it is '${resolution.status}'`,
                  ] as const);
          throw new ConflictError(code, title, {
            detail: `Resolution '${id}' cannot be executed: ${why}.`,
            extensions: { currentStatus: resolution.status },
          });
        }
        const option = resolution.options.find((candidate) => candidate.id === resolution.chosenOptionId)!;
        if (option.approval !== 'not_required' && option.approval !== 'approved') {
          // Guarded at the choice already; kept so nothing unapproved can ever be carried out.
          throw new ConflictError('resolution_awaiting_approval', 'Awaiting approval', {
            detail: `Option '${option.id}' is '${option.approval}'.`,
            extensions: { currentStatus: resolution.status },
          });
        }
        const { notice } = input;
        const effects: DeadlineEffects = { toArm: [] };
        const sent = await deps.transitions.recordCommunicationInTx(
          context,
          complaint,
          {
            direction: 'outbound',
            channel: notice.channel,
            body: notice.body,
            templateId: notice.templateId,
            variables: notice.templateId
              ? {
                  ...notice.variables,
                  resolution: {
                    measures: notice.measures,
                    reasons: notice.reasons,
                    followUpPlan: notice.followUpPlan,
                    optionKind: option.kind,
                    optionDescription: option.description,
                    ...(option.amount !== null && option.currency !== null
                      ? { amount: option.amount, currency: option.currency }
                      : {}),
                  },
                }
              : undefined,
            contactMade: true,
          },
          tx,
        );
        effects.toArm.push(...sent.effects.toArm);
        const now = clock.now();
        await resolutions.update(
          complaint.tenantId,
          id,
          {
            status: 'executed',
            executedAt: now,
            executedBy: input.executedBy ?? context.actor.onBehalfOf ?? context.actor.name,
            notice: { measures: notice.measures, reasons: notice.reasons, followUpPlan: notice.followUpPlan },
            noticeCommunicationId: sent.communication.id,
          },
          now,
          resolution.version,
          tx,
        );
        const executed = await reread(complaint, id, tx);
        await record(
          context,
          complaint,
          'resolution.executed',
          { resolution: toResolutionView(executed) },
          {
            resolutionId: id,
            optionId: option.id,
            kind: option.kind,
            amount: option.amount,
            currency: option.currency,
            measures: notice.measures,
            reasons: notice.reasons,
            followUpPlan: notice.followUpPlan,
            communicationId: sent.communication.id,
          },
          tx,
        );
        const resolved = await deps.transitions.transitionInTx(
          context,
          complaint,
          { to: 'resolved', reason: `Resolution executed: ${option.kind}` },
          tx,
          {
            onTheSpot: input.followUp.onTheSpot,
            customerConfirmed: input.followUp.customerConfirmed,
            sensitive: input.followUp.sensitive,
            followUpDeclined: input.followUp.declined,
            resolutionId: id,
          },
        );
        effects.toArm.push(...resolved.effects.toArm);
        return { executed, effects };
      });
      await deps.deadlines.arm(result.effects);
      return result.executed;
    },

    listPreRefunds: (tenantId: string, complaintId: string) =>
      resolutions.listPreRefunds(tenantId, complaintId),

    /** The pre-refunds of each complaint, in one query however many (GraphQL's nested `preRefunds`). */
    async listPreRefundsForComplaints(tenantId: string, complaintIds: readonly string[]) {
      const rows = await resolutions.listPreRefundsForComplaints(tenantId, [...new Set(complaintIds)]);
      return groupBy(rows, (row) => row.complaintId);
    },

    /**
     * Refunds the principal at once (预退费): recorded, announced, and its verification deadline
     * started. It waits for no approver, so the amount must be within the refunder's own limit.
     */
    async issuePreRefund(
      context: ActingContext,
      key: string,
      input: PreRefundInput,
      idempotency: IdempotencyBinding | null = null,
    ): Promise<PreRefundRow> {
      if (idempotency?.recoveredResourceId) {
        const complaint = await complaintOf(context, key);
        const issued = await resolutions.findPreRefund(
          context.tenantId,
          complaint.id,
          idempotency.recoveredResourceId,
        );
        if (!issued) throw new NotFoundError('Pre-refund', idempotency.recoveredResourceId);
        return issued;
      }
      const now = clock.now();
      const refundedAt = input.refundedAt ? new Date(input.refundedAt) : now;
      if (refundedAt.getTime() > now.getTime() + CLOCK_SKEW_MS) {
        throw new ValidationError([{ field: 'body.refundedAt', message: 'must not be in the future' }]);
      }
      const result = await db.transaction(async (tx) => {
        const complaint = await lockComplaint(context, key, tx);
        if (isFinished(complaint.status)) {
          throw new ConflictError('complaint_finished', 'The complaint is finished', {
            detail: `Complaint '${complaint.reference}' is '${complaint.status}'; no pre-refund is made on it.`,
            extensions: { currentStatus: complaint.status },
          });
        }
        if (refundedAt.getTime() < complaint.receivedAt.getTime() - CLOCK_SKEW_MS) {
          throw new ValidationError([
            { field: 'body.refundedAt', message: 'must not be before the complaint was received' },
          ]);
        }
        const settings = await deps.settingsOf(context.tenantId, tx);
        assertKnownRole(settings, input.refundedBy, 'The refunder');
        await deps.recusal.assertMayHandle(complaint, input.refundedBy.name, complaint.subjectStaff, tx);
        // The limit bounds what the complaint has been refunded without approval in all, so
        // several small pre-refunds cannot add up to what one would need approval for.
        const earlier = (await resolutions.listPreRefunds(context.tenantId, complaint.id, tx))
          .filter((row) => row.currency === input.currency)
          .reduce((sum, row) => sum + row.amount, 0);
        const total = { amount: earlier + input.amount, currency: input.currency };
        if (!roleCovers(settings.approvalLimits, input.refundedBy.role, total)) {
          throw new UnprocessableError('pre_refund_over_limit', 'Above the refunder’s own limit', {
            detail:
              `A '${input.refundedBy.role}' may not refund ${input.amount} ${input.currency} without approval` +
              (earlier > 0 ? ` on top of the ${earlier} ${input.currency} already pre-refunded` : '') +
              '; propose a refund resolution instead.',
            extensions: {
              role: input.refundedBy.role,
              amount: input.amount,
              currency: input.currency,
              alreadyPreRefunded: earlier,
            },
          });
        }
        const id = newId();
        const [deadline] = await deps.deadlines.openDeadlines(
          complaint,
          [{ kind: 'pre_refund_verification', startsAt: refundedAt, sourceId: id }],
          tx,
        );
        const row = await resolutions.insertPreRefund(
          {
            id,
            tenantId: context.tenantId,
            complaintId: complaint.id,
            amount: input.amount,
            currency: input.currency,
            refundedBy: input.refundedBy,
            paymentReference: input.paymentReference ?? null,
            note: input.note ?? null,
            refundedAt,
            deadlineId: deadline!.id,
            actor: context.actor,
            createdAt: now,
          },
          tx,
        );
        await record(
          context,
          complaint,
          'pre_refund.issued',
          { preRefund: toPreRefundView(row) },
          {
            preRefundId: id,
            amount: row.amount,
            currency: row.currency,
            refundedBy: row.refundedBy,
            refundedAt: refundedAt.toISOString(),
            verifyBy: deadline!.dueAt.toISOString(),
          },
          tx,
        );
        await bindToKey(deps.idempotency, context.tenantId, idempotency, row.id, tx);
        return { row, effects: { toArm: [deadline!] } };
      });
      await deps.deadlines.arm(result.effects);
      return result.row;
    },

    /** Records the verification of a pre-refund, which meets its verification deadline. */
    async verifyPreRefund(context: ActingContext, key: string, id: string, input: VerificationInput) {
      return db.transaction(async (tx) => {
        const complaint = await lockComplaint(context, key, tx);
        const preRefund = await resolutions.findPreRefund(
          context.tenantId,
          complaint.id,
          id,
          { forUpdate: true },
          tx,
        );
        if (!preRefund) throw new NotFoundError('Pre-refund', id);
        if (preRefund.status !== 'awaiting_verification') {
          throw new ConflictError('pre_refund_already_verified', 'Already verified', {
            detail: `Pre-refund '${id}' was verified already ('${preRefund.status}').`,
            extensions: { currentStatus: preRefund.status },
          });
        }
        const settings = await deps.settingsOf(context.tenantId, tx);
        assertKnownRole(settings, input.verifiedBy, 'The verifier');
        await deps.recusal.assertMayHandle(complaint, input.verifiedBy.name, complaint.subjectStaff, tx);
        const now = clock.now();
        const row = await resolutions.updatePreRefund(
          complaint.tenantId,
          id,
          {
            status: input.outcome,
            verifiedAt: now,
            verifiedBy: input.verifiedBy,
            verificationNote: input.note ?? null,
          },
          tx,
        );
        await record(
          context,
          complaint,
          'pre_refund.verified',
          { preRefund: toPreRefundView(row) },
          { preRefundId: id, outcome: input.outcome, verifiedBy: input.verifiedBy, note: input.note ?? null },
          tx,
        );
        await deps.deadlines.meetByAction(complaint, preRefund.deadlineId, context.actor, tx);
        return row;
      });
    },
  };
}

export type ResolutionsService = ReturnType<typeof createResolutionsService>;
