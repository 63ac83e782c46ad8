import type { Db, Queryable, Tx } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { ConflictError, NotFoundError, PreconditionFailedError } from '../../lib/errors.js';
import { ifMatchSatisfied } from '../../lib/etag.js';
import { groupBy } from '../../lib/group-by.js';
import { newId } from '../../lib/ids.js';
import { type ActingContext, emitComplaintEvent, timelineEntry } from '../complaints/complaint-records.js';
import { complaintEtag, toComplaintView } from '../complaints/complaint-views.js';
import type { ComplaintRow, ComplaintsRepository } from '../complaints/complaints.repository.js';
import type { ComplaintState } from '../complaints/complaints.service.js';
import type { DeadlinesService } from '../deadlines/deadlines.service.js';
import type { EventsRepository } from '../events/events.repository.js';
import type { ConflictRow, OwnershipRepository } from './ownership.repository.js';
import type { ConflictInput, ConflictView, HandoverInput } from './ownership.schemas.js';
import { describeRecusal, type Recusal, recusalOf, sameStaff } from './recusal.js';

/** The conflict declaration as the REST API and events show it. */
export function toConflictView(row: ConflictRow): ConflictView {
  return {
    id: row.id,
    complaintId: row.complaintId,
    staff: row.staff,
    reason: row.reason,
    declaredBy: row.declaredBy,
    createdAt: row.createdAt.toISOString(),
  };
}

/** 409 `conflict_of_interest`: the person may not handle the complaint; `detail` says why. */
export function conflictOfInterestError(recusal: Recusal, detail: string): ConflictError {
  return new ConflictError('conflict_of_interest', 'Conflict of interest', {
    detail,
    extensions: { staff: recusal.staff, basis: recusal.basis },
  });
}

/**
 * Ownership and recusal (DOMAIN §1 首问负责, §4 回避原则): the first receiver owns a complaint until
 * it is handed over to a named person; nobody the complaint is about, or who declared a conflict
 * of interest in it, may own it.
 */
