import { z } from 'zod';
import { EVENT_SCHEMAS } from './event-data.js';
import type { EventType } from './event-types.js';
import type { EventRow } from './events.repository.js';

/**
 * What every consumer receives, by webhook, pull feed or subscription: the Standard Webhooks
 * envelope, one shape per event type (event-data.ts), told apart by `type`. `data` holds the
 * tenant, the complaint (id, reference, per-complaint `sequence`) for complaint events, the
 * subjects as the REST API shows them, and the actor where someone acted.
 */
export const eventEnvelopeSchema = z
  .discriminatedUnion('type', Object.values(EVENT_SCHEMAS) as [EventSchema, ...EventSchema[]])
  .meta({
    id: 'Event',
    description:
      'An event of any type, told apart by `type`: each type has an envelope schema of its own. Personal data in it is masked, as on the complaint, for readers without `personal_data:read` and for webhook subscriptions with `personalData: masked`.',
  });

type EventSchema = (typeof EVENT_SCHEMAS)[EventType];

export type EventEnvelope = z.output<typeof eventEnvelopeSchema>;

/** The columns of a stored event its envelope is made from. */
export type StoredEvent = Pick<
  EventRow,
  'id' | 'type' | 'occurredAt' | 'tenantId' | 'complaintId' | 'reference' | 'sequence' | 'data'
>;

/**
 * The envelope of a stored event; the same bytes whichever way it leaves. The one place `data`
 * gets its tenant and, for a complaint event, the complaint, reference and sequence: writers store
 * only the rest (events.data).
 */
export function toEventEnvelope(row: StoredEvent): EventEnvelope {
  const about =
    row.complaintId === null
      ? { tenantId: row.tenantId }
      : {
          tenantId: row.tenantId,
          complaintId: row.complaintId,
          reference: row.reference ?? undefined,
          sequence: row.sequence ?? undefined,
        };
  return {
    id: row.id,
    type: row.type,
    timestamp: row.occurredAt.toISOString(),
    data: { ...about, ...row.data },
  } as EventEnvelope;
}
