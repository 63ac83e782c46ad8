import { and, eq, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { complaints, events } from '../../db/schema/index.js';
import { randomBase62 } from '../../lib/ids.js';

export type EventRow = typeof events.$inferSelect;

/** Names of the events Redress emits; the events issue delivers them by webhook, feed and subscription. */
export type EventType =
  | 'complaint.created'
  | 'complaint.updated'
  | 'complaint.status_changed'
  | 'complaint.reopened'
  | 'complaint.assigned'
  | 'communication.recorded'
  | 'deadline.warning'
  | 'deadline.breached'
  | 'deadline.met';

export interface ComplaintEventInput {
  tenantId: string;
  complaint: { id: string; reference: string };
  type: EventType;
  occurredAt: Date;
  /** The subject as the REST API shows it, under its own name (`complaint`, `deadline`, …). */
  payload: Record<string, unknown>;
}

/** A new event id: `evt_` and 24 random base62 characters. */
export const newEventId = (): string => `evt_${randomBase62(24)}`;

export function createEventsRepository(db: Queryable) {
  async function nextSequence(tenantId: string, complaintId: string, tx: Queryable): Promise<number> {
    const [numbered] = await tx
      .update(complaints)
      .set({ eventSequence: sql`${complaints.eventSequence} + 1` })
      .where(and(eq(complaints.tenantId, tenantId), eq(complaints.id, complaintId)))
      .returning({ sequence: complaints.eventSequence });
    return numbered!.sequence;
  }

  return {
    /**
     * Appends an event about a complaint inside the caller's transaction, numbering it in the
     * complaint's own sequence. Must run in the transaction that made the change it reports.
     */
    async appendForComplaint(input: ComplaintEventInput, tx: Queryable = db): Promise<EventRow> {
      const sequence = await nextSequence(input.tenantId, input.complaint.id, tx);
      const [row] = await tx
        .insert(events)
        .values({
          id: newEventId(),
          tenantId: input.tenantId,
          type: input.type,
          complaintId: input.complaint.id,
          sequence,
          occurredAt: input.occurredAt,
          data: {
            tenantId: input.tenantId,
            complaintId: input.complaint.id,
            reference: input.complaint.reference,
            sequence,
            ...input.payload,
          },
        })
        .returning();
      return row!;
    },
  };
}

export type EventsRepository = ReturnType<typeof createEventsRepository>;
