import { and, eq, max, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { complaintTimeline, tenants, timelineDigests } from '../../db/schema/index.js';

/** The first entry whose stored link differs from the link recomputed from the entries before it. */
export interface ChainMismatch {
  entryId: number;
  /** Its place in the complaint's timeline as it now stands, 1 for the first entry. */
  position: number;
  /** The entry before it now; a gap between the two is where entries went missing. */
  previousEntryId: number | null;
  stored: Buffer;
  expected: Buffer;
}

/** A complaint's chain recomputed from its entries as stored. */
export interface ChainCheck {
  entries: number;
  /** The recomputed link of the last entry; null for a complaint without entries. */
  head: Buffer | null;
  firstMismatch: ChainMismatch | null;
}

/** What one tenant's timelines did on one day (see timelineDigests). */
export interface DayDigest {
  complaints: number;
  digest: Buffer;
}

/** The link the chain recomputes for each entry (timeline_chain over timeline_entry_content). */
const recomputedLink = sql`timeline_chain(timeline_entry_content(t.tenant_id, t.complaint_id, t.id, t.occurred_at,
  t.type, t.actor_type::text, t.actor_id, t.actor_name, t.actor_on_behalf_of, t.actor_subject, t.changes, t.data,
  t.subject_id)) over (order by t.id)`;

const hex = (value: string | null): Buffer | null => (value === null ? null : Buffer.from(value, 'hex'));

/** SQL of the timelines' hash chain: its recomputation and the daily digests. */
export function createTimelineIntegrityRepository(db: Queryable) {
  return {
    /**
     * Recomputes a complaint's chain in one statement naming its tenant (on Citus, one shard): each
     * entry's link from the entries before it, against the link it stores.
     */
    async checkChain(tenantId: string, complaintId: string, tx: Queryable = db): Promise<ChainCheck> {
      const result = await tx.execute<{
        entries: number;
        head: string | null;
        mismatch: {
          id: number;
          position: number;
          previous_id: number | null;
          stored: string;
          expected: string;
        } | null;
      }>(sql`
        with chain as (
          select t.id, t.entry_hash as stored, ${recomputedLink} as expected,
            row_number() over (order by t.id) as position, lag(t.id) over (order by t.id) as previous_id
          from ${complaintTimeline} t
          where t.tenant_id = ${tenantId} and t.complaint_id = ${complaintId}
        )
        select (select count(*) from chain)::int as entries,
          (select encode(expected, 'hex') from chain order by id desc limit 1) as head,
          (select jsonb_build_object('id', id, 'position', position, 'previous_id', previous_id,
              'stored', encode(stored, 'hex'), 'expected', encode(expected, 'hex'))
            from chain where stored is distinct from expected order by id limit 1) as mismatch`);
      const row = result.rows[0]!;
      return {
        entries: row.entries,
        head: hex(row.head),
        firstMismatch: row.mismatch && {
          entryId: Number(row.mismatch.id),
          position: Number(row.mismatch.position),
          previousEntryId: row.mismatch.previous_id === null ? null : Number(row.mismatch.previous_id),
          stored: Buffer.from(row.mismatch.stored ?? '', 'hex'),
          expected: Buffer.from(row.mismatch.expected, 'hex'),
        },
      };
    },

    /**
     * The digest of a tenant's timelines for the UTC day starting at `from` (until `to`): the
     * complaints with an entry that day and sha256 over, in complaint id order, each one's id (16
     * bytes) followed by its head at the day's end (the entry_hash of its last entry before `to`).
     */
    async digestDay(tenantId: string, from: Date, to: Date, tx: Queryable = db): Promise<DayDigest> {
      const result = await tx.execute<{ complaints: number; digest: string }>(sql`
        with changed as (
          select distinct t.complaint_id from ${complaintTimeline} t
          where t.tenant_id = ${tenantId} and t.occurred_at >= ${from.toISOString()}::timestamptz
            and t.occurred_at < ${to.toISOString()}::timestamptz
        ), heads as (
          select c.complaint_id, h.entry_hash from changed c cross join lateral (
            select t.entry_hash from ${complaintTimeline} t
            where t.tenant_id = ${tenantId} and t.complaint_id = c.complaint_id
              and t.occurred_at < ${to.toISOString()}::timestamptz
            order by t.id desc limit 1) h
        )
        select count(*)::int as complaints,
          encode(sha256(coalesce(string_agg(uuid_send(complaint_id) || entry_hash, ''::bytea order by complaint_id),
            ''::bytea)), 'hex') as digest
        from heads`);
      const row = result.rows[0]!;
      return { complaints: row.complaints, digest: Buffer.from(row.digest, 'hex') };
    },

    /** Keeps a tenant's digest of a day; false when the day already has one (nothing written). */
    async recordDigest(
      row: { tenantId: string; day: string; complaints: number; digest: Buffer; eventId: string },
      tx: Queryable = db,
    ): Promise<boolean> {
      const inserted = await tx
        .insert(timelineDigests)
        .values(row)
        .onConflictDoNothing()
        .returning({ day: timelineDigests.day });
      return inserted.length > 0;
    },

    /** The last day a tenant's timelines were digested, as YYYY-MM-DD; null before the first. */
    async lastDigestDay(tenantId: string, tx: Queryable = db): Promise<string | null> {
      const [row] = await tx
        .select({ day: max(timelineDigests.day) })
        .from(timelineDigests)
        .where(eq(timelineDigests.tenantId, tenantId));
      return row?.day ?? null;
    },

    /** A tenant's digest of a day, if made. */
    async findDigest(tenantId: string, day: string, tx: Queryable = db) {
      const [row] = await tx
        .select()
        .from(timelineDigests)
        .where(and(eq(timelineDigests.tenantId, tenantId), eq(timelineDigests.day, day)));
      return row;
    },

    /** Every tenant, with when it was made: `tenants` is a reference table, on every node. */
    async tenants(tx: Queryable = db): Promise<Array<{ id: string; createdAt: Date }>> {
      return tx.select({ id: tenants.id, createdAt: tenants.createdAt }).from(tenants).orderBy(tenants.id);
    },
  };
}

export type TimelineIntegrityRepository = ReturnType<typeof createTimelineIntegrityRepository>;
