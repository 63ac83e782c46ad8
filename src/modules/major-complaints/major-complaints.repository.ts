import { and, asc, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { preparedStatement } from '../../db/prepared.js';
import { complaints } from '../../db/schema/index.js';
import type { ComplaintStatus } from '../complaints/complaint-status.js';
import type { ComplaintRow } from '../complaints/complaints.repository.js';
import type { MajorReason } from './major-rules.js';

export interface MajorComplaintFilters {
  reason?: MajorReason;
  statuses?: ComplaintStatus[];
  /** Keyset position: rows strictly after (majorSince, id) in most-recently-major-first order. */
  after?: { majorSince: Date; id: string };
}

/**
 * Whether a customer complained in a category within (from, to]. Every intake with a customer and
 * category asks it: prepared, so it is planned once per connection rather than on every complaint.
 */
export const complaintFromCustomerInCategory = preparedStatement<
  {
    tenantId: string;
    customerKey: string;
    category: string;
    from: string;
    to: string;
    excludeId: string | null;
  },
  { found: boolean }
>(
  'complaint_from_customer_in_category',
  sql`select exists (
    select 1 from ${complaints}
    where ${complaints.tenantId} = ${sql.placeholder('tenantId')}::uuid
      and ${complaints.customerKey} = ${sql.placeholder('customerKey')}::text
      and ${complaints.category} = ${sql.placeholder('category')}::text
      and ${complaints.receivedAt} > ${sql.placeholder('from')}::timestamptz
      and ${complaints.receivedAt} <= ${sql.placeholder('to')}::timestamptz
      and (${sql.placeholder('excludeId')}::uuid is null or ${complaints.id} <> ${sql.placeholder('excludeId')}::uuid)
  ) as found`,
);

/** SQL of the major-complaint rules and file: repeat lookups, incident locks and counts, the listing. */
export function createMajorComplaintsRepository(db: Queryable) {
  return {
    /**
     * Whether the customer complained in this category within (from, to]: one probe of
     * complaints_tenant_customer_category_idx, stopping at the first row (test/query-plans.test.ts
     * holds it to that).
     */
    async hasComplaintFromCustomer(
      input: {
        tenantId: string;
        customerKey: string;
        category: string;
        from: Date;
        to: Date;
        /** The complaint asking, when it exists already (an edit), so it does not find itself. */
        excludeId?: string;
      },
      tx: Queryable = db,
    ): Promise<boolean> {
      const result = await complaintFromCustomerInCategory.execute(tx, {
        tenantId: input.tenantId,
        customerKey: input.customerKey,
        category: input.category,
        from: input.from.toISOString(),
        to: input.to.toISOString(),
        excludeId: input.excludeId ?? null,
      });
      return result.rows[0]?.found === true;
    },

    /**
     * Serialises everything that links complaints to one incident until the transaction ends, so
     * complaints arriving together cannot each miss the others when counting towards collective.
     * Taken before any complaint row lock, always, so it cannot deadlock with them.
     */
    async lockIncident(tenantId: string, incidentKey: string, tx: Queryable): Promise<void> {
      await tx.execute(
        sql`select pg_advisory_xact_lock(hashtextextended(${`${tenantId}:${incidentKey}`}, 0))`,
      );
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
