import type { Db, Tx } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/errors.js';
import { groupBy } from '../../lib/group-by.js';
import { newId } from '../../lib/ids.js';
import { type ActingContext, emitComplaintEvent, timelineEntry } from '../complaints/complaint-records.js';
import { isFinished } from '../complaints/complaint-status.js';
import type { ComplaintRow, ComplaintsRepository } from '../complaints/complaints.repository.js';
import type { DeadlinesService } from '../deadlines/deadlines.service.js';
import type { EventsRepository } from '../events/events.repository.js';
import type { IdempotencyRepository } from '../idempotency/idempotency.repository.js';
import { bindToKey, type IdempotencyBinding } from '../idempotency/idempotency-binding.js';
import { promiseStatusOf, toPromiseView } from './promise-views.js';
import type { PromisesRepository, PromiseWithDeadline } from './promises.repository.js';
import type { KeepPromiseInput, MakePromiseInput, WithdrawPromiseInput } from './promises.schemas.js';

/**
 * Promises to the customer (every promise tracked, seeds 000 and 002; DOMAIN §4 honesty): a
 * handler records what was promised and by when, and each becomes a `promise` deadline. Keeping
 * the promise meets it; the worker breaches it when it falls due unmet (the promise is then
 * broken, and the breach escalates like any other); withdrawing it, with a reason, cancels it.
 * The deadline is the one truth of the status. A promise outlives the complaint's status: closing,
 * rejecting or withdrawing the complaint leaves it owed.
 */
