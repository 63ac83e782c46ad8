import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { tableRowFromRaw } from '../../db/raw-rows.js';
import { type ActorRecord, type EscalationTarget, escalations } from '../../db/schema/index.js';
import { withTraceContext } from '../../db/trace-context.js';

export type EscalationRow = typeof escalations.$inferSelect;

export function createEscalationsRepository(db: Queryable) {
  return {
    /**
     * Raises a complaint and records why, in one round trip (escalate_complaint in ./sql/, which
     * the worker's breach path matches): the escalation, the complaint's new level, the
     * timeline entry and the `complaint.escalated` event. `writtenAtLevel`: the complaint was
     * inserted at this level already (a major complaint at intake).
     */
    async escalate(
      input: {
        id: string;
        eventId: string;
        tenantId: string;
        complaintId: string;
        level: number;
        trigger: EscalationRow['trigger'];
        reason: string;
        targets: EscalationTarget[];
        actor: ActorRecord;
        at: Date;
        writtenAtLevel: boolean;
      },
      tx: Queryable = db,
    ): Promise<EscalationRow | undefined> {
      const result = await withTraceContext(tx, (q) =>
        q.execute<Record<string, unknown>>(sql`
        select * from escalate_complaint(${input.id}::uuid, ${input.eventId}::text, ${input.tenantId}::uuid,
          ${input.complaintId}::uuid, ${input.level}::smallint, ${input.trigger}::escalation_trigger, ${input.reason}::text,
          null::uuid, ${JSON.stringify(input.targets)}::jsonb, ${JSON.stringify(input.actor)}::jsonb,
          ${input.at}::timestamptz, ${input.writtenAtLevel}::boolean)`),
      );
      const raw = result.rows[0];
      return raw?.id ? tableRowFromRaw(escalations, raw) : undefined;
    },

    /** An escalation of this tenant by id. */
    async find(tenantId: string, id: string, tx: Queryable = db): Promise<EscalationRow | undefined> {
      const [row] = await tx
        .select()
        .from(escalations)
        .where(and(eq(escalations.tenantId, tenantId), eq(escalations.id, id)));
      return row;
    },

    async listForComplaint(tenantId: string, complaintId: string, tx: Queryable = db) {
      return tx
        .select()
        .from(escalations)
        .where(and(eq(escalations.tenantId, tenantId), eq(escalations.complaintId, complaintId)))
        .orderBy(asc(escalations.createdAt), asc(escalations.level));
    },

    /** The escalations of several complaints in one query, each complaint's oldest first. */
    async listForComplaints(tenantId: string, complaintIds: string[], tx: Queryable = db) {
      if (complaintIds.length === 0) return [];
      return tx
        .select()
        .from(escalations)
        .where(and(eq(escalations.tenantId, tenantId), inArray(escalations.complaintId, complaintIds)))
        .orderBy(asc(escalations.createdAt), asc(escalations.level));
    },
  };
}

export type EscalationsRepository = ReturnType<typeof createEscalationsRepository>;
