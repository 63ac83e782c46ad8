import { type SQL, sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  smallint,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { bytea, instant } from './columns.js';
import { tenantForeignKey, tenantIdColumn } from './tenancy.js';

export const complaintChannel = pgEnum('complaint_channel', [
  'phone',
  'email',
  'web',
  'app',
  'chat',
  'social_media',
  'online_forum',
  'walk_in',
  'letter',
  'fax',
  'partner_api',
]);

export const complaintStatus = pgEnum('complaint_status', [
  'received',
  'acknowledged',
  'investigating',
  'awaiting_customer',
  'resolved',
  'closed',
  'rejected',
  'withdrawn',
]);

export const complaintSeverity = pgEnum('complaint_severity', ['general', 'major']);
export const complaintPriority = pgEnum('complaint_priority', ['low', 'normal', 'high', 'urgent']);
export const communicationDirection = pgEnum('communication_direction', ['inbound', 'outbound']);

/** Who is complaining, relative to the affected party (DOMAIN §1, 核实身份). */
export const complainantRelation = pgEnum('complainant_relation', [
  'self',
  'immediate_family',
  'representative',
  'other',
]);
/** Why a complaint was declined at intake; the customer is told (DOMAIN §1). */
export const acceptanceRejectionCode = pgEnum('acceptance_rejection_code', [
  'outside_acceptance_window',
  'not_a_stakeholder',
  'representative_not_authorised',
]);
/** Responsibility class (DOMAIN §2, 一类/二类/三类投诉): ours, an upstream party's, or external. */
export const complaintResponsibility = pgEnum('complaint_responsibility', ['own', 'upstream', 'external']);
/** What the customer needs first (DOMAIN §2, 需求分类). */
export const complaintNeedType = pgEnum('complaint_need_type', ['immediate', 'long_term', 'emotional']);
/** Quality vs non-quality (DOMAIN §2, 品质异常 / 非品质异常, seed 000). */
export const qualityClass = pgEnum('quality_class', ['quality', 'non_quality']);
export const liabilityFinding = pgEnum('liability_finding', ['liable', 'not_liable']);
/** The situations in which we are not liable (DOMAIN §2, 判断无责的情景). */
export const nonLiabilityReason = pgEnum('non_liability_reason', [
  'third_party',
  'force_majeure',
  'emergency_avoidance',
  'self_defence',
  'customer_intent',
]);
/** Why a complaint is major (DOMAIN §2): by hand, or a rule that fired. */
export const majorReason = pgEnum('major_reason', [
  'manual',
  'safety_category',
  'collective',
  'repeat',
  'media_exposure',
  'regulator_involved',
  'premises_blocked',
  'high_value_return',
  'negative_media_coverage',
]);

/** A supervisor's decision to take in a complaint the acceptance checks declined. */
export interface AcceptanceOverrideRecord {
  rejectionCode: (typeof acceptanceRejectionCode.enumValues)[number];
  reason: string;
  supervisor: string;
  overriddenAt: string;
}

/**
 * The distinct characters of the text a complaint search reads (subject, description and
 * customer name), lower-cased as ILIKE compares them: complaints_search_chars_idx indexes this
 * expression and short searches filter on it, so both must use this one definition.
 */
export function searchCharacters(columns: {
  subject: AnyPgColumn;
  description: AnyPgColumn;
  customerName: AnyPgColumn;
}): SQL {
  return sql`string_to_array(lower(${columns.subject} || ' ' || ${columns.description} || ' ' || coalesce(${columns.customerName}, '')), null)`;
}

/**
 * A complaint's customer phone and email as the customer keys they would make: `tel:` with a `+`
 * if written with one and the digits, and `email:` with the address in lower case, as
 * customerIdentityKey (src/modules/major-complaints/major-rules.ts) makes them. A complaint's
 * customer_key holds only the first of external id, phone and email, so finding every complaint
 * of a phone or an email (a data subject's, src/modules/data-subjects/) also looks these up:
 * complaints_tenant_phone_key_idx and complaints_tenant_email_key_idx index them, and the
 * lookup filters on them, so both must use these definitions.
 */
export function customerPhoneKey(columns: { customerPhone: AnyPgColumn }): SQL {
  return sql`('tel:' || case when ${columns.customerPhone} like '+%' then '+' else '' end || regexp_replace(${columns.customerPhone}, '[^0-9]', '', 'g'))`;
}

/** See customerPhoneKey. */
export function customerEmailKey(columns: { customerEmail: AnyPgColumn }): SQL {
  return sql`('email:' || lower(${columns.customerEmail}))`;
}

/**
 * Which complaints the phone (email) index holds: those whose phone (email) is not already their
 * customer_key, which complaints_tenant_customer_category_idx finds. Most complaints name one
 * identifier or lead with their phone, so these indexes stay small and most intakes add no entry.
 */
export function phoneBesideKey(columns: { customerPhone: AnyPgColumn; customerKey: AnyPgColumn }): SQL {
  return sql`${columns.customerPhone} is not null and ${columns.customerKey} is distinct from ${customerPhoneKey(columns)}`;
}

/** See phoneBesideKey. */
export function emailBesideKey(columns: { customerEmail: AnyPgColumn; customerKey: AnyPgColumn }): SQL {
  return sql`${columns.customerEmail} is not null and ${columns.customerKey} is distinct from ${customerEmailKey(columns)}`;
}

/** The search indexes' pending-list limit, in kB (see complaints_search_trgm_idx). */
const SEARCH_PENDING_LIST_KB = 512;

export const complaints = pgTable(
  'complaints',
  {
    id: uuid('id').notNull(),
    tenantId: tenantIdColumn(),
    reference: text('reference').notNull(),
    status: complaintStatus('status').notNull().default('received'),
    channel: complaintChannel('channel').notNull(),
    severity: complaintSeverity('severity').notNull().default('general'),
    priority: complaintPriority('priority').notNull().default('normal'),
    category: text('category'),
    subject: text('subject').notNull(),
    description: text('description').notNull(),
    // Customer identity is kept in columns (not one JSON blob) so it can be searched and indexed.
    customerName: text('customer_name'),
    customerPhone: text('customer_phone'),
    customerEmail: text('customer_email'),
    customerAddress: text('customer_address'),
    customerExternalId: text('customer_external_id'),
    desiredOutcome: text('desired_outcome'),
    occurredAt: instant('occurred_at'),
    receivedAt: instant('received_at').notNull(),
    receivedBy: text('received_by').notNull(),
    assignee: text('assignee'),
    escalationLevel: smallint('escalation_level').notNull().default(0),
    externalRef: text('external_ref'),
    complainantRelation: complainantRelation('complainant_relation').notNull().default('self'),
    /** A complainant who is not a stakeholder but holds the affected party's authority. */
    complainantAuthorised: boolean('complainant_authorised').notNull().default(false),
    rejectionCode: acceptanceRejectionCode('rejection_code'),
    rejectionDetail: text('rejection_detail'),
    acceptanceOverride: jsonb('acceptance_override').$type<AcceptanceOverrideRecord>(),
    responsibility: complaintResponsibility('responsibility'),
    upstreamParty: text('upstream_party'),
    needType: complaintNeedType('need_type'),
    qualityClass: qualityClass('quality_class'),
    /** A code of the tenant's causes (workflow settings), once found. */
    cause: text('cause'),
    /** What lay behind the cause, written at resolution. */
    rootCauseNote: text('root_cause_note'),
    liabilityFinding: liabilityFinding('liability_finding'),
    liabilityReason: nonLiabilityReason('liability_reason'),
    liabilityNote: text('liability_note'),
    majorReasons: majorReason('major_reasons').array().notNull().default(sql`'{}'::major_reason[]`),
    /** When the complaint last became major; null while it is general. */
    majorSince: instant('major_since'),
    mediaExposure: boolean('media_exposure').notNull().default(false),
    regulatorInvolved: boolean('regulator_involved').notNull().default(false),
    premisesBlocked: boolean('premises_blocked').notNull().default(false),
    highValueReturn: boolean('high_value_return').notNull().default(false),
    negativeMediaCoverage: boolean('negative_media_coverage').notNull().default(false),
    /** Links complaints about the same matter; enough of them make a collective complaint. */
    incidentKey: text('incident_key'),
    /**
     * The customer's identity for finding repeat complaints: the external id, else the phone's
     * digits, else the lower-cased email, prefixed by which it is. Internal, never shown.
     */
    customerKey: text('customer_key'),
    /** Staff the complaint is about; none of them may handle it (DOMAIN §4, 回避原则). */
    subjectStaff: text('subject_staff').array().notNull().default(sql`'{}'::text[]`),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    version: integer('version').notNull().default(1),
    /** Last event sequence number handed out for this complaint (see events.sequence). */
    eventSequence: bigint('event_sequence', { mode: 'number' }).notNull().default(0),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'complaints_pkey', columns: [table.tenantId, table.id] }),
    uniqueIndex('complaints_tenant_reference_key').on(table.tenantId, table.reference),
    uniqueIndex('complaints_tenant_external_ref_key')
      .on(table.tenantId, table.externalRef)
      .where(sql`${table.externalRef} is not null`),
    // The default listing order: newest received first, id as the tie-breaker for keyset paging.
    // Descending columns say NULLS FIRST, which is what ORDER BY … DESC (drizzle's desc()) means:
    // an index in DESC NULLS LAST order cannot serve that ORDER BY even on NOT NULL columns, and
    // every page of the listing then sorted all of the tenant's complaints.
    index('complaints_tenant_received_idx').on(
      table.tenantId,
      table.receivedAt.desc().nullsFirst(),
      table.id.desc().nullsFirst(),
    ),
    // The listing narrowed by status, newest first. Closed complaints are left out: they are most of
    // a tenant's history (97 % in the scale trial), so a list of closed ones fills its page from the
    // received index as fast, and leaving them out saves ~48 bytes a complaint. Rejected and
    // withdrawn stay in: they also end a complaint, but few do, and their lists walk this index.
    index('complaints_tenant_status_idx')
      .on(table.tenantId, table.status, table.receivedAt.desc().nullsFirst())
      .where(sql`${table.status} <> 'closed'`),
    index('complaints_tenant_assignee_idx').on(
      table.tenantId,
      table.assignee,
      table.receivedAt.desc().nullsFirst(),
    ),
    // The listing narrowed by channel, by category or to major complaints, newest first: each
    // filter has its own walk in listing order, so the planner can read the most selective of a
    // page's filters and stop when the page is full. With only the received index, a rare filter
    // read every complaint of the tenant: 236 ms a page at 1M complaints.
    index('complaints_tenant_channel_idx').on(
      table.tenantId,
      table.channel,
      table.receivedAt.desc().nullsFirst(),
      table.id.desc().nullsFirst(),
    ),
    index('complaints_tenant_category_idx').on(
      table.tenantId,
      table.category,
      table.receivedAt.desc().nullsFirst(),
      table.id.desc().nullsFirst(),
    ),
    // The listing narrowed by channel and category at once. Each alone can be common while the two
    // together are rare (fax and one category: 1 complaint in 20,000), and then either index above
    // reads its whole filter's share of the history for a page: 6,400 rows at 1M complaints. This
    // one reads only the page. (Combining the two indexes in a BitmapAnd would still read every
    // entry of both, and the planner prefers a walk to it.) Complaints without a category are
    // left out: a category filter never matches them. The extended statistics
    // complaints_channel_category_stats (migrations) keep the planner's estimate of a combination
    // right, which decides between walking an index and fetching every match of a list of channels.
    index('complaints_tenant_channel_category_idx')
      .on(
        table.tenantId,
        table.channel,
        table.category,
        table.receivedAt.desc().nullsFirst(),
        table.id.desc().nullsFirst(),
      )
      .where(sql`${table.category} is not null`),
    // The listing narrowed by cause or by quality class, newest first: a rare cause would
    // otherwise read its whole share of the history for a page, as a rare category did.
    // Unclassified complaints are left out: those filters never match them.
    index('complaints_tenant_cause_idx')
      .on(table.tenantId, table.cause, table.receivedAt.desc().nullsFirst(), table.id.desc().nullsFirst())
      .where(sql`${table.cause} is not null`),
    // The listing narrowed by need type, and its immediate needs first (order=immediate_first).
    index('complaints_tenant_need_idx')
      .on(table.tenantId, table.needType, table.receivedAt.desc().nullsFirst(), table.id.desc().nullsFirst())
      .where(sql`${table.needType} is not null`),
    index('complaints_tenant_quality_idx')
      .on(
        table.tenantId,
        table.qualityClass,
        table.receivedAt.desc().nullsFirst(),
        table.id.desc().nullsFirst(),
      )
      .where(sql`${table.qualityClass} is not null`),
    index('complaints_tenant_major_received_idx')
      .on(table.tenantId, table.receivedAt.desc().nullsFirst(), table.id.desc().nullsFirst())
      .where(sql`${table.severity} = 'major'`),
    // Trigram indexes serve substring search in any script, Chinese included, where word-based
    // full-text search would need a segmenter.
    //
    // Both search indexes gather new entries in a pending list, and the insert that finds the list
    // full merges it into the index while its request waits. A complaint adds about 4 kB to the
    // trigram list, so at the default 4 MB limit an intake batch stopped for ~45 ms about twice a
    // second under load; at 512 kB the merges are an eighth the size. Paced at 1,500 creates/s,
    // p99 fell from 49-51 ms to 39-42 ms at the same throughput. (Without a pending list,
    // fastupdate off, intake lost a quarter of its throughput.)
    index('complaints_search_trgm_idx')
      .using(
        'gin',
        table.subject.op('gin_trgm_ops'),
        table.description.op('gin_trgm_ops'),
        table.customerName.op('gin_trgm_ops'),
      )
      .with({ gin_pending_list_limit: SEARCH_PENDING_LIST_KB }),
    // A search of one or two characters has no trigram to look up, and in Chinese that is most
    // searches: a surname, a given name, a word such as 退款. This index of each complaint's
    // characters narrows those to the complaints holding every character searched for.
    index('complaints_search_chars_idx')
      .using('gin', searchCharacters(table))
      .with({ gin_pending_list_limit: SEARCH_PENDING_LIST_KB }),
    // Repeat complaints: same customer and category, received within the tenant's window.
    index('complaints_tenant_customer_category_idx')
      .on(table.tenantId, table.customerKey, table.category, table.receivedAt)
      .where(sql`${table.customerKey} is not null`),
    // A data subject's complaints by a phone or email that is not their customer_key (an external
    // id or a phone came first): see phoneBesideKey. A probe each, never a walk of the tenant.
    index('complaints_tenant_phone_key_idx')
      .on(table.tenantId, customerPhoneKey(table))
      .where(phoneBesideKey(table)),
    index('complaints_tenant_email_key_idx')
      .on(table.tenantId, customerEmailKey(table))
      .where(emailBesideKey(table)),
    // Collective complaints: everything linked to one incident.
    index('complaints_tenant_incident_idx')
      .on(table.tenantId, table.incidentKey)
      .where(sql`${table.incidentKey} is not null`),
    // The major-complaint file, most recently major first.
    index('complaints_tenant_major_idx')
      .on(table.tenantId, table.majorSince.desc().nullsFirst(), table.id.desc().nullsFirst())
      .where(sql`${table.majorSince} is not null`),
    check(
      'complaints_upstream_party_iff_upstream',
      sql`(${table.responsibility} is not distinct from 'upstream') = (${table.upstreamParty} is not null)`,
    ),
    check(
      'complaints_liability_reason_iff_not_liable',
      sql`(${table.liabilityFinding} is not distinct from 'not_liable') = (${table.liabilityReason} is not null)`,
    ),
    check(
      'complaints_rejection_whole',
      sql`(${table.rejectionCode} is null) = (${table.rejectionDetail} is null)`,
    ),
    check('complaints_escalation_level_range', sql`${table.escalationLevel} between 0 and 3`),
    check('complaints_version_positive', sql`${table.version} >= 1`),
  ],
);

