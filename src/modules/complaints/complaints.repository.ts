import {
  and,
  desc,
  eq,
  getTableColumns,
  gte,
  ilike,
  inArray,
  like,
  lt,
  or,
  type SQL,
  sql,
} from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Queryable } from '../../db/client.js';
import { tenantBatchKey } from '../../db/distribution.js';
import { preparedStatement } from '../../db/prepared.js';
import { tableRowFromRaw } from '../../db/raw-rows.js';
import {
  type ActorRecord,
  communications,
  complaints,
  complaintTimeline,
  deadlines,
  events,
  followUps,
  idempotencyKeys,
  searchCharacters,
} from '../../db/schema/index.js';
import { statementRolledBack } from '../../db/sql-errors.js';
import { createBatcher } from '../../lib/batcher.js';
import { ServiceUnavailableError } from '../../lib/errors.js';
import { isUuid } from '../../lib/ids.js';
import { currentTraceContext, type TraceCarrier } from '../../lib/trace-context.js';
import { tracingEnabled } from '../../lib/tracing-switch.js';
import type { NewDeadlineRow } from '../deadlines/deadlines.repository.js';
import { actorColumns } from './complaint-records.js';
import {
  complaintReferenceSql,
  takeReferenceNumbers,
  takeReferenceNumbersIn,
} from './complaint-reference.js';
import type { ComplaintStatus } from './complaint-status.js';
import { takenInEntryData } from './complaint-views.js';
import type { ComplaintView } from './complaints.schemas.js';
import type { NeedType } from './immediate-first.js';

export type ComplaintRow = typeof complaints.$inferSelect;
export type NewComplaintRow = Omit<typeof complaints.$inferInsert, 'reference'>;
export type ComplaintChanges = Partial<
  Omit<typeof complaints.$inferInsert, 'id' | 'tenantId' | 'reference' | 'createdAt' | 'version'>
>;
export type TimelineRow = typeof complaintTimeline.$inferSelect;
/** A timeline entry to write: the actor as the record it is; the table keeps it as columns. */
export type NewTimelineRow = Omit<
  typeof complaintTimeline.$inferInsert,
  'actorType' | 'actorId' | 'actorName' | 'actorOnBehalfOf' | 'actorSubject' | 'entryHash'
> & { actor: ActorRecord };
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
  qualityClass?: ComplaintRow['qualityClass'];
  cause?: string;
  needTypes?: NeedType[];
  /** Complaints whose need type is not this one, unclassified ones included. */
  needTypeOtherThan?: NeedType;
  receivedFrom?: Date;
  receivedTo?: Date;
  text?: string;
  /** Keyset position: rows strictly after (receivedAt, id) in newest-first order. */
  after?: { receivedAt: Date; id: string };
}

const dialect = new PgDialect();

/** pg_trgm finds a substring by its trigrams, so it needs three characters. */
const SHORTEST_TRIGRAM_SEARCH = 3;

