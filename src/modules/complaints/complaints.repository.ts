import {
  and,
  asc,
  desc,
  eq,
  getTableColumns,
  gt,
  gte,
  ilike,
  inArray,
  lt,
  or,
  type SQL,
  sql,
} from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { preparedStatement } from '../../db/prepared.js';
import { tableRowFromRaw } from '../../db/raw-rows.js';
import {
  type ActorRecord,
  communications,
  complaints,
  complaintTimeline,
  deadlines,
  events,
  idempotencyKeys,
  searchCharacters,
} from '../../db/schema/index.js';
import { isUuid } from '../../lib/ids.js';
import type { NewDeadlineRow } from '../deadlines/deadlines.repository.js';
import { complaintReferenceSequence } from '../tenancy/tenancy.repository.js';
import type { ComplaintStatus } from './complaint-status.js';

export type ComplaintRow = typeof complaints.$inferSelect;
export type NewComplaintRow = Omit<typeof complaints.$inferInsert, 'reference'>;
export type ComplaintChanges = Partial<
  Omit<typeof complaints.$inferInsert, 'id' | 'tenantId' | 'reference' | 'createdAt' | 'version'>
>;
export type TimelineRow = typeof complaintTimeline.$inferSelect;
export type NewTimelineRow = typeof complaintTimeline.$inferInsert;
export type CommunicationRow = typeof communications.$inferSelect;
/** The earliest pending deadline shown on a complaint. */
export type NextDeadlineRow = Pick<typeof deadlines.$inferSelect, 'id' | 'kind' | 'dueAt'>;

export interface ComplaintFilters {
  statuses?: ComplaintStatus[];
  channels?: ComplaintRow['channel'][];
  severity?: ComplaintRow['severity'];
  category?: string;
  assignee?: string;
  incidentKey?: string;
  receivedFrom?: Date;
  receivedTo?: Date;
  text?: string;
  /** Keyset position: rows strictly after (receivedAt, id) in newest-first order. */
  after?: { receivedAt: Date; id: string };
}

/** pg_trgm finds a substring by its trigrams, so it needs three characters. */
const SHORTEST_TRIGRAM_SEARCH = 3;