/** The complaint a row belongs to; complaintForeignKey removes the row with it. */
export const complaintIdColumn = () => uuid('complaint_id').notNull();

/** A row's key to its complaint, by tenant and id (tenantForeignKey): removed with the complaint. */
export const complaintForeignKey = (
  name: string,
  table: { tenantId: AnyPgColumn; complaintId: AnyPgColumn },
) =>
  tenantForeignKey(name, { tenantId: table.tenantId, column: table.complaintId }, complaints).onDelete(
    'cascade',
  );

export const communications = pgTable(
  'communications',
  {
    id: uuid('id').notNull(),
    tenantId: tenantIdColumn(),
    complaintId: complaintIdColumn(),
    direction: communicationDirection('direction').notNull(),
    channel: complaintChannel('channel').notNull(),
    body: text('body').notNull(),
    contactMade: boolean('contact_made').notNull(),
    occurredAt: instant('occurred_at').notNull(),
    recordedBy: jsonb('recorded_by').$type<ActorRecord>().notNull(),
    /** The reply template the text came from, and the version of it that was used. */
    templateId: uuid('template_id'),
    templateVersion: integer('template_version'),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'communications_pkey', columns: [table.tenantId, table.id] }),
    complaintForeignKey('communications_complaint_fk', table),
    index('communications_complaint_idx').on(table.tenantId, table.complaintId, table.occurredAt),
  ],
);

