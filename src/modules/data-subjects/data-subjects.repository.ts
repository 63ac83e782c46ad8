import { and, asc, desc, eq, inArray, isNull, or, type SQL, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import {
  communications,
  complaints,
  customerEmailKey,
  customerPhoneKey,
  emailBesideKey,
  events,
  phoneBesideKey,
} from '../../db/schema/index.js';
import type { CommunicationRow } from '../complaints/complaints.repository.js';
import type { EventRow } from '../events/events.repository.js';
import type { DataSubject } from './data-subject.js';

/**
 * Which of a tenant's complaints are a data subject's. A complaint's customer_key holds only the
 * first of its customer's external id, phone and email (customerIdentityKey), so a phone or an
 * email is looked up twice: as the key (complaints_tenant_customer_category_idx) and beside it,
 * where an external id or a phone came first (complaints_tenant_phone_key_idx,
 * complaints_tenant_email_key_idx, whose predicates phoneBesideKey and emailBesideKey repeat
 * here word for word so the planner can use them). An external id is always the key. Each is an
 * index probe, whatever the tenant's size. The one home of this lookup: the keyed blind index
 * that issue 19 plans for encrypted identifiers replaces it here.
 */
export function subjectComplaintsCondition(tenantId: string, subject: DataSubject): SQL {
  const byKey = eq(complaints.customerKey, subject.key);
  const beside =
    subject.identifier === 'phone'
      ? sql`(${phoneBesideKey(complaints)} and ${customerPhoneKey(complaints)} = ${subject.key})`
      : subject.identifier === 'email'
        ? sql`(${emailBesideKey(complaints)} and ${customerEmailKey(complaints)} = ${subject.key})`
        : undefined;
  return and(eq(complaints.tenantId, tenantId), beside ? or(byKey, beside) : byKey)!;
}

/** SQL of access exports: a data subject's complaints, their communications and events. */
export function createDataSubjectsRepository(db: Queryable) {
  return {
    /** The query of subjectComplaintIds, unrun: tests EXPLAIN it. */
    subjectComplaintsQuery(tenantId: string, subject: DataSubject, limit: number, tx: Queryable = db) {
      return tx
        .select({ id: complaints.id })
        .from(complaints)
        .where(subjectComplaintsCondition(tenantId, subject))
        .orderBy(desc(complaints.receivedAt), desc(complaints.id))
        .limit(limit);
    },

    /** The ids of up to `limit` of the subject's complaints, newest received first. */
    async subjectComplaintIds(
      tenantId: string,
      subject: DataSubject,
      limit: number,
      tx: Queryable = db,
    ): Promise<string[]> {
      const rows = await this.subjectComplaintsQuery(tenantId, subject, limit, tx);
      return rows.map((row) => row.id);
    },

    /** Every communication of these complaints, by complaint, oldest first (communications_complaint_idx). */
    async communicationsOf(
      tenantId: string,
      complaintIds: string[],
      tx: Queryable = db,
    ): Promise<CommunicationRow[]> {
      if (complaintIds.length === 0) return [];
      return tx
        .select()
        .from(communications)
        .where(and(eq(communications.tenantId, tenantId), inArray(communications.complaintId, complaintIds)))
        .orderBy(asc(communications.complaintId), asc(communications.occurredAt), asc(communications.id));
    },

    /**
     * The events of these complaints still kept, oldest first. No index leads with the complaint:
     * one would cost every event written, the hottest insert there is, for a call a DPO makes a
     * few times a month. This reads the tenant's retained events (30 days) by the primary key,
     * one tenant's range, on Citus one shard.
     */
    async eventsOf(tenantId: string, complaintIds: string[], tx: Queryable = db): Promise<EventRow[]> {
      if (complaintIds.length === 0) return [];
      return tx
        .select()
        .from(events)
        .where(
          and(
            eq(events.tenantId, tenantId),
            inArray(events.complaintId, complaintIds),
            isNull(events.subscriptionId),
          ),
        )
        .orderBy(asc(events.position));
    },
  };
}

export type DataSubjectsRepository = ReturnType<typeof createDataSubjectsRepository>;