/** Escapes LIKE wildcards so a search for "100%" finds that text, not everything. */
const likeContaining = (text: string) => `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

/**
 * Text in scripts without letter case (Chinese, Japanese kana, Korean). No character lower-cases
 * to one of theirs, so for such text LIKE finds exactly what ILIKE finds; and it costs a small
 * fraction of ILIKE, which lower-cases every complaint it reads: about 1 µs against 10 to 15 µs a
 * complaint for the three columns, in a UTF-8 database.
 */
const CASELESS_SCRIPTS =
  /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Bopomofo}]+$/u;

/** The text in a complaint's subject, description or customer name, case-insensitively. */
const textContained = (text: string): SQL => {
  const pattern = likeContaining(text);
  const matches = CASELESS_SCRIPTS.test(text) ? like : ilike;
  return or(
    matches(complaints.subject, pattern),
    matches(complaints.description, pattern),
    matches(complaints.customerName, pattern),
  )!;
};

/**
 * What a text search asks of a complaint: the text in its subject, description or customer name,
 * case-insensitively. The trigram index answers that for three characters or more; a shorter
 * search also asks for every one of its characters, which complaints_search_chars_idx answers.
 */
function textSearchConditions(text: string): SQL[] {
  const contains = textContained(text);
  if (!isShortSearch(text)) return [contains];
  return [sql`${searchCharacters(complaints)} @> string_to_array(lower(${text}::text), null)`, contains];
}

const isShortSearch = (text: string) => [...text].length < SHORTEST_TRIGRAM_SEARCH;

/** Every list filter but the text search, as one condition. */
function listConditions(tenantId: string, filters: ComplaintFilters): SQL {
  const conditions: SQL[] = [eq(complaints.tenantId, tenantId)];
  if (filters.statuses?.length) conditions.push(inArray(complaints.status, filters.statuses));
  if (filters.channels?.length) conditions.push(inArray(complaints.channel, filters.channels));
  if (filters.severity) conditions.push(eq(complaints.severity, filters.severity));
  if (filters.category) conditions.push(eq(complaints.category, filters.category));
  if (filters.assignee) conditions.push(eq(complaints.assignee, filters.assignee));
  if (filters.incidentKey) conditions.push(eq(complaints.incidentKey, filters.incidentKey));
  if (filters.qualityClass) conditions.push(eq(complaints.qualityClass, filters.qualityClass));
  if (filters.cause) conditions.push(eq(complaints.cause, filters.cause));
  if (filters.needTypes?.length) conditions.push(inArray(complaints.needType, filters.needTypes));
  if (filters.needTypeOtherThan)
    conditions.push(sql`${complaints.needType} is distinct from ${filters.needTypeOtherThan}`);
  if (filters.receivedFrom) conditions.push(gte(complaints.receivedAt, filters.receivedFrom));
  if (filters.receivedTo) conditions.push(lt(complaints.receivedAt, filters.receivedTo));
  if (filters.after) {
    // Row comparison keeps the keyset condition index-friendly on (received_at, id).
    conditions.push(
      sql`(${complaints.receivedAt}, ${complaints.id}) < (${filters.after.receivedAt}, ${filters.after.id})`,
    );
  }
  return and(...conditions)!;
}

/**
 * How many of the newest complaints a short search reads in order before it turns to
 * complaints_search_chars_idx (see shortSearchPage): a few milliseconds of reading, so fewer when
 * each one read must be lower-cased for an ILIKE (see CASELESS_SCRIPTS). A text found in fewer
 * than a page of them (under 1% of complaints for a page of 25) is fetched by its characters.
 */
export const shortSearchHead = (text: string): number => (CASELESS_SCRIPTS.test(text) ? 3_000 : 500);

/**
 * One page of a search of one or two characters, in a plan whose cost no statistic can push up.
 *
 * Such a search has two ways to a page: read the newest complaints in order until the page is
 * full (quick when the text is common, endless when it is rare), or fetch every complaint holding
 * all of its characters from complaints_search_chars_idx and sort them (quick when rare, slow when
 * common). PostgreSQL chose between them by an estimate it cannot make: it multiplies the
 * character index's estimate by the LIKE's as if the two were unrelated, when both describe the
 * same text. For 退款, in one complaint in six, that came out 200 times too low after one ANALYZE
 * and not after the next, and the same search took 12 ms or 306 ms among 1M complaints.
 *
 * So it takes both ways in turn. It reads the newest shortSearchHead(text) complaints that the
 * other filters let through (`head`); if they hold a full page (`hits`), that is the page. Else
 * the text is rare, and only then are its matches older than the head fetched from the character
 * index (`rest`), which is as quick as the text is rare: the LIMIT in front of `rest` is 0 unless
 * the head fell short, and a LIMIT of 0 never starts what is behind it. The steps pass
 * (tenant_id, received_at, id) only, and the page's rows are read once, at the end, by key. The page, and its order,
 * are those of one query over all matches. (A text far rarer among the newest complaints than
 * among older ones is still fetched whole from the character index.)
 */
function shortSearchPage(filtered: SQL, text: string, limit: number): SQL {
  const { tenantId, receivedAt, id } = complaints;
  const headSize = shortSearchHead(text);
  return sql`
    with head as materialized (
      select ${tenantId}, ${receivedAt}, ${id}, ${textContained(text)} as hit from ${complaints} where ${filtered}
      order by ${receivedAt} desc, ${id} desc limit ${headSize}
    ), hits as materialized (
      select tenant_id, received_at, id from head where hit limit ${limit + 1}
    ), rest as materialized (
      select ${tenantId}, ${receivedAt}, ${id} from ${complaints}
      where ${filtered} and ${and(...textSearchConditions(text))}
        and (${receivedAt}, ${id}) < (select received_at, id from head order by received_at, id limit 1)
    ), page as (
      select tenant_id, received_at, id from hits
      union all
      (select tenant_id, received_at, id from rest limit (select case
        when (select count(*) from hits) <= ${limit} and (select count(*) from head) = ${headSize}
        then null else 0 end))
      order by received_at desc, id desc limit ${limit + 1}
    )
    select ${complaints}.* from page join ${complaints} on ${tenantId} = page.tenant_id and ${id} = page.id
    order by page.received_at desc, page.id desc`;
}

/** A list page as list() runs it and as tests EXPLAIN it. */
export interface ListQuery {
  toSQL(): { sql: string; params: unknown[] };
  execute(): Promise<ComplaintRow[]>;
}

/** Matches a complaint by id or reference; ids and references never look alike. */
const byKey = (tenantId: string, key: string): SQL =>
  and(
    eq(complaints.tenantId, tenantId),
    isUuid(key) ? eq(complaints.id, key) : eq(complaints.reference, key),
  )!;

/** The most complaints one intake statement writes. */
const INTAKE_BATCH_MAX = 16;
/**
 * Intake statements running at once from one process. Two cores' worth of PostgreSQL is kept busy
 * by a few; more would only split the waiting complaints into smaller batches.
 */
const INTAKE_BATCHES_IN_FLIGHT = 2;
/** The longest a complaint waits for a batch to take it before it is refused, unwritten. */
const INTAKE_QUEUE_MS = 5_000;

/**
 * How intake's statements are batched: its writes here, its repeat lookups in
 * createMajorComplaintsRepository. A complaint that waits over INTAKE_QUEUE_MS (as long as a
 * request would have waited for a pooled connection) is refused with a 503 the caller retries,
 * as nothing was written.
 */
export const INTAKE_BATCHING = {
  maxWaitMs: 0,
  maxInFlight: INTAKE_BATCHES_IN_FLIGHT,
  maxQueueMs: INTAKE_QUEUE_MS,
  queueTimeoutError: () =>
    new ServiceUnavailableError({
      detail: `The complaint waited over ${INTAKE_QUEUE_MS / 1000} s for the database and was not recorded; retry it.`,
      headers: { 'retry-after': '1' },
    }),
};

/** Shorthand for the named values the prepared statements below take. */
const p = (name: string) => sql.placeholder(name);

/** Each complaint column's property and its column name, which are the keys of intake's JSON. */
const complaintColumnNames = Object.entries(getTableColumns(complaints)).map(
  ([property, column]) => [property, column.name] as const,
);

/**
 * Intake in one statement (one round trip, atomic without BEGIN/COMMIT), for a batch of
 * complaints: each complaint, with the reference of the number it was given (takeReferenceNumbers,
 * complaintReferenceSql); its deadlines; its `complaint.created` event, whose JSON gets the
 * reference the counter handed out, and its timeline entry (takenInEntryData); and the caller's
 * Idempotency-Key pointed at it. The batch travels as one JSON array (`intakes`), each complaint's
 * row under its column names, so one statement serves any number. The batch's tenants
 * (`tenantIds`) and Idempotency-Keys (`idempotencyKeys`) also come as values of their own: the
 * rows the statement reads and locks are then named by tenant and key, which a distributed
 * database needs to run it on the node that holds the tenant, when the batch holds one tenant, as
 * it does there (see intakeBatches).
 *
 * A complaint whose externalRef the tenant already has is left out (`on conflict do nothing`),
 * the others go in. With an Idempotency-Key a complaint is inserted only while the key is still
 * unbound, and the key row stays locked until the statement binds it: a retry that took over an
 * expired lease while the first attempt still ran waits here, then finds the key bound and inserts
 * nothing, so two attempts never make two complaints.
 */
const intakeStatement = preparedStatement<
  { tenantIds: string[]; idempotencyKeys: string[]; intakes: string },
  { complaint: Record<string, unknown> }
>(
  'insert_complaints_at_intake',
  sql`
  with input as (
    select a.item, a.ord, (a.item->'complaint'->>'id')::uuid as id
    from jsonb_array_elements(${p('intakes')}::jsonb) with ordinality as a(item, ord)
  ), k as (
    select ik.tenant_id, ik.key from ${idempotencyKeys} ik
    where ik.tenant_id = any(${p('tenantIds')}::uuid[]) and ik.key = any(${p('idempotencyKeys')}::text[])
      and ik.state = 'in_progress' and ik.resource_id is null
    order by ik.tenant_id, ik.key
    for update of ik
  ), c as (
    insert into ${complaints} (id, tenant_id, reference, channel, severity, priority, category, subject, description,
      customer_name, customer_phone, customer_email, customer_address, customer_external_id, desired_outcome,
      occurred_at, received_at, received_by, assignee, escalation_level, external_ref, complainant_relation,
      complainant_authorised, responsibility, upstream_party, need_type, quality_class, cause, liability_finding,
      liability_reason,
      liability_note, major_reasons, major_since, media_exposure, regulator_involved, premises_blocked,
      high_value_return, negative_media_coverage, incident_key, customer_key,
      subject_staff, tags, metadata, event_sequence, created_at, updated_at)
    select r.id, r.tenant_id,
      ${complaintReferenceSql(sql`(input.item->>'referenceNumber')::bigint`, {
        lead: sql`input.item->>'referenceLead'`,
        digits: sql`(input.item->>'referenceDigits')::int`,
      })},
      r.channel, r.severity, r.priority, r.category, r.subject, r.description, r.customer_name, r.customer_phone,
      r.customer_email, r.customer_address, r.customer_external_id, r.desired_outcome, r.occurred_at,
      r.received_at, r.received_by, r.assignee, r.escalation_level, r.external_ref, r.complainant_relation,
      r.complainant_authorised, r.responsibility, r.upstream_party, r.need_type, r.quality_class, r.cause,
      r.liability_finding,
      r.liability_reason, r.liability_note, r.major_reasons, r.major_since, r.media_exposure, r.regulator_involved,
      r.premises_blocked, r.high_value_return, r.negative_media_coverage, r.incident_key, r.customer_key, r.subject_staff, r.tags, r.metadata, 1, r.created_at, r.updated_at
    from input cross join lateral jsonb_populate_record(null::${complaints}, input.item->'complaint') as r
    where input.item->>'idempotencyKey' is null
      or (exists (select 1 from k where k.tenant_id = r.tenant_id and k.key = input.item->>'idempotencyKey')
        -- Two attempts with one key in the same batch both find it unbound: the first one only.
        and not exists (select 1 from input earlier
          where earlier.ord < input.ord and earlier.item->>'idempotencyKey' = input.item->>'idempotencyKey'
            and earlier.item->'complaint'->>'tenant_id' = input.item->'complaint'->>'tenant_id'))
    -- References are handed out in the order the complaints came in.
    order by input.ord
    on conflict (tenant_id, external_ref) where external_ref is not null do nothing
    returning *
  ), ci as (
    -- Each complaint written with the intake it came from.
    select c.id, c.tenant_id, c.created_at, c.reference, input.item, input.ord
    from c join input on input.id = c.id
  ), d as (
    insert into ${deadlines} (id, tenant_id, complaint_id, kind, status, starts_at, due_at, warn_ats, warn_fractions,
      clock, target_duration, duration_ms, policy_id, policy_version, calendar_id, source_id, created_at, updated_at)
    select x.id, ci.tenant_id, ci.id, x.kind, 'pending', x."startsAt", x."dueAt",
      array(select jsonb_array_elements_text(x."warnAts")::timestamptz),
      array(select jsonb_array_elements_text(x."warnFractions")::real),
      x.clock, x."targetDuration", x."durationMs", x."policyId", x."policyVersion", x."calendarId", null,
      ci.created_at, ci.created_at
    from ci cross join jsonb_to_recordset(ci.item->'deadlines') as x(id uuid, kind deadline_kind,
      "startsAt" timestamptz, "dueAt" timestamptz, "warnAts" jsonb, "warnFractions" jsonb, clock sla_clock,
      "targetDuration" text, "durationMs" bigint, "policyId" uuid, "policyVersion" int, "calendarId" uuid)
  ), v as (
    -- The view as received, with the reference the counter handed out, for the event.
    select ci.*, jsonb_set(ci.item->'view', '{reference}', to_jsonb(ci.reference)) as complaint,
      ci.item->'actor' as actor
    from ci
  ), t as (
    -- Only what the complaint cannot give back later (takenInEntryData); the timeline API shows
    -- the same view as the event (complaint_as_taken_in).
    -- A person's id is their subject, no UUID: it goes to actor_subject (actorColumns).
    insert into ${complaintTimeline} (tenant_id, complaint_id, type, actor_type, actor_id, actor_name,
      actor_on_behalf_of, actor_subject, occurred_at, data)
    select v.tenant_id, v.id, 'complaint.created', (v.actor->>'type')::actor_type,
      (case when v.actor->>'type' <> 'user' then v.actor->>'id' end)::uuid, v.actor->>'name',
      v.actor->>'onBehalfOf', case when v.actor->>'type' = 'user' then v.actor->>'id' end, v.created_at,
      v.item->'timelineData'
    from v order by v.ord
  ), e as (
    insert into ${events} (id, tenant_id, type, complaint_id, sequence, reference, occurred_at, data, trace_context)
    select v.item->>'eventId', v.tenant_id, 'complaint.created', v.id, 1, v.reference, v.created_at,
      jsonb_build_object('complaint', v.complaint, 'actor', v.actor), nullif(v.item->'traceContext', 'null')
    from v order by v.ord
  ), i as (
    update ${idempotencyKeys} ik set resource_id = ci.id from ci
    where ik.tenant_id = any(${p('tenantIds')}::uuid[]) and ik.tenant_id = ci.tenant_id
      and ik.key = ci.item->>'idempotencyKey'
  )
  select to_jsonb(c) as complaint from c`,
);

/**
 * Timeline entries as the API shows them, from the entries as stored (`entries`, a JSON array of
 * complaint_timeline rows): an entry stores only what nothing else holds, and timeline_entry_data
 * (./sql/timeline_entries.sql) shows its `data` whole, a `complaint.created` entry's complaint as
 * it was taken in among it, rebuilt from the complaint and its later entries in one snapshot.
 *
 * It is a statement of its own, over values rather than the table, because timeline_entry_data
 * reads other rows: on Citus, a function that reads distributed tables may run on the coordinator
 * but not inside a statement sent to a shard, as a read of complaint_timeline is.
 */
const timelineEntriesShown = preparedStatement<{ tenantId: string; entries: string }, { data: unknown }>(
  'timeline_entries_shown',
  sql`select timeline_entry_data(${p('tenantId')}::uuid, e.complaint_id, e.id, e.type, e.changes, e.data,
      e.occurred_at, e.subject_id) as data
    from jsonb_populate_recordset(null::${complaintTimeline}, ${p('entries')}::jsonb) with ordinality as e
    order by e.ordinality`,
);

/** What intake writes for one complaint (see intakeStatement). */
export interface ComplaintIntake {
  complaint: NewComplaintRow;
  deadlines: NewDeadlineRow[];
  actor: ActorRecord;
  /** The complaint as the API shows it; `reference` is filled in by the statement. */
  view: ComplaintView;
  eventId: string;
  idempotencyKey: string | null;
  /** How the reference starts (`C-`, `BJ-2026-`) and the digits its number is padded to. */
  reference: { lead: string; digits: number };
  /** The request's trace context, which its `complaint.created` event keeps (set at submit). */
  traceContext?: TraceCarrier | null;
}

/**
 * The column defaults a new complaint row may leave out. The statement names every column, so a
 * value left out would otherwise arrive as NULL rather than as the column's default.
 */
const INTAKE_COLUMN_DEFAULTS: Partial<Record<keyof NewComplaintRow, unknown>> = {
  severity: 'general',
  priority: 'normal',
  escalationLevel: 0,
  complainantRelation: 'self',
  complainantAuthorised: false,
  mediaExposure: false,
  regulatorInvolved: false,
  premisesBlocked: false,
  highValueReturn: false,
  negativeMediaCoverage: false,
  majorReasons: [],
  subjectStaff: [],
  tags: [],
  metadata: {},
};

/** One intake as an element of the statement's JSON array, with the number its reference takes. */
function intakeJson(intake: ComplaintIntake, referenceNumber: bigint): Record<string, unknown> {
  const columns = intake.complaint as Record<string, unknown>;
  const defaults = INTAKE_COLUMN_DEFAULTS as Record<string, unknown>;
  return {
    // Under column names, so jsonb_populate_record reads it as a complaints row.
    complaint: Object.fromEntries(
      complaintColumnNames.map(([property, name]) => {
        const value = columns[property] ?? defaults[property] ?? null;
        return [name, value instanceof Date ? value.toISOString() : value];
      }),
    ),
    referenceNumber: referenceNumber.toString(),
    referenceLead: intake.reference.lead,
    referenceDigits: intake.reference.digits,
    deadlines: intake.deadlines.map((d) => ({
      ...d,
      startsAt: d.startsAt.toISOString(),
      dueAt: d.dueAt.toISOString(),
      warnAts: (d.warnAts ?? []).map((at) => at.toISOString()),
    })),
    actor: intake.actor,
    view: intake.view,
    timelineData: takenInEntryData(intake.view),
    eventId: intake.eventId,
    idempotencyKey: intake.idempotencyKey,
    traceContext: intake.traceContext ?? null,
  };
}

/**
 * Writes a batch of intakes in one statement, numbered in order within each tenant; each one's
 * complaint row, or undefined where the statement left it out (a repeated externalRef, an
 * Idempotency-Key already bound), whose number then stays unused. On the pool `db`, the numbers
 * are taken first in a transaction of their own (takeReferenceNumbers); in a caller's transaction
 * `tx`, within it, rather than on a second pooled connection that transactions holding all of the
 * pool's would wait for.
 */
async function insertIntakes(
  db: Queryable,
  tx: Queryable | undefined,
  intakes: ComplaintIntake[],
): Promise<Array<ComplaintRow | undefined>> {
  const sizes = new Map<string, number>();
  for (const { complaint } of intakes)
    sizes.set(complaint.tenantId, (sizes.get(complaint.tenantId) ?? 0) + 1);
  const counted = tx ? await takeReferenceNumbersIn(tx, sizes) : await takeReferenceNumbers(db, sizes);
  const numbered = intakes.map((intake) => {
    const number = counted.get(intake.complaint.tenantId)! + 1n;
    counted.set(intake.complaint.tenantId, number);
    return intakeJson(intake, number);
  });
  const result = await intakeStatement.execute(tx ?? db, {
    tenantIds: [...sizes.keys()],
    idempotencyKeys: intakes.flatMap((intake) => (intake.idempotencyKey ? [intake.idempotencyKey] : [])),
    intakes: JSON.stringify(numbered),
  });
  const inserted = new Map<string, ComplaintRow>();
  for (const { complaint } of result.rows)
    inserted.set(complaint.id as string, tableRowFromRaw(complaints, complaint));
  return intakes.map((intake) => inserted.get(intake.complaint.id));
}

/** A complaint asked for by id or by reference, within its tenant. */
export interface ComplaintLookup {
  tenantId: string;
  key: string;
}

/** A complaint with its earliest pending deadline, as the complaint reads answer with it. */
export interface ComplaintWithNext {
  complaint: ComplaintRow;
  nextDeadline: NextDeadlineRow | null;
}

/**
 * Complaints by id or reference with their earliest pending deadlines, for a batch of lookups in
 * one statement: the k-th of `tenants`, `ids` and `references` is one lookup, with its tenant and
 * its id or its reference (the other null), answered by the rows whose `ord` is k. Each is found
 * within its tenant through its key (complaints_pkey or complaints_tenant_reference_key), so a key
 * of another tenant finds nothing. The batch's tenants are a value of their own as well
 * (`tenantIds`), so that on Citus, where a batch holds one tenant (tenantBatchKey), the statement
 * runs where the tenant's rows are. Prepared, so PostgreSQL plans it once per connection.
 * The complaint comes back as one JSON column (`to_jsonb`), as intake's does: node-postgres reads
 * the column list again and looks up a parser per column on every execution, which for the
 * 50-column complaint cost more than the rest of the read. JSON keys are the column names, so
 * tableRowFromRaw maps it back.
 */
export const complaintsWithNext = preparedStatement<
  { tenantIds: string[]; tenants: string[]; ids: Array<string | null>; references: Array<string | null> },
  { ord: number; complaint: Record<string, unknown>; next_deadline: Record<string, unknown> | null }
>(
  'complaints_json_with_next',
  sql`select k.ord::int as ord, to_jsonb(c) as complaint, to_jsonb(n) as next_deadline
    from unnest(${p('tenants')}::uuid[], ${p('ids')}::uuid[], ${p('references')}::text[])
      with ordinality as k(tenant_id, id, reference, ord)
    cross join lateral (
      select * from ${complaints} c
      where c.tenant_id = any(${p('tenantIds')}::uuid[]) and c.tenant_id = k.tenant_id and c.id = k.id
      union all
      select * from ${complaints} c
      where c.tenant_id = any(${p('tenantIds')}::uuid[]) and c.tenant_id = k.tenant_id and c.reference = k.reference
    ) c
    left join lateral (
      select d.id, d.kind, d.due_at from ${deadlines} d
      where d.tenant_id = any(${p('tenantIds')}::uuid[]) and d.tenant_id = c.tenant_id and d.complaint_id = c.id
        and d.status = 'pending'
      order by d.due_at limit 1
    ) n on true`,
);

/** The statement's values for these lookups (see complaintsWithNext). */
export function complaintLookupValues(lookups: readonly ComplaintLookup[]) {
  return {
    tenantIds: [...new Set(lookups.map((lookup) => lookup.tenantId))],
    tenants: lookups.map((lookup) => lookup.tenantId),
    ids: lookups.map((lookup) => (isUuid(lookup.key) ? lookup.key : null)),
    references: lookups.map((lookup) => (isUuid(lookup.key) ? null : lookup.key)),
  };
}

/** Each lookup's complaint with its next deadline, or undefined where it finds none. */
async function findWithNextDeadlines(
  db: Queryable,
  lookups: ComplaintLookup[],
): Promise<Array<ComplaintWithNext | undefined>> {
  const result = await complaintsWithNext.execute(db, complaintLookupValues(lookups));
  const found: Array<ComplaintWithNext | undefined> = lookups.map(() => undefined);
  for (const row of result.rows) {
    const next = row.next_deadline;
    found[row.ord - 1] = {
      complaint: tableRowFromRaw(complaints, row.complaint),
      nextDeadline: next && {
        id: next.id as string,
        kind: next.kind as NextDeadlineRow['kind'],
        dueAt: new Date(next.due_at as string),
      },
    };
  }
  return found;
}

/**
 * How complaint reads are batched. Like intake's, a read arriving alone goes at once, and those
 * arriving while earlier batches run go together; a read that waits over READ_QUEUE_MS (as long
 * as a request would wait for a pooled connection) is refused with a 503 the caller retries.
 */
const READ_BATCH_MAX = 100;
const READ_BATCHES_IN_FLIGHT = 2;
const READ_QUEUE_MS = 5_000;

export function createComplaintsRepository(db: Queryable) {
  const batchKeyOf = tenantBatchKey(db);
  /**
   * Intake is the hottest write, and most of its cost in PostgreSQL is per statement and per
   * commit, not per row: under load, the complaints arriving while earlier batches are being
   * written go in together, in one statement and one commit. A complaint arriving alone goes at
   * once. On Citus a batch holds one tenant's complaints, so that it runs on the node holding that
   * tenant's rows; on one server it holds any tenants' (tenantBatchKey). A batch PostgreSQL refuses is retried one complaint at a time, so one bad complaint
   * fails alone; one lost with its connection may have committed, and is not written again.
   */
  const intakeBatches = createBatcher({
    ...INTAKE_BATCHING,
    run: (intakes: ComplaintIntake[]) => insertIntakes(db, undefined, intakes),
    batchKey: (intake) => batchKeyOf(intake.complaint.tenantId),
    maxBatch: INTAKE_BATCH_MAX,
    retryAlone: statementRolledBack,
  });
  /**
   * A complaint read costs PostgreSQL and this process more per statement (a round trip, a pooled
   * connection, a bind and execute) than per complaint: under load, the reads asked for while
   * earlier ones run go in one statement, on Citus a tenant's (see complaintsWithNext).
   */
  const reads = createBatcher({
    run: (lookups: ComplaintLookup[]) => findWithNextDeadlines(db, lookups),
    batchKey: (lookup) => batchKeyOf(lookup.tenantId),
    maxBatch: READ_BATCH_MAX,
    maxWaitMs: 0,
    maxInFlight: READ_BATCHES_IN_FLIGHT,
    maxQueueMs: READ_QUEUE_MS,
    queueTimeoutError: () =>
      new ServiceUnavailableError({
        detail: `The read waited over ${READ_QUEUE_MS / 1000} s for the database; retry it.`,
        headers: { 'retry-after': '1' },
      }),
    // A read has no item of its own that could fail it: a batch that fails, fails for all.
    retryAlone: () => false,
  });
  return {
    /**
     * Writes a complaint received at intake with everything that comes with it (see
     * intakeStatement). Returns undefined, writing nothing, when the tenant already has a
     * complaint with the same externalRef, or when another attempt with the same Idempotency-Key
     * already bound it. Outside a transaction, complaints coming in together are written together
     * (see intakeBatches).
     */
    async insertAtIntake(intake: ComplaintIntake, tx?: Queryable): Promise<ComplaintRow | undefined> {
      // Each intake keeps its own request's trace context: a batch is written in one statement,
      // in whichever request's context happened to start it.
      const traced = tracingEnabled ? { ...intake, traceContext: currentTraceContext() } : intake;
      if (tx) return (await insertIntakes(db, tx, [traced]))[0];
      return intakeBatches.submit(traced);
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
     * A complaint with its earliest pending deadline, in one round trip shared with the reads
     * asked for at the same moment: the read every `GET /v1/complaints/{id}` makes.
     */
    findWithNextDeadline(tenantId: string, key: string): Promise<ComplaintWithNext | undefined> {
      return reads.submit({ tenantId, key });
    },

    async findByExternalRef(tenantId: string, externalRef: string, tx: Queryable = db) {
      const [row] = await tx
        .select({ id: complaints.id, reference: complaints.reference })
        .from(complaints)
        .where(and(eq(complaints.tenantId, tenantId), eq(complaints.externalRef, externalRef)));
      return row;
    },

    /** One page in newest-received-first order; `limit + 1` rows tell whether another page exists. */
    list(
      tenantId: string,
      filters: ComplaintFilters,
      limit: number,
      tx: Queryable = db,
    ): Promise<ComplaintRow[]> {
      return this.listQuery(tenantId, filters, limit, tx).execute();
    },

    /** The query of list(), unrun: tests EXPLAIN it as the API sends it (toSQL). */
    listQuery(tenantId: string, filters: ComplaintFilters, limit: number, tx: Queryable = db): ListQuery {
      const filtered = listConditions(tenantId, filters);
      if (filters.text && isShortSearch(filters.text)) {
        const statement = shortSearchPage(filtered, filters.text, limit);
        return {
          toSQL: () => dialect.sqlToQuery(statement),
          execute: async () =>
            (await tx.execute<Record<string, unknown>>(statement)).rows.map((raw) =>
              tableRowFromRaw(complaints, raw),
            ),
        };
      }
      return tx
        .select()
        .from(complaints)
        .where(and(filtered, ...(filters.text ? textSearchConditions(filters.text) : [])))
        .orderBy(desc(complaints.receivedAt), desc(complaints.id))
        .limit(limit + 1);
    },

    /**
     * The tenants with resolved complaints, for the sweep that closes the quiet ones a tenant at a
     * time: a read across tenants that locks nothing, which Citus runs on every shard.
     */
    async tenantsWithResolved(tx: Queryable = db): Promise<string[]> {
      const rows = await tx.execute<{ tenant_id: string }>(
        sql`select distinct c.tenant_id from ${complaints} c where c.status = 'resolved' order by 1`,
      );
      return rows.rows.map((row) => row.tenant_id);
    },

    /**
     * Up to `limit` of a tenant's resolved complaints (one, with `complaintId`) quiet since
     * `quietSince`: unchanged since then, no follow-up visit pending, and none made since. Oldest
     * quiet first. Read from the status index, which holds every complaint that is not closed.
     */
    async quietResolved(
      tenantId: string,
      quietSince: Date,
      limit: number,
      complaintId: string | null = null,
      tx: Queryable = db,
    ): Promise<string[]> {
      const rows = await tx.execute<{ id: string }>(sql`
        select c.id from ${complaints} c
        where c.tenant_id = ${tenantId}::uuid and c.status = 'resolved'
          and c.updated_at <= ${quietSince}::timestamptz
          and (${complaintId}::uuid is null or c.id = ${complaintId}::uuid)
          and not exists (select 1 from ${followUps} f
            where f.tenant_id = c.tenant_id and f.complaint_id = c.id
              and (f.status = 'pending' or f.completed_at > ${quietSince}::timestamptz))
        order by c.updated_at, c.id
        limit ${limit}`);
      return rows.rows.map((row) => row.id);
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
      if (entries.length === 0) return;
      await tx
        .insert(complaintTimeline)
        // The hash chain's trigger sets entry_hash (timeline_hash_chain.sql), whatever is sent.
        .values(
          entries.map(({ actor, ...entry }) => ({
            ...entry,
            ...actorColumns(actor),
            entryHash: sql`default`,
          })),
        );
    },

    /**
     * A complaint's timeline entries after `afterId` (all, for null), at most `limit + 1`, oldest
     * first, as the API shows them (see timelineEntriesShown).
     */
    async listTimeline(
      tenantId: string,
      complaintId: string,
      afterId: number | null,
      limit: number,
      tx: Queryable = db,
    ): Promise<TimelineRow[]> {
      const pages = await this.listTimelines(tenantId, [{ complaintId, afterId }], limit, tx);
      return pages.map(({ row }) => row);
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
      const stored = await tx.execute<{ page: number; entry: Record<string, unknown> }>(sql`
        select p.page::int as page, to_jsonb(t) as entry
        from unnest(${sql.param(pages.map((page) => page.complaintId))}::uuid[],
            ${sql.param(pages.map((page) => page.afterId ?? 0))}::bigint[]) with ordinality as p(complaint_id, after_id, page)
          cross join lateral (
            select t.* from ${complaintTimeline} t
            where t.tenant_id = ${tenantId} and t.complaint_id = p.complaint_id and t.id > p.after_id
            order by t.id limit ${limit + 1}) as t
        order by p.page, t.id`);
      if (stored.rows.length === 0) return [];
      const shown = await timelineEntriesShown.execute(tx, {
        tenantId,
        entries: JSON.stringify(stored.rows.map((row) => row.entry)),
      });
      return stored.rows.map((row, index) => ({
        page: row.page - 1,
        row: tableRowFromRaw(complaintTimeline, { ...row.entry, data: shown.rows[index]!.data }),
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