/**
 * Declared conflicts of interest (DOMAIN §4, 回避原则): staff who must not handle a complaint.
 * There is no route to withdraw one: a recusal, once declared, stands for the complaint's life.
 */
export const complaintConflicts = pgTable(
  'complaint_conflicts',
  {
    id: uuid('id').notNull(),
    tenantId: tenantIdColumn(),
    complaintId: complaintIdColumn(),
    staff: text('staff').notNull(),
    reason: text('reason').notNull(),
    declaredBy: jsonb('declared_by').$type<ActorRecord>().notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [
    // Staff are compared without regard to case, so 'Li.Na' cannot slip past a conflict of 'li.na'.
    primaryKey({ name: 'complaint_conflicts_pkey', columns: [table.tenantId, table.id] }),
    complaintForeignKey('complaint_conflicts_complaint_fk', table),
    uniqueIndex('complaint_conflicts_staff_key').on(
      table.tenantId,
      table.complaintId,
      sql`lower(${table.staff})`,
    ),
    index('complaint_conflicts_complaint_idx').on(table.tenantId, table.complaintId, table.createdAt),
  ],
);

/**
 * The incidents a tenant's complaints were linked to (DOMAIN §2, collective complaints), one row
 * each, which every transaction linking complaints to the incident locks first
 * (MajorComplaintsRepository.lockIncident). A row lock rather than an advisory lock: it is taken
 * where the tenant's rows are, so it holds whichever API process, or Citus coordinator, the
 * transactions come through.
 */
export const complaintIncidents = pgTable(
  'complaint_incidents',
  {
    tenantId: tenantIdColumn(),
    incidentKey: text('incident_key').notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ name: 'complaint_incidents_pkey', columns: [table.tenantId, table.incidentKey] })],
);

