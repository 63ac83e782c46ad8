import { z } from 'zod';
import { EVENT_TYPES } from './event-types.js';
import type { EventRow } from './events.repository.js';

/**
 * What every consumer receives, by webhook, pull feed or subscription: the Standard Webhooks
 * envelope. `data` holds the tenant, the complaint (id, reference, per-complaint `sequence`) for
 * complaint events, the subject as the REST API shows it, and the actor where a person acted.
 */
export const eventEnvelopeSchema = z
  .object({
    id: z.string().describe('`evt_…`; the same in every delivery, retry, redelivery and the feed.'),
    type: z.enum(EVENT_TYPES),
    timestamp: z.string().describe('When the change happened (ISO-8601, UTC).'),
    data: z
      .object({
        tenantId: z.uuid(),
        complaintId: z.uuid().optional(),
        reference: z.string().optional(),
        sequence: z
          .number()
          .int()
          .optional()
          .describe('Per-complaint event number, gap-free and increasing: order and de-duplicate by it.'),
      })
      .catchall(z.unknown())
      .describe(
        'Complaint events add `complaint`, `deadline`, `communication` or `escalation` (the subject as the REST API shows it) and `actor`. ' +
          'Personal data in them is masked, as on the complaint, for readers without `personal_data:read` and for webhook subscriptions with `personalData: masked`.',
      ),
  })
  .meta({ id: 'Event' });

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
    type: row.type as EventEnvelope['type'],
    timestamp: row.occurredAt.toISOString(),
    data: { ...about, ...row.data } as EventEnvelope['data'],
  };
}