export function createOwnershipService(deps: {
  db: Db;
  complaints: Pick<ComplaintsRepository, 'findByKey' | 'update' | 'appendTimeline'>;
  ownership: OwnershipRepository;
  events: EventsRepository;
  deadlines: Pick<DeadlinesService, 'nextPendingFor'>;
  clock: Clock;
}) {
  const { db, complaints, ownership, events, clock } = deps;

  async function stateOf(row: ComplaintRow, tx: Queryable): Promise<ComplaintState> {
    const next = await deps.deadlines.nextPendingFor(row.tenantId, [row.id], tx);
    return { row, nextDeadline: next.get(row.id) };
  }

  /** Refuses, with 409 `conflict_of_interest`, to let `staff` handle the complaint. */
  async function assertMayHandle(
    complaint: ComplaintRow,
    staff: string,
    subjectStaff: readonly string[],
    tx: Queryable,
  ): Promise<void> {
    // The subject list is known without a query; the declared conflicts need one.
    const asSubject = recusalOf(staff, subjectStaff, []);
    if (asSubject) throw conflictOfInterestError(asSubject, describeRecusal(asSubject, complaint.reference));
    const conflicts = await ownership.listConflicts(complaint.tenantId, complaint.id, tx);
    const recusal = recusalOf(staff, [], conflicts);
    if (recusal) throw conflictOfInterestError(recusal, describeRecusal(recusal, complaint.reference));
  }

  /** Hands a locked complaint to `to`: the new assignee, on the timeline and in two events. */
  async function handOverLocked(
    context: ActingContext,
    current: ComplaintRow,
    to: string,
    reason: string,
    tx: Tx,
  ): Promise<ComplaintRow> {
    if (current.assignee !== null && sameStaff(current.assignee, to)) {
      throw new ConflictError('already_owner', 'Already the owner', {
        detail: `'${to}' already owns complaint '${current.reference}'; name someone else to hand it over to.`,
        extensions: { assignee: current.assignee },
      });
    }
    await assertMayHandle(current, to, current.subjectStaff, tx);
    const now = clock.now();
    const updated = await complaints.update(context.tenantId, current.id, { assignee: to }, now, tx);
    await complaints.appendTimeline(
      [
        timelineEntry(context, current.id, 'complaint.handed_over', now, {
          changes: [{ field: 'assignee', before: current.assignee, after: to }],
          data: { from: current.assignee, to, reason },
        }),
      ],
      tx,
    );
    const view = toComplaintView(updated, (await stateOf(updated, tx)).nextDeadline);
    await emitComplaintEvent(
      events,
      context,
      updated,
      'complaint.handed_over',
      now,
      { complaint: view, from: current.assignee, to, reason },
      tx,
    );
    // Consumers that follow assignments see a handover as one too.
    await emitComplaintEvent(
      events,
      context,
      updated,
      'complaint.assigned',
      now,
      { complaint: view, previousAssignee: current.assignee },
      tx,
    );
    return updated;
  }

  async function lockComplaint(context: ActingContext, key: string, tx: Tx, ifMatch?: string) {
    const current = await complaints.findByKey(context.tenantId, key, { forUpdate: true }, tx);
    if (!current) throw new NotFoundError('Complaint', key);
    if (ifMatch && !ifMatchSatisfied(ifMatch, complaintEtag(current))) {
      throw new PreconditionFailedError('Complaint', key, complaintEtag(current));
    }
    return current;
  }

  return {
    assertMayHandle,

    /** The owner hands the complaint over to a named person, with a reason. */
    async handOver(
      context: ActingContext,
      key: string,
      input: HandoverInput,
      ifMatch?: string,
    ): Promise<ComplaintState> {
      return db.transaction(async (tx) => {
        const current = await lockComplaint(context, key, tx, ifMatch);
        const updated = await handOverLocked(context, current, input.to, input.reason, tx);
        return stateOf(updated, tx);
      });
    },

    /**
     * Records a conflict of interest. When the person owns the complaint, `handoverTo` hands it
     * over in the same transaction, so a conflicted owner never keeps it, not even for a moment.
     */
    async declareConflict(
      context: ActingContext,
      key: string,
      input: ConflictInput,
    ): Promise<{ conflict: ConflictRow; complaint: ComplaintState }> {
      return db.transaction(async (tx) => {
        let current = await lockComplaint(context, key, tx);
        const now = clock.now();
        const conflict = await ownership.insertConflict(
          {
            id: newId(),
            tenantId: context.tenantId,
            complaintId: current.id,
            staff: input.staff,
            reason: input.reason,
            declaredBy: context.actor,
            createdAt: now,
          },
          tx,
        );
        if (!conflict) {
          throw new ConflictError('conflict_already_declared', 'Conflict already declared', {
            detail: `A conflict of interest of '${input.staff}' in complaint '${current.reference}' is already declared.`,
          });
        }
        const ownsIt = current.assignee !== null && sameStaff(current.assignee, input.staff);
        if (ownsIt && !input.handoverTo) {
          throw conflictOfInterestError(
            { staff: input.staff, basis: 'declared_conflict', reason: input.reason },
            `'${input.staff}' owns complaint '${current.reference}' and may not keep it with a conflict of ` +
              'interest; send `handoverTo` to hand it over in the same request.',
          );
        }
        await complaints.appendTimeline(
          [
            timelineEntry(context, current.id, 'complaint.conflict_declared', now, {
              data: { conflictId: conflict.id, staff: conflict.staff, reason: conflict.reason },
            }),
          ],
          tx,
        );
        await emitComplaintEvent(
          events,
          context,
          current,
          'complaint.conflict_declared',
          now,
          {
            conflict: toConflictView(conflict),
            complaint: toComplaintView(current, (await stateOf(current, tx)).nextDeadline),
          },
          tx,
        );
        if (input.handoverTo) {
          current = await handOverLocked(
            context,
            current,
            input.handoverTo,
            `Conflict of interest of '${input.staff}': ${input.reason}`,
            tx,
          );
        }
        return { conflict, complaint: await stateOf(current, tx) };
      });
    },

    /** The conflicts declared in a complaint, oldest first. */
    async listConflicts(tenantId: string, key: string): Promise<ConflictRow[]> {
      const complaint = await complaints.findByKey(tenantId, key);
      if (!complaint) throw new NotFoundError('Complaint', key);
      return ownership.listConflicts(tenantId, complaint.id);
    },

    /** The conflicts declared in each complaint, for a whole page of complaints in one query. */
    async listConflictsOfComplaints(
      tenantId: string,
      complaintIds: readonly string[],
    ): Promise<Map<string, ConflictRow[]>> {
      const rows = await ownership.listConflictsOfComplaints(tenantId, [...new Set(complaintIds)]);
      return groupBy(rows, (row) => row.complaintId);
    },
  };
}

export type OwnershipService = ReturnType<typeof createOwnershipService>;