export function createPromisesService(deps: {
  db: Db;
  promises: PromisesRepository;
  complaints: Pick<ComplaintsRepository, 'findByKey' | 'appendTimeline'>;
  deadlines: Pick<DeadlinesService, 'openDeadlines' | 'meetByAction' | 'cancelDeadlines' | 'arm'>;
  events: EventsRepository;
  /** A promise made with an idempotency key points the key at the promise, in its transaction. */
  idempotency: Pick<IdempotencyRepository, 'bindResource'>;
  clock: Clock;
}) {
  const { db, promises, clock } = deps;

  async function complaintOf(context: ActingContext, key: string, tx: Db | Tx, forUpdate: boolean) {
    const complaint = await deps.complaints.findByKey(context.tenantId, key, { forUpdate }, tx);
    if (!complaint) throw new NotFoundError('Complaint', key);
    return complaint;
  }

  async function lockOpenPromise(
    complaint: ComplaintRow,
    id: string,
    action: string,
    tx: Tx,
    allowBroken: boolean,
  ): Promise<PromiseWithDeadline> {
    const found = await promises.find(complaint.tenantId, complaint.id, id, tx);
    if (!found) throw new NotFoundError('Promise', id);
    const status = promiseStatusOf(found.deadline);
    if (status !== 'open' && !(allowBroken && status === 'broken')) {
      throw new ConflictError('promise_not_open', 'The promise is settled', {
        detail: `Promise '${id}' is '${status}' and cannot be ${action}.`,
        extensions: { currentStatus: status },
      });
    }
    return found;
  }

  /** Records the change on the complaint's timeline and as its event, in the change's transaction. */
  async function record(
    context: ActingContext,
    complaint: ComplaintRow,
    type: 'promise.made' | 'promise.kept' | 'promise.withdrawn',
    promise: PromiseWithDeadline,
    data: Record<string, unknown>,
    tx: Tx,
  ) {
    const at = clock.now();
    await deps.complaints.appendTimeline(
      [timelineEntry(context, complaint.id, type, at, { data: { promiseId: promise.promise.id, ...data } })],
      tx,
    );
    await emitComplaintEvent(
      deps.events,
      context,
      complaint,
      type,
      at,
      { promise: toPromiseView(promise) },
      tx,
    );
  }

  async function reread(complaint: ComplaintRow, id: string, tx: Tx): Promise<PromiseWithDeadline> {
    return (await promises.find(complaint.tenantId, complaint.id, id, tx))!;
  }

  return {
    /** A promise of the complaint, with its deadline. */
    async get(context: ActingContext, key: string, id: string): Promise<PromiseWithDeadline> {
      const complaint = await complaintOf(context, key, db, false);
      const found = await promises.find(context.tenantId, complaint.id, id);
      if (!found) throw new NotFoundError('Promise', id);
      return found;
    },

    /** The complaint's promises, in the order they were made. */
    async list(context: ActingContext, key: string): Promise<PromiseWithDeadline[]> {
      const complaint = await complaintOf(context, key, db, false);
      return promises.listForComplaints(context.tenantId, [complaint.id]);
    },

    /** The promises of each complaint, in one query however many (GraphQL's nested `promises`). */
    async listForComplaints(tenantId: string, complaintIds: readonly string[]) {
      const rows = await promises.listForComplaints(tenantId, [...new Set(complaintIds)]);
      return groupBy(rows, (row) => row.promise.complaintId);
    },

    /** Records a promise made to the customer and starts its deadline, due when promised. */
    async make(
      context: ActingContext,
      key: string,
      input: MakePromiseInput,
      idempotency: IdempotencyBinding | null = null,
    ): Promise<PromiseWithDeadline> {
      if (idempotency?.recoveredResourceId) {
        const complaint = await complaintOf(context, key, db, false);
        const made = await promises.find(context.tenantId, complaint.id, idempotency.recoveredResourceId);
        if (!made) throw new NotFoundError('Promise', idempotency.recoveredResourceId);
        return made;
      }
      const now = clock.now();
      const dueAt = new Date(input.dueAt);
      if (dueAt.getTime() <= now.getTime()) {
        throw new ValidationError([{ field: 'body.dueAt', message: 'must be in the future' }]);
      }
      const result = await db.transaction(async (tx) => {
        const complaint = await complaintOf(context, key, tx, true);
        if (isFinished(complaint.status)) {
          throw new ConflictError('complaint_finished', 'The complaint is finished', {
            detail: `Complaint '${complaint.reference}' is '${complaint.status}'; no new promise is recorded on it.`,
            extensions: { currentStatus: complaint.status },
          });
        }
        const id = newId();
        const [deadline] = await deps.deadlines.openDeadlines(
          complaint,
          [{ kind: 'promise', startsAt: now, dueAt, sourceId: id }],
          tx,
        );
        const promise = await promises.insert(
          {
            id,
            tenantId: context.tenantId,
            complaintId: complaint.id,
            description: input.description,
            madeBy: input.madeBy ?? null,
            madeAt: now,
            deadlineId: deadline!.id,
            actor: context.actor,
            createdAt: now,
          },
          tx,
        );
        const made = { promise, deadline: deadline! };
        await record(
          context,
          complaint,
          'promise.made',
          made,
          { description: input.description, dueAt: dueAt.toISOString(), madeBy: promise.madeBy },
          tx,
        );
        await bindToKey(deps.idempotency, context.tenantId, idempotency, id, tx);
        return { made, effects: { toArm: [deadline!] } };
      });
      await deps.deadlines.arm(result.effects);
      return result.made;
    },

    /**
     * Records that a promise was kept, which meets its deadline. A broken promise kept late is
     * met late: it shows as kept, and its breach still counts.
     */
    async keep(context: ActingContext, key: string, id: string, input: KeepPromiseInput) {
      return db.transaction(async (tx) => {
        const complaint = await complaintOf(context, key, tx, true);
        const found = await lockOpenPromise(complaint, id, 'kept', tx, true);
        await promises.update(
          context.tenantId,
          id,
          { keptNote: input.note ?? null, keptBy: context.actor },
          tx,
        );
        // A broken (breached) deadline is met late and keeps its breach.
        await deps.deadlines.meetByAction(complaint, found.deadline.id, context.actor, tx);
        const kept = await reread(complaint, id, tx);
        await record(
          context,
          complaint,
          'promise.kept',
          kept,
          { note: input.note ?? null, late: kept.deadline.breachedAt !== null },
          tx,
        );
        return kept;
      });
    },

    /** Withdraws an open promise with the reason, which cancels its deadline. */
    async withdraw(context: ActingContext, key: string, id: string, input: WithdrawPromiseInput) {
      return db.transaction(async (tx) => {
        const complaint = await complaintOf(context, key, tx, true);
        const found = await lockOpenPromise(complaint, id, 'withdrawn', tx, false);
        await promises.update(
          context.tenantId,
          id,
          { withdrawalReason: input.reason, withdrawnBy: context.actor },
          tx,
        );
        await deps.deadlines.cancelDeadlines(complaint, [found.deadline.id], tx);
        const withdrawn = await reread(complaint, id, tx);
        await record(context, complaint, 'promise.withdrawn', withdrawn, { reason: input.reason }, tx);
        return withdrawn;
      });
    },
  };
}

export type PromisesService = ReturnType<typeof createPromisesService>;
