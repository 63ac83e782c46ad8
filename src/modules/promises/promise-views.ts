import { toDeadlineView } from '../deadlines/deadline-views.js';
import type { PromiseWithDeadline } from './promises.repository.js';
import type { PromiseStatus, PromiseView } from './promises.schemas.js';

const isoOrNull = (date: Date | null) => (date ? date.toISOString() : null);

/** A promise's status, read from its deadline (one truth: the worker breaches the deadline, not the promise). */
export function promiseStatusOf(deadline: PromiseWithDeadline['deadline']): PromiseStatus {
  switch (deadline.status) {
    case 'met':
      return 'kept';
    case 'breached':
      return 'broken';
    case 'cancelled':
      return 'withdrawn';
    default:
      return 'open';
  }
}

/** The promise as the REST API, GraphQL and events show it. */
export function toPromiseView({ promise, deadline }: PromiseWithDeadline): PromiseView {
  return {
    id: promise.id,
    complaintId: promise.complaintId,
    description: promise.description,
    madeBy: promise.madeBy,
    madeAt: promise.madeAt.toISOString(),
    dueAt: deadline.dueAt.toISOString(),
    status: promiseStatusOf(deadline),
    keptAt: isoOrNull(deadline.metAt),
    keptLate: deadline.metAt !== null && deadline.breachedAt !== null,
    keptNote: promise.keptNote,
    brokenAt: isoOrNull(deadline.breachedAt),
    withdrawnAt: isoOrNull(deadline.cancelledAt),
    withdrawalReason: promise.withdrawalReason,
    deadline: toDeadlineView(deadline),
    actor: promise.actor,
    createdAt: promise.createdAt.toISOString(),
  };
}
