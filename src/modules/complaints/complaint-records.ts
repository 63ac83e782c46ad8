import type { Queryable } from '../../db/client.js';
import type { ActorRecord } from '../../db/schema/index.js';
import type { ComplaintEventType } from '../events/event-types.js';
import type { EventsRepository } from '../events/events.repository.js';
import type { ComplaintRow, NewTimelineRow, TimelineRow } from './complaints.repository.js';

/** Who is acting and for which tenant: every service call starts from this. */
export interface ActingContext {
  tenantId: string;
  actor: ActorRecord;
}

/** The actor of what Redress does by itself: rules that fire, clocks that run out. */
export const SYSTEM_ACTOR: ActorRecord = { type: 'system', id: null, name: 'redress', onBehalfOf: null };

/** A timeline entry of a complaint by the acting caller. */
export function timelineEntry(
  context: ActingContext,
  complaintId: string,
  type: string,
  at: Date,
  extra: Pick<NewTimelineRow, 'changes' | 'data'>,
): NewTimelineRow {
  return { tenantId: context.tenantId, complaintId, type, actor: context.actor, occurredAt: at, ...extra };
}

/**
 * The actor columns of a timeline entry, from the record. A person's id is their token's subject,
 * which is no UUID, so it has a column of its own.
 */
export function actorColumns(actor: ActorRecord) {
  const person = actor.type === 'user';
  return {
    actorType: actor.type,
    actorId: person ? null : actor.id,
    actorSubject: person ? actor.id : null,
    actorName: actor.name,
    actorOnBehalfOf: actor.onBehalfOf,
  };
}

/** The actor of a timeline entry, from its columns. */
export function timelineActor(
  row: Pick<TimelineRow, 'actorType' | 'actorId' | 'actorSubject' | 'actorName' | 'actorOnBehalfOf'>,
): ActorRecord {
  return {
    type: row.actorType,
    id: row.actorType === 'user' ? row.actorSubject : row.actorId,
    name: row.actorName,
    onBehalfOf: row.actorOnBehalfOf,
  };
}

/** Appends an event about a complaint, with the acting caller, in the transaction that made the change. */
export function emitComplaintEvent(
  events: Pick<EventsRepository, 'appendForComplaint'>,
  context: ActingContext,
  row: Pick<ComplaintRow, 'id' | 'reference'>,
  type: ComplaintEventType,
  at: Date,
  payload: Record<string, unknown>,
  tx: Queryable,
) {
  return events.appendForComplaint(
    {
      tenantId: context.tenantId,
      complaint: row,
      type,
      occurredAt: at,
      payload: { ...payload, actor: context.actor },
    },
    tx,
  );
}
