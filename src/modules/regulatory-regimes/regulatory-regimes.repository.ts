import { sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import type { DeadlineKind } from '../sla-policies/sla-targets.js';
import type { GovernedComplaint } from './regime-compliance.js';

interface GovernedRow extends Record<string, unknown> {
  complaint_id: string;
  received_at: string;
  closed: boolean;
  calendar_id: string | null;
  kind: DeadlineKind;
  met_at: string | null;
  breached: boolean;
  extensions: number;
}

export function createRegulatoryRegimesRepository(db: Queryable) {
  return {
    /**
     * The complaints received in [start, end) with a deadline from a policy made from `regime`,
     * each with the first deadline of every kind that policy set.
     */
    async governedComplaints(
      tenantId: string,
      regime: string,
      period: { start: Date; end: Date },
      tx: Queryable = db,
    ): Promise<GovernedComplaint[]> {
      const result = await tx.execute<GovernedRow>(sql`
        select distinct on (c.id, d.kind)
          c.id as complaint_id, c.received_at, c.status in ('resolved', 'closed') as closed,
          p.calendar_id, d.kind, d.met_at, d.breached_at is not null as breached, d.extensions
        from complaints c
        join deadlines d on d.tenant_id = c.tenant_id and d.complaint_id = c.id
        join sla_policies p on p.tenant_id = d.tenant_id and p.id = d.policy_id
        where c.tenant_id = ${tenantId}
          and c.received_at >= ${period.start.toISOString()} and c.received_at < ${period.end.toISOString()}
          and p.regime = ${regime}
        order by c.id, d.kind, d.created_at, d.id`);
      const byComplaint = new Map<string, GovernedComplaint>();
      for (const row of result.rows) {
        let complaint = byComplaint.get(row.complaint_id);
        if (!complaint) {
          complaint = {
            complaintId: row.complaint_id,
            receivedAt: new Date(row.received_at),
            closed: row.closed,
            calendarId: row.calendar_id,
            deadlines: [],
          };
          byComplaint.set(row.complaint_id, complaint);
        }
        complaint.deadlines.push({
          kind: row.kind,
          metAt: row.met_at ? new Date(row.met_at) : null,
          breached: row.breached,
          extensions: Number(row.extensions),
        });
      }
      return [...byComplaint.values()];
    },
  };
}

export type RegulatoryRegimesRepository = ReturnType<typeof createRegulatoryRegimesRepository>;
