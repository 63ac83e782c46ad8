import { and, asc, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { tenantBatchKey } from '../../db/distribution.js';
import { preparedStatement } from '../../db/prepared.js';
import { complaintIncidents, complaints } from '../../db/schema/index.js';
import { createBatcher } from '../../lib/batcher.js';
import type { ComplaintStatus } from '../complaints/complaint-status.js';
import { type ComplaintRow, INTAKE_BATCHING } from '../complaints/complaints.repository.js';
import type { MajorReason } from './major-rules.js';

export interface MajorComplaintFilters {
  reason?: MajorReason;
  statuses?: ComplaintStatus[];
  /** Keyset position: rows strictly after (majorSince, id) in most-recently-major-first order. */
  after?: { majorSince: Date; id: string };
}

/** One repeat-complaint question: did this customer complain in this category within (from, to]? */
export interface RepeatProbe {
  tenantId: string;
  customerKey: string;
  category: string;
  from: Date;
  to: Date;
  /** The complaint asking, when it exists already (an edit), so it does not find itself. */
  excludeId?: string;
}

/**
 * Whether each customer complained in a category within (from, to], for a batch of questions in
 * one statement (`probes`, a JSON array, each naming its tenant): every intake with a customer and
 * category asks, so the questions of complaints coming in together go together. The batch's
 * tenants are a value of their own as well (`tenantIds`), so that on Citus, where a batch holds
 * one tenant (tenantBatchKey), the statement runs where the tenant's complaints are. Prepared, so
 * it is planned once per connection rather than on every batch.
 *
 * Each answer counts the customer's complaints in the category within the window, a range of
 * complaints_tenant_customer_category_idx. The planner cannot see values that come out of JSON,
 * and a question with a LIMIT (any row in the window, or the latest one) let it walk another index
 * in received order, filtering on the customer: the tenant's received-at index, or once the
 * listing had one, its category index, through every complaint of the category. Counted, every
 * such walk is costed at all it reads, and only the customer index answers.
 */
export const complaintFromCustomerInCategory = preparedStatement<
  { tenantIds: string[]; probes: string },
  { found: boolean }
>(
  'complaint_from_customer_in_category',
  sql`select (
    select count(*) > 0 from ${complaints}
    where ${complaints.tenantId} = any(${sql.placeholder('tenantIds')}::uuid[])
      and ${complaints.tenantId} = (q.probe->>'tenantId')::uuid
      and ${complaints.customerKey} = q.probe->>'customerKey'
      and ${complaints.category} = q.probe->>'category'
      and ${complaints.receivedAt} > (q.probe->>'from')::timestamptz
      and ${complaints.receivedAt} <= (q.probe->>'to')::timestamptz
      and (q.probe->>'excludeId' is null or ${complaints.id} <> (q.probe->>'excludeId')::uuid)
  ) as found
  from jsonb_array_elements(${sql.placeholder('probes')}::jsonb) with ordinality as q(probe, ord)
  order by q.ord`,
);

/** The statement's values for these questions. */
export function repeatProbeValues(probes: readonly RepeatProbe[]): { tenantIds: string[]; probes: string } {
  return { tenantIds: [...new Set(probes.map((probe) => probe.tenantId))], probes: repeatProbesJson(probes) };
}

const repeatProbesJson = (probes: readonly RepeatProbe[]): string =>
  JSON.stringify(
    probes.map((probe) => ({
      tenantId: probe.tenantId,
      customerKey: probe.customerKey,
      category: probe.category,
      from: probe.from.toISOString(),
      to: probe.to.toISOString(),
      excludeId: probe.excludeId ?? null,
    })),
  );

async function answerRepeatProbes(tx: Queryable, probes: RepeatProbe[]): Promise<boolean[]> {
  const result = await complaintFromCustomerInCategory.execute(tx, repeatProbeValues(probes));
  return result.rows.map((row) => row.found);
}

/** SQL of the major-complaint rules and file: repeat lookups, incident locks and counts, the listing. */
export function createMajorComplaintsRepository(db: Queryable) {
  const batchKeyOf = tenantBatchKey(db);
  // Intake's questions, outside any transaction: those of complaints coming in together go in one
  // statement, as their complaints do (see createComplaintsRepository).
  const repeatProbes = createBatcher({
    ...INTAKE_BATCHING,
    run: (probes: RepeatProbe[]) => answerRepeatProbes(db, probes),
    batchKey: (probe) => batchKeyOf(probe.tenantId),
    maxBatch: 64,
    // A read has no item of its own that could fail it: a batch that fails, fails for all.
    retryAlone: () => false,
  });
  return {
    /**
     * Whether the customer complained in this category within (from, to]: the customer's latest
     * entry in complaints_tenant_customer_category_idx (test/query-plans.test.ts holds it to that).
     * Inside a transaction it is asked alone; outside, with whatever else is asked now.
     */
    async hasComplaintFromCustomer(probe: RepeatProbe, tx?: Queryable): Promise<boolean> {
      if (tx) return (await answerRepeatProbes(tx, [probe]))[0] === true;
      return repeatProbes.submit(probe);
    },

    /**
     * Serialises everything that links complaints to one incident until the transaction ends, so
     * complaints arriving together cannot each miss the others when counting towards collective:
     * locks the incident's row in complaint_incidents, writing it the first time. Taken before any
     * complaint row lock, always, so it cannot deadlock with them. ON CONFLICT locks the row it
     * finds before it weighs the WHERE, which is false, so a lock writes nothing.
     */
    async lockIncident(tenantId: string, incidentKey: string, tx: Queryable): Promise<void> {
      await tx.execute(sql`
        insert into ${complaintIncidents} (tenant_id, incident_key) values (${tenantId}, ${incidentKey})
        on conflict (tenant_id, incident_key) do update set incident_key = excluded.incident_key where false`);
    },

    /**
     * How many complainants the incident's complaints that were not rejected come from (DOMAIN §2:
     * 三家以上, three or more complainants), with `newcomer` counted too when given (intake, before
     * its row exists). A customer is known by their identity key; a complaint without one counts
     * as a complainant of its own.
     */
    async countLinked(
      tenantId: string,
      incidentKey: string,
      tx: Queryable = db,
      newcomer?: { customerKey: string | null },
    ): Promise<number> {
      const result = await tx.execute<{ n: number }>(sql`
        select count(distinct complainant)::int as n from (
          select coalesce(${complaints.customerKey}, ${complaints.id}::text) as complainant
          from ${complaints}
          where ${complaints.tenantId} = ${tenantId}::uuid and ${complaints.incidentKey} = ${incidentKey}::text
            and ${complaints.status} <> 'rejected'
          ${newcomer ? sql`union all select coalesce(${newcomer.customerKey}::text, 'newcomer')` : sql``}
        ) linked`);
      return Number(result.rows[0]?.n ?? 0);
    },

    /** Locks the complaints linked to the incident that lack a reason, in id order. */
    async lockLinkedLacking(
      tenantId: string,
      incidentKey: string,
      reason: MajorReason,
      tx: Queryable,
    ): Promise<ComplaintRow[]> {
      return tx
        .select()
        .from(complaints)
        .where(
          and(
            eq(complaints.tenantId, tenantId),
            eq(complaints.incidentKey, incidentKey),
            sql`not (${reason}::major_reason = any(${complaints.majorReasons}))`,
          ),
        )
        .orderBy(asc(complaints.id))
        .for('update');
    },

    /**
     * One page of the major-complaint file; `limit + 1` rows tell whether another page exists.
     * Returned as the query, to await: tests EXPLAIN it as the API sends it (toSQL).
     */
    list(tenantId: string, filters: MajorComplaintFilters, limit: number, tx: Queryable = db) {
      const conditions: (SQL | undefined)[] = [
        eq(complaints.tenantId, tenantId),
        // Matches the partial index complaints_tenant_major_idx: only major complaints have it.
        sql`${complaints.majorSince} is not null`,
      ];
      if (filters.reason) {
        conditions.push(sql`${filters.reason}::major_reason = any(${complaints.majorReasons})`);
      }
      if (filters.statuses?.length) conditions.push(inArray(complaints.status, filters.statuses));
      if (filters.after) {
        conditions.push(
          sql`(${complaints.majorSince}, ${complaints.id}) < (${filters.after.majorSince}, ${filters.after.id})`,
        );
      }
      return tx
        .select()
        .from(complaints)
        .where(and(...conditions))
        .orderBy(desc(complaints.majorSince), desc(complaints.id))
        .limit(limit + 1);
    },
  };
}

export type MajorComplaintsRepository = ReturnType<typeof createMajorComplaintsRepository>;
