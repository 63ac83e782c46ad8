import type { Db, Queryable } from '../../db/client.js';
import type { ActorRecord, StoredEscalationTargets } from '../../db/schema/index.js';
import type { Clock } from '../../lib/clock.js';
import { ConflictError, NotFoundError } from '../../lib/errors.js';
import { groupBy } from '../../lib/group-by.js';
import { newId } from '../../lib/ids.js';
import { isFinished } from '../complaints/complaint-status.js';
import type { ComplaintRow, ComplaintsRepository } from '../complaints/complaints.repository.js';
import { newEventId } from '../events/events.repository.js';
import type { IdempotencyRepository } from '../idempotency/idempotency.repository.js';
import { bindToKey, type IdempotencyBinding } from '../idempotency/idempotency-binding.js';
import { describeReasons } from '../major-complaints/major-rules.js';
import { MAJOR_COMPLAINT_LEVEL, TOP_LEVEL } from './escalation-levels.js';
import type { EscalationRow, EscalationsRepository } from './escalations.repository.js';
import type { CreateEscalationInput, EscalationView } from './escalations.schemas.js';

/** The escalation as the REST API shows it; escalation_view (./sql/) builds the same in SQL. */
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

/** Where the escalation targets of a complaint come from: the policy governing it now. */
export type EscalationTargetSource = (
  tenantId: string,
  facts: Pick<ComplaintRow, 'channel' | 'category' | 'severity'>,
  tx: Queryable,
) => Promise<StoredEscalationTargets>;

/** Why a major complaint is reported up, naming the rules that made it major. */
function majorReason(complaint: Pick<ComplaintRow, 'majorReasons'>): string {
  const why = complaint.majorReasons.length > 0 ? ` (${describeReasons(complaint.majorReasons)})` : '';
  return `Major complaint${why}: reported up to the department manager.`;
}

/**
 * Escalations (DOMAIN §4): a complaint goes up a level when a deadline is breached, when it is a
 * major complaint, or when a handler asks. The level only rises, to 3 at most; each escalation is
 * recorded, put on the timeline and announced as `complaint.escalated` in the same transaction.
 * Breaches are escalated by the worker's own write (record_deadline_wake_ups in
 * src/modules/deadlines/sql/), a batch at a time, with the same rows, timeline entry and event as
 * escalate_complaint writes here.
 */
/** Targets without repeats, in their first order (a role named at two levels is told once). */
function uniqueTargets<T>(targets: readonly T[]): T[] {
  const seen = new Set<string>();
  return targets.filter((target) => {
    const key = JSON.stringify(target);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function createEscalationsService(deps: {
  db: Db;
  escalations: EscalationsRepository;
  complaints: Pick<ComplaintsRepository, 'findByKey'>;
  targetsFor: EscalationTargetSource;
  /** Escalating by hand with an idempotency key points the key at the escalation, in its transaction. */
  idempotency: Pick<IdempotencyRepository, 'bindResource'>;
  clock: Clock;
}) {
  const { escalations, complaints, clock } = deps;

  async function raise(
    complaint: ComplaintRow,
    input: {
      level: number;
      trigger: 'major' | 'manual' | 'unsatisfied';
      reason: string;
      actor: ActorRecord;
      writtenAtLevel: boolean;
    },
    tx: Queryable,
  ): Promise<EscalationRow | undefined> {
    const targets = await deps.targetsFor(complaint.tenantId, complaint, tx);
    const atLevel = targets[String(input.level) as keyof StoredEscalationTargets];
    // DOMAIN §4: a major complaint reaches the department manager and the crisis team led by
    // the general manager, who are the top level's targets, at once.
    const reached =
      input.trigger === 'major'
        ? uniqueTargets([...atLevel, ...targets[String(TOP_LEVEL) as keyof StoredEscalationTargets]])
        : atLevel;
    return escalations.escalate(
      {
        id: newId(),
        eventId: newEventId(),
        tenantId: complaint.tenantId,
        complaintId: complaint.id,
        level: input.level,
        trigger: input.trigger,
        reason: input.reason,
        targets: reached,
        actor: input.actor,
        at: clock.now(),
        writtenAtLevel: input.writtenAtLevel,
      },
      tx,
    );
  }

  return {
    /** A handler escalates by hand to a level above the current one. */
    async escalateByHand(
      context: { tenantId: string; actor: ActorRecord },
      key: string,
      input: CreateEscalationInput,
      idempotency: IdempotencyBinding | null = null,
    ): Promise<EscalationRow> {
      if (idempotency?.recoveredResourceId) {
        const raised = await escalations.find(context.tenantId, idempotency.recoveredResourceId);
        if (!raised) throw new NotFoundError('Escalation', idempotency.recoveredResourceId);
        return raised;
      }
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
        const escalation = await raise(
          complaint,
          {
            level: input.level,
            trigger: 'manual',
            reason: input.reason,
            actor: context.actor,
            writtenAtLevel: false,
          },
          tx,
        );
        await bindToKey(deps.idempotency, context.tenantId, idempotency, escalation!.id, tx);
        return escalation!;
      });
    },

    /**
     * A complaint made major is reported up to the department manager at once. Runs in the
     * transaction that made it major, which holds the complaint's row lock; returns it as it
     * then stands.
     */
    async escalateMajor(complaint: ComplaintRow, actor: ActorRecord, tx: Queryable): Promise<ComplaintRow> {
      if (complaint.escalationLevel >= MAJOR_COMPLAINT_LEVEL) return complaint;
      await raise(
        complaint,
        {
          level: MAJOR_COMPLAINT_LEVEL,
          trigger: 'major',
          reason: majorReason(complaint),
          actor,
          writtenAtLevel: false,
        },
        tx,
      );
      return (await complaints.findByKey(complaint.tenantId, complaint.id, {}, tx)) ?? complaint;
    },

    /**
     * Records the escalation of a major complaint taken in at {@link MAJOR_COMPLAINT_LEVEL}
     * already, in the transaction that took it in.
     */
    async recordMajorAtIntake(complaint: ComplaintRow, actor: ActorRecord, tx: Queryable): Promise<void> {
      await raise(
        complaint,
        {
          level: MAJOR_COMPLAINT_LEVEL,
          trigger: 'major',
          reason: majorReason(complaint),
          actor,
          writtenAtLevel: true,
        },
        tx,
      );
    },

    /**
     * A customer unsatisfied at the follow-up visit takes the complaint one level up (at most
     * {@link TOP_LEVEL}), in the transaction that reopened it; undefined when already at the top.
     */
    async escalateUnsatisfied(
      complaint: ComplaintRow,
      actor: ActorRecord,
      reason: string,
      tx: Queryable,
    ): Promise<EscalationRow | undefined> {
      if (complaint.escalationLevel >= TOP_LEVEL) return undefined;
      return raise(
        complaint,
        {
          level: complaint.escalationLevel + 1,
          trigger: 'unsatisfied',
          reason,
          actor,
          writtenAtLevel: false,
        },
        tx,
      );
    },

    async list(tenantId: string, complaintId: string): Promise<EscalationRow[]> {
      return escalations.listForComplaint(tenantId, complaintId);
    },

    /** The escalations of each complaint, in one query however many (GraphQL's nested `escalations`). */
    async listForComplaints(tenantId: string, complaintIds: readonly string[]) {
      const rows = await escalations.listForComplaints(tenantId, [...new Set(complaintIds)]);
      return groupBy(rows, (row) => row.complaintId);
    },
  };
}

export type EscalationsService = ReturnType<typeof createEscalationsService>;
