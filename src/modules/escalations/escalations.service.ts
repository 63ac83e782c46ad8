import type { Db, Queryable } from '../../db/client.js';
import type { ActorRecord, EscalationTarget, StoredEscalationTargets } from '../../db/schema/index.js';
import type { Clock } from '../../lib/clock.js';
import { ConflictError, NotFoundError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { isFinished } from '../complaints/complaint-status.js';
import { toComplaintView } from '../complaints/complaint-views.js';
import type { ComplaintRow, ComplaintsRepository } from '../complaints/complaints.repository.js';
import { toDeadlineView } from '../deadlines/deadline-views.js';
import type { DeadlineRow, DeadlinesRepository } from '../deadlines/deadlines.repository.js';
import type { EventsRepository } from '../events/events.repository.js';
import { MAJOR_COMPLAINT_LEVEL, TOP_LEVEL } from './escalation-levels.js';
import type { EscalationRow, EscalationsRepository } from './escalations.repository.js';
import type { CreateEscalationInput, EscalationView } from './escalations.schemas.js';

const SYSTEM_ACTOR: ActorRecord = { type: 'system', id: null, name: 'redress', onBehalfOf: null };

export function toEscalationView(row: EscalationRow): EscalationView {
  return {
    id: row.id,
    complaintId: row.complaintId,
    level: row.level,
    previousLevel: row.previousLevel,
    trigger: row.trigger,
    reason: row.reason,
    deadlineId: row.deadlineId,
    targets: row.targets,
    actor: row.actor,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Where the escalation targets of a complaint come from. */
export interface EscalationTargetSource {
  /** The targets of the policy governing a complaint with these facts now. */
  governing(
    tenantId: string,
    facts: Pick<ComplaintRow, 'channel' | 'category' | 'severity'>,
    tx: Queryable,
  ): Promise<StoredEscalationTargets>;
  /** The targets of the policy version a deadline was set under. */
  ofVersion(policyId: string, version: number, tx: Queryable): Promise<StoredEscalationTargets>;
}

/**
 * Escalations (DOMAIN §4): a complaint goes up a level when a deadline is breached, when it is a
 * major complaint, or when a handler asks. The level only rises, to 3 at most; each escalation is
 * recorded, put on the timeline and announced as `complaint.escalated` in the same transaction.
 */
export function createEscalationsService(deps: {
  db: Db;
  escalations: EscalationsRepository;
  complaints: Pick<ComplaintsRepository, 'findByKey' | 'update' | 'appendTimeline'>;
  deadlines: Pick<DeadlinesRepository, 'findById' | 'nextPendingFor'>;
  events: Pick<EventsRepository, 'appendForComplaint'>;
  targets: EscalationTargetSource;
  clock: Clock;
}) {
  const { escalations, complaints, events, clock } = deps;

  /** Raises a complaint whose row the caller holds locked; undefined if this breach was escalated before. */
  async function raise(
    input: {
      complaint: ComplaintRow;
      level: number;
      trigger: EscalationRow['trigger'];
      reason: string;
      deadline: DeadlineRow | null;
      targets: EscalationTarget[];
      actor: ActorRecord;
      /** Set when the complaint was written at the new level already (a major complaint at intake). */
      from?: number;
    },
    tx: Queryable,
  ): Promise<{ escalation: EscalationRow; complaint: ComplaintRow } | undefined> {
    const { complaint, level, deadline, actor } = input;
    const previousLevel = input.from ?? complaint.escalationLevel;
    const now = clock.now();
    const escalation = await escalations.insert(
      {
        id: newId(),
        tenantId: complaint.tenantId,
        complaintId: complaint.id,
        level,
        previousLevel,
        trigger: input.trigger,
        reason: input.reason,
        deadlineId: deadline?.id ?? null,
        targets: input.targets,
        actor,
        createdAt: now,
      },
      tx,
    );
    if (!escalation) return undefined;
    const updated = await complaints.update(
      complaint.tenantId,
      complaint.id,
      { escalationLevel: level },
      now,
      tx,
    );
    await complaints.appendTimeline(
      [
        {
          tenantId: complaint.tenantId,
          complaintId: complaint.id,
          type: 'complaint.escalated',
          actor,
          occurredAt: now,
          changes: [{ field: 'escalationLevel', before: previousLevel, after: level }],
          data: {
            escalationId: escalation.id,
            trigger: escalation.trigger,
            reason: escalation.reason,
            deadlineId: escalation.deadlineId,
            targets: escalation.targets,
          },
        },
      ],
      tx,
    );
    const next = await deps.deadlines.nextPendingFor(complaint.tenantId, [complaint.id], tx);
    await events.appendForComplaint(
      {
        tenantId: complaint.tenantId,
        complaint: updated,
        type: 'complaint.escalated',
        occurredAt: now,
        payload: {
          escalation: toEscalationView(escalation),
          complaint: toComplaintView(updated, next.get(complaint.id)),
          deadline: deadline ? toDeadlineView(deadline) : null,
          actor,
        },
      },
      tx,
    );
    return { escalation, complaint: updated };
  }

  async function majorEscalation(complaint: ComplaintRow, actor: ActorRecord, tx: Queryable) {
    const targets = await deps.targets.governing(complaint.tenantId, complaint, tx);
    return {
      complaint,
      level: MAJOR_COMPLAINT_LEVEL,
      trigger: 'major' as const,
      reason: 'Major complaint: reported up to the department manager.',
      deadline: null,
      targets: targets[String(MAJOR_COMPLAINT_LEVEL) as keyof StoredEscalationTargets],
      actor,
    };
  }

  return {
    /** A handler escalates by hand to a level above the current one. */
    async escalateByHand(
      context: { tenantId: string; actor: ActorRecord },
      key: string,
      input: CreateEscalationInput,
    ): Promise<EscalationRow> {
      return deps.db.transaction(async (tx) => {
        const complaint = await complaints.findByKey(context.tenantId, key, { forUpdate: true }, tx);
        if (!complaint) throw new NotFoundError('Complaint', key);
        if (isFinished(complaint.status)) {
          throw new ConflictError('complaint_finished', 'The complaint is finished', {
            detail: `Complaint '${complaint.reference}' is '${complaint.status}' and cannot be escalated.`,
            extensions: { currentStatus: complaint.status },
          });
        }
        if (input.level <= complaint.escalationLevel) {
          throw new ConflictError('escalation_level_not_higher', 'Escalation must raise the level', {
            detail: `Complaint '${complaint.reference}' is already at level ${complaint.escalationLevel}; escalate to a higher level (at most ${TOP_LEVEL}).`,
            extensions: { currentLevel: complaint.escalationLevel },
          });
        }
        const targets = await deps.targets.governing(context.tenantId, complaint, tx);
        const raised = await raise(
          {
            complaint,
            level: input.level,
            trigger: 'manual',
            reason: input.reason,
            deadline: null,
            targets: targets[String(input.level) as keyof StoredEscalationTargets],
            actor: context.actor,
          },
          tx,
        );
        return raised!.escalation;
      });
    },

    /**
     * A major complaint is reported up to the department manager at once. Runs in the transaction
     * that made the complaint major; the caller holds the complaint's row lock.
     */
    async escalateMajor(complaint: ComplaintRow, actor: ActorRecord, tx: Queryable): Promise<ComplaintRow> {
      if (complaint.escalationLevel >= MAJOR_COMPLAINT_LEVEL) return complaint;
      const raised = await raise(await majorEscalation(complaint, actor, tx), tx);
      return raised?.complaint ?? complaint;
    },

    /**
     * Records the escalation of a major complaint taken in at that level already (see
     * {@link MAJOR_COMPLAINT_LEVEL}), in the transaction that took it in.
     */
    async recordMajorAtIntake(complaint: ComplaintRow, actor: ActorRecord, tx: Queryable): Promise<void> {
      await raise({ ...(await majorEscalation(complaint, actor, tx)), from: 0 }, tx);
    },

    /**
     * A breached deadline raises its complaint one level, with the breach as the reason. Runs in the
     * transaction that recorded the breach, so the two land together or not at all.
     */
    async escalateForBreach(
      breach: { tenantId: string; complaintId: string; deadlineId: string },
      tx: Queryable,
    ): Promise<EscalationRow | undefined> {
      const complaint = await complaints.findByKey(
        breach.tenantId,
        breach.complaintId,
        { forUpdate: true },
        tx,
      );
      if (!complaint || complaint.escalationLevel >= TOP_LEVEL || isFinished(complaint.status))
        return undefined;
      const deadline = await deps.deadlines.findById(breach.deadlineId, tx);
      if (!deadline) return undefined;
      const level = complaint.escalationLevel + 1;
      const targets = await deps.targets.ofVersion(deadline.policyId, deadline.policyVersion, tx);
      const raised = await raise(
        {
          complaint,
          level,
          trigger: 'breach',
          reason: `The ${deadline.kind.replaceAll('_', ' ')} deadline due ${deadline.dueAt.toISOString()} was breached.`,
          deadline,
          targets: targets[String(level) as keyof StoredEscalationTargets],
          actor: SYSTEM_ACTOR,
        },
        tx,
      );
      return raised?.escalation;
    },

    async list(tenantId: string, complaintId: string): Promise<EscalationRow[]> {
      return escalations.listForComplaint(tenantId, complaintId);
    },
  };
}

export type EscalationsService = ReturnType<typeof createEscalationsService>;