/**
 * The last complaint reference number each tenant has handed out (complaintReferenceSql). Intake
 * takes its batch's numbers by adding to the tenant's row in the statement that writes the batch.
 * A row rather than a sequence: a sequence is an object of the one server that made it, so on
 * Citus each coordinator would count from a copy of its own and hand out the same numbers; the
 * row lives where the tenant's rows are, and a second writer, through any API process or
 * coordinator, waits for the first and counts on from its number.
 */
export const complaintReferenceCounters = pgTable(
  'complaint_reference_counters',
  {
    tenantId: tenantIdColumn(),
    lastNumber: bigint('last_number', { mode: 'number' }).notNull(),
  },
  (table) => [primaryKey({ name: 'complaint_reference_counters_pkey', columns: [table.tenantId] })],
);

/**
 * Who did something: the API key that called, and the person it acted for when the caller said;
 * or a person signed in with their organisation's identity provider (`user`, `id` the token's
 * subject); or Redress itself.
 */
export interface ActorRecord {
  type: 'api_key' | 'user' | 'system';
  /** The API key's id, the signed-in person's subject (`sub`), or null for the system. */
  id: string | null;
  name: string;
  onBehalfOf: string | null;
}

export const actorType = pgEnum('actor_type', ['api_key', 'system', 'user']);