/** Escapes LIKE wildcards so a search for "100%" finds that text, not everything. */
const likeContaining = (text: string) => `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

/**
 * What a text search asks of a complaint: the text in its subject, description or customer name,
 * case-insensitively. The trigram index answers that for three characters or more; a shorter
 * search also asks for every one of its characters, which complaints_search_chars_idx answers.
 */
function textSearchConditions(text: string): SQL[] {
  const pattern = likeContaining(text);
  const contains = or(
    ilike(complaints.subject, pattern),
    ilike(complaints.description, pattern),
    ilike(complaints.customerName, pattern),
  )!;
  if ([...text].length >= SHORTEST_TRIGRAM_SEARCH) return [contains];
  return [sql`${searchCharacters(complaints)} @> string_to_array(lower(${text}::text), null)`, contains];
}

/** Matches a complaint by id or reference; ids and references never look alike. */
const byKey = (tenantId: string, key: string): SQL =>
  and(
    eq(complaints.tenantId, tenantId),
    isUuid(key) ? eq(complaints.id, key) : eq(complaints.reference, key),
  )!;

/** Shorthand for the named values the prepared statements below take. */
const p = (name: string) => sql.placeholder(name);

/** The complaint's column properties, each one a value of the intake statement. */
const complaintProperties = Object.keys(getTableColumns(complaints));

/**
 * Intake in one statement (one round trip, atomic without BEGIN/COMMIT): the complaint, numbered
 * from the tenant's reference sequence; its deadlines; its `complaint.created` timeline entry and
 * event, whose JSON gets the reference the sequence handed out; and the caller's Idempotency-Key
 * pointed at it. With an Idempotency-Key the complaint is inserted only while the key is still
 * unbound, and the key row stays locked until the statement binds it: a retry that took over an
 * expired lease while the first attempt still ran waits here, then finds the key bound and inserts
 * nothing, so two attempts never make two complaints.
 */
const intakeStatement = preparedStatement<Record<string, unknown>, { complaint: Record<string, unknown> }>(
  'insert_complaint_at_intake',
  sql`
  with k as (
    select 1 from ${idempotencyKeys}
    where ${p('keyed')}::boolean and idempotency_keys.tenant_id = ${p('tenantId')}::uuid
      and idempotency_keys.key = ${p('idempotencyKey')}::text
      and idempotency_keys.state = 'in_progress' and idempotency_keys.resource_id is null
    for update
  ), c as (
    insert into ${complaints} (id, tenant_id, reference, channel, severity, priority, category, subject, description,
      customer_name, customer_phone, customer_email, customer_address, customer_external_id, desired_outcome,
      occurred_at, received_at, received_by, assignee, escalation_level, external_ref, complainant_relation,
      complainant_authorised, responsibility, upstream_party, need_type, liability_finding, liability_reason,
      liability_note, major_reasons, major_since, media_exposure, regulator_involved, incident_key, customer_key,
      subject_staff, tags, metadata, event_sequence, created_at, updated_at)
    select ${p('id')}::uuid, ${p('tenantId')}::uuid, 'C-' || lpad(nextval(${p('referenceSequence')}::regclass)::text, 6, '0'),
      ${p('channel')}::complaint_channel, ${p('severity')}::complaint_severity, ${p('priority')}::complaint_priority,
      ${p('category')}::text, ${p('subject')}::text, ${p('description')}::text, ${p('customerName')}::text,
      ${p('customerPhone')}::text, ${p('customerEmail')}::text, ${p('customerAddress')}::text,
      ${p('customerExternalId')}::text, ${p('desiredOutcome')}::text, ${p('occurredAt')}::timestamptz,
      ${p('receivedAt')}::timestamptz, ${p('receivedBy')}::text, ${p('assignee')}::text,
      ${p('escalationLevel')}::smallint, ${p('externalRef')}::text,
      ${p('complainantRelation')}::complainant_relation, ${p('complainantAuthorised')}::boolean,
      ${p('responsibility')}::complaint_responsibility, ${p('upstreamParty')}::text,
      ${p('needType')}::complaint_need_type, ${p('liabilityFinding')}::liability_finding,
      ${p('liabilityReason')}::non_liability_reason, ${p('liabilityNote')}::text,
      array(select jsonb_array_elements_text(${p('majorReasons')}::jsonb))::major_reason[],
      ${p('majorSince')}::timestamptz, ${p('mediaExposure')}::boolean, ${p('regulatorInvolved')}::boolean,
      ${p('incidentKey')}::text, ${p('customerKey')}::text,
      array(select jsonb_array_elements_text(${p('subjectStaff')}::jsonb)),
      array(select jsonb_array_elements_text(${p('tags')}::jsonb)), ${p('metadata')}::jsonb, 1,
      ${p('createdAt')}::timestamptz, ${p('updatedAt')}::timestamptz
    where not ${p('keyed')}::boolean or exists (select 1 from k)
    on conflict (tenant_id, external_ref) where external_ref is not null do nothing
    returning *
  ), d as (
    insert into ${deadlines} (id, tenant_id, complaint_id, kind, status, starts_at, due_at, warn_ats, warn_fractions,
      clock, target_duration, duration_ms, policy_id, policy_version, calendar_id, source_id, created_at, updated_at)
    select x.id, c.tenant_id, c.id, x.kind, 'pending', x."startsAt", x."dueAt",
      array(select jsonb_array_elements_text(x."warnAts")::timestamptz),
      array(select jsonb_array_elements_text(x."warnFractions")::real),
      x.clock, x."targetDuration", x."durationMs", x."policyId", x."policyVersion", x."calendarId", null,
      c.created_at, c.created_at
    from c cross join jsonb_to_recordset(${p('deadlines')}::jsonb) as x(id uuid, kind deadline_kind,
      "startsAt" timestamptz, "dueAt" timestamptz, "warnAts" jsonb, "warnFractions" jsonb, clock sla_clock,
      "targetDuration" text, "durationMs" bigint, "policyId" uuid, "policyVersion" int, "calendarId" uuid)
  ), v as (
    -- The view as received, with the reference the sequence handed out; the timeline and the
    -- event record the same one.
    select jsonb_set(${p('view')}::jsonb, '{reference}', to_jsonb(c.reference)) as complaint,
      ${p('actor')}::jsonb as actor
    from c
  ), t as (
    insert into ${complaintTimeline} (tenant_id, complaint_id, type, actor, occurred_at, data)
    select c.tenant_id, c.id, 'complaint.created', v.actor, c.created_at, jsonb_build_object('complaint', v.complaint)
    from c cross join v
  ), e as (
    insert into ${events} (id, tenant_id, type, complaint_id, sequence, occurred_at, data)
    select ${p('eventId')}::text, c.tenant_id, 'complaint.created', c.id, 1, c.created_at,
      jsonb_build_object('tenantId', c.tenant_id, 'complaintId', c.id, 'reference', c.reference, 'sequence', 1,
        'complaint', v.complaint, 'actor', v.actor)
    from c cross join v
  ), i as (
    update ${idempotencyKeys} set resource_id = c.id from c
    where ${p('keyed')}::boolean and idempotency_keys.tenant_id = c.tenant_id
      and idempotency_keys.key = ${p('idempotencyKey')}::text
  )
  select to_jsonb(c) as complaint from c`,
);

/**
 * A complaint by id or reference with its earliest pending deadline, prepared so PostgreSQL plans
 * it once per connection. The complaint comes back as one JSON column (`to_jsonb`), as intake's
 * does: node-postgres reads the column list again and looks up a parser per column on every
 * execution, which for the 50-column complaint cost more than the rest of the read. JSON keys are
 * the column names, so tableRowFromRaw maps it back.
 */
function complaintWithNext(by: 'id' | 'reference') {
  return preparedStatement<
    { tenantId: string; key: string },
    { complaint: Record<string, unknown>; next_deadline: Record<string, unknown> | null }
  >(
    `complaint_json_with_next_by_${by}`,
    sql`select to_jsonb(c) as complaint, to_jsonb(n) as next_deadline
      from ${complaints} c
      left join lateral (
        select d.id, d.kind, d.due_at from ${deadlines} d
        where d.tenant_id = c.tenant_id and d.complaint_id = c.id and d.status = 'pending'
        order by d.due_at limit 1
      ) n on true
      where c.tenant_id = ${p('tenantId')}::uuid
        and ${by === 'id' ? sql`c.id = ${p('key')}::uuid` : sql`c.reference = ${p('key')}::text`}`,
  );
}
export const complaintWithNextById = complaintWithNext('id');
export const complaintWithNextByReference = complaintWithNext('reference');

export function createComplaintsRepository(db: Queryable) {
  return {
    /**
     * Writes a complaint received at intake with everything that comes with it, in one statement
     * (see intakeStatement). Returns undefined, writing nothing, when the tenant already has a
     * complaint with the same externalRef, or when another attempt with the same Idempotency-Key
     * already bound it.
     */
    async insertAtIntake(
      input: {
        complaint: NewComplaintRow;
        deadlines: NewDeadlineRow[];
        actor: ActorRecord;
        /** The complaint as the API shows it; `reference` is filled in by the statement. */
        view: Record<string, unknown>;
        eventId: string;
        idempotencyKey: string | null;
      },
      tx: Queryable = db,
    ): Promise<ComplaintRow | undefined> {
      const { complaint: row, actor, view, eventId } = input;
      const sequence = complaintReferenceSequence(row.tenantId);
      const deadlineJson = JSON.stringify(
        input.deadlines.map((d) => ({
          ...d,
          startsAt: d.startsAt.toISOString(),
          dueAt: d.dueAt.toISOString(),
          warnAts: (d.warnAts ?? []).map((at) => at.toISOString()),
        })),
      );
      const idempotencyKey = input.idempotencyKey;
      const columns = row as Record<string, unknown>;
      const result = await intakeStatement.execute(tx, {
        // Each column's value under its property name; null where the row leaves it out.
        ...Object.fromEntries(complaintProperties.map((property) => [property, columns[property] ?? null])),
        keyed: idempotencyKey !== null,
        idempotencyKey: idempotencyKey ?? '',
        referenceSequence: sequence,
        escalationLevel: row.escalationLevel ?? 0,
        complainantRelation: row.complainantRelation ?? 'self',
        complainantAuthorised: row.complainantAuthorised ?? false,
        mediaExposure: row.mediaExposure ?? false,
        regulatorInvolved: row.regulatorInvolved ?? false,
        // Arrays and jsonb travel as JSON text; the statement unpacks them.
        majorReasons: JSON.stringify(row.majorReasons ?? []),
        subjectStaff: JSON.stringify(row.subjectStaff ?? []),
        tags: JSON.stringify(row.tags ?? []),
        metadata: JSON.stringify(row.metadata ?? {}),
        deadlines: deadlineJson,
        actor: JSON.stringify(actor),
        view: JSON.stringify(view),
        eventId,
      });
      const inserted = result.rows[0]?.complaint;
      return inserted ? tableRowFromRaw(complaints, inserted) : undefined;
    },

    async findByKey(
      tenantId: string,
      key: string,
      options: { forUpdate?: boolean } = {},
      tx: Queryable = db,
    ): Promise<ComplaintRow | undefined> {
      const query = tx.select().from(complaints).where(byKey(tenantId, key));
      const [row] = options.forUpdate ? await query.for('update') : await query;
      return row;
    },

    /**
     * A complaint with its earliest pending deadline, in one round trip: the read every
     * `GET /v1/complaints/{id}` makes (see complaintWithNext).
     */
    async findWithNextDeadline(
      tenantId: string,
      key: string,
    ): Promise<{ complaint: ComplaintRow; nextDeadline: NextDeadlineRow | null } | undefined> {
      const statement = isUuid(key) ? complaintWithNextById : complaintWithNextByReference;
      const result = await statement.execute(db, { tenantId, key });
      const row = result.rows[0];
      if (!row) return undefined;
      const next = row.next_deadline;
      return {
        complaint: tableRowFromRaw(complaints, row.complaint),
        nextDeadline: next && {
          id: next.id as string,
          kind: next.kind as NextDeadlineRow['kind'],
          dueAt: new Date(next.due_at as string),
        },
      };
    },

    async findByExternalRef(tenantId: string, externalRef: string, tx: Queryable = db) {
      const [row] = await tx
        .select({ id: complaints.id, reference: complaints.reference })
        .from(complaints)
        .where(and(eq(complaints.tenantId, tenantId), eq(complaints.externalRef, externalRef)));
      return row;
    },

    /**
     * One page in newest-received-first order; `limit + 1` rows tell whether another page exists.
     * Returned as the query, to await: tests EXPLAIN it as the API sends it (toSQL).
     */
    list(tenantId: string, filters: ComplaintFilters, limit: number, tx: Queryable = db) {
      const conditions: (SQL | undefined)[] = [eq(complaints.tenantId, tenantId)];
      if (filters.statuses?.length) conditions.push(inArray(complaints.status, filters.statuses));
      if (filters.channels?.length) conditions.push(inArray(complaints.channel, filters.channels));
      if (filters.severity) conditions.push(eq(complaints.severity, filters.severity));
      if (filters.category) conditions.push(eq(complaints.category, filters.category));
      if (filters.assignee) conditions.push(eq(complaints.assignee, filters.assignee));
      if (filters.incidentKey) conditions.push(eq(complaints.incidentKey, filters.incidentKey));
      if (filters.receivedFrom) conditions.push(gte(complaints.receivedAt, filters.receivedFrom));
      if (filters.receivedTo) conditions.push(lt(complaints.receivedAt, filters.receivedTo));
      if (filters.text) conditions.push(...textSearchConditions(filters.text));
      if (filters.after) {
        // Row comparison keeps the keyset condition index-friendly on (received_at, id).
        conditions.push(
          sql`(${complaints.receivedAt}, ${complaints.id}) < (${filters.after.receivedAt}, ${filters.after.id})`,
        );
      }
      return tx
        .select()
        .from(complaints)
        .where(and(...conditions))
        .orderBy(desc(complaints.receivedAt), desc(complaints.id))
        .limit(limit + 1);
    },

    /** Applies changes and bumps the version; the caller holds the row lock. */
    async update(tenantId: string, id: string, changes: ComplaintChanges, at: Date, tx: Queryable = db) {
      const [row] = await tx
        .update(complaints)
        .set({ ...changes, updatedAt: at, version: sql`${complaints.version} + 1` })
        .where(and(eq(complaints.tenantId, tenantId), eq(complaints.id, id)))
        .returning();
      return row!;
    },

    async appendTimeline(entries: NewTimelineRow[], tx: Queryable = db): Promise<void> {
      if (entries.length > 0) await tx.insert(complaintTimeline).values(entries);
    },

    async listTimeline(
      tenantId: string,
      complaintId: string,
      afterId: number | null,
      limit: number,
      tx: Queryable = db,
    ) {
      return tx
        .select()
        .from(complaintTimeline)
        .where(
          and(
            eq(complaintTimeline.tenantId, tenantId),
            eq(complaintTimeline.complaintId, complaintId),
            afterId === null ? undefined : gt(complaintTimeline.id, afterId),
          ),
        )
        .orderBy(asc(complaintTimeline.id))
        .limit(limit + 1);
    },

    /**
     * One timeline page for each of several complaints in one query: the `limit + 1` entries after
     * each complaint's own position, oldest first, as {@link listTimeline} reads them one by one;
     * `page` is the index of the request each row answers.
     */
    async listTimelines(
      tenantId: string,
      pages: Array<{ complaintId: string; afterId: number | null }>,
      limit: number,
      tx: Queryable = db,
    ): Promise<Array<{ page: number; row: TimelineRow }>> {
      if (pages.length === 0) return [];
      const result = await tx.execute<Record<string, unknown>>(sql`
        select p.page, t.* from unnest(${sql.param(pages.map((page) => page.complaintId))}::uuid[],
            ${sql.param(pages.map((page) => page.afterId ?? 0))}::bigint[]) with ordinality as p(complaint_id, after_id, page)
          cross join lateral (
            select * from ${complaintTimeline}
            where ${complaintTimeline.tenantId} = ${tenantId} and ${complaintTimeline.complaintId} = p.complaint_id
              and ${complaintTimeline.id} > p.after_id
            order by ${complaintTimeline.id} limit ${limit + 1}) as t
        order by p.page, t.id`);
      return result.rows.map((raw) => ({
        page: Number(raw.page) - 1,
        row: tableRowFromRaw(complaintTimeline, raw),
      }));
    },

    /** Complaints by id, for answers that name them (the complaint of an event). */
    async findByIds(tenantId: string, ids: string[], tx: Queryable = db): Promise<ComplaintRow[]> {
      if (ids.length === 0) return [];
      return tx
        .select()
        .from(complaints)
        .where(and(eq(complaints.tenantId, tenantId), inArray(complaints.id, ids)));
    },

    async insertCommunication(
      row: typeof communications.$inferInsert,
      tx: Queryable = db,
    ): Promise<CommunicationRow> {
      const [inserted] = await tx.insert(communications).values(row).returning();
      return inserted!;
    },

    /** A communication of this tenant by id. */
    async findCommunication(
      tenantId: string,
      id: string,
      tx: Queryable = db,
    ): Promise<CommunicationRow | undefined> {
      const [row] = await tx
        .select()
        .from(communications)
        .where(and(eq(communications.tenantId, tenantId), eq(communications.id, id)));
      return row;
    },
  };
}

export type ComplaintsRepository = ReturnType<typeof createComplaintsRepository>;