/**
 * The append-only history of a complaint. A database trigger (migration 0002) refuses UPDATE
 * and DELETE, so not even a bug in this service can rewrite the record a regulator reads.
 *
 * Entries are the bulk of the database (a dozen or so per complaint), so each stores what only it
 * knows: the actor as columns rather than a JSON copy per entry, and `data` without what the
 * complaint, its communications or the entry's `changes` already hold (timeline_entry_data in
 * src/modules/complaints/sql/ shows it whole). Columns are ordered widest first, so no byte goes
 * to alignment padding. The key leads with the tenant and complaint: every read is one
 * complaint's entries in order, and a distributed table's key must hold its tenant.
 */
export const complaintTimeline = pgTable(
  'complaint_timeline',
  {
    id: bigint('id', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    occurredAt: instant('occurred_at').notNull().defaultNow(),
    tenantId: tenantIdColumn(),
    complaintId: complaintIdColumn(),
    /** The API key's id; null for the system actor and for a person (actor_subject). */
    actorId: uuid('actor_id'),
    actorType: actorType('actor_type').notNull(),
    type: text('type').notNull(),
    actorName: text('actor_name').notNull(),
    actorOnBehalfOf: text('actor_on_behalf_of'),
    /**
     * A signed-in person's subject (the access token's `sub`), which is no UUID; null for keys
     * and the system. A column of its own so actor_id stays 16 bytes on the largest table.
     */
    actorSubject: text('actor_subject'),
    changes: jsonb('changes').$type<Array<{ field: string; before: unknown; after: unknown }>>(),
    data: jsonb('data').$type<Record<string, unknown>>(),
    /**
     * The row the entry is about, for the types timeline_subject_key names (a deadline, a
     * communication, a follow-up): its id out of `data`, with what that row holds for good.
     */
    subjectId: uuid('subject_id'),
    /**
     * The entry's link in its complaint's hash chain: sha256 of the entry before it (its
     * entry_hash) and of its own content as stored. Set by a trigger on every insert, whatever the
     * writer (src/modules/timeline-integrity/sql/timeline_hash_chain.sql); 32 bytes.
     */
    entryHash: bytea('entry_hash').notNull(),
  },
  (table) => [
    primaryKey({ name: 'complaint_timeline_pkey', columns: [table.tenantId, table.complaintId, table.id] }),
    complaintForeignKey('complaint_timeline_complaint_fk', table),
  ],
);

/**
 * The daily digest of a tenant's timelines, one row per tenant and UTC day once the day is over:
 * how many complaints' chains grew that day and a hash over their heads (the entry_hash of each
 * one's last entry of the day, in complaint id order). The row is what makes the
 * `timeline.digest` event once per tenant-day: the job writes the event only with a row it
 * inserted. An outside system that keeps the events can show later that no chain was rewritten.
 */
export const timelineDigests = pgTable(
  'timeline_digests',
  {
    tenantId: tenantIdColumn(),
    day: date('day').notNull(),
    complaints: integer('complaints').notNull(),
    digest: bytea('digest').notNull(),
    eventId: text('event_id').notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [primaryKey({ name: 'timeline_digests_pkey', columns: [table.tenantId, table.day] })],
);
