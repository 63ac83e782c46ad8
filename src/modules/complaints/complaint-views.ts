import { etagForVersion } from '../../lib/etag.js';
import { type NextDeadline, toNextDeadline } from '../deadlines/deadline-views.js';
import { timelineActor } from './complaint-records.js';
import type { CommunicationRow, ComplaintRow, TimelineRow } from './complaints.repository.js';
import type { CommunicationView, ComplaintView, TimelineEntryView } from './complaints.schemas.js';

const iso = (date: Date) => date.toISOString();
const isoOrNull = (date: Date | null) => (date ? date.toISOString() : null);

/**
 * The complaint as the REST API, GraphQL and events show it. complaint_view (./sql/) builds the
 * same JSON in SQL for the worker's events; a test compares the two.
 */
export function toComplaintView(row: ComplaintRow, nextDeadline: NextDeadline | undefined): ComplaintView {
  return {
    id: row.id,
    reference: row.reference,
    status: row.status,
    channel: row.channel,
    severity: row.severity,
    priority: row.priority,
    category: row.category,
    subject: row.subject,
    description: row.description,
    customer: {
      name: row.customerName,
      phone: row.customerPhone,
      email: row.customerEmail,
      address: row.customerAddress,
      externalId: row.customerExternalId,
    },
    desiredOutcome: row.desiredOutcome,
    occurredAt: isoOrNull(row.occurredAt),
    receivedAt: iso(row.receivedAt),
    receivedBy: row.receivedBy,
    assignee: row.assignee,
    escalationLevel: row.escalationLevel,
    externalRef: row.externalRef,
    complainantRelation: row.complainantRelation,
    complainantAuthorised: row.complainantAuthorised,
    rejection:
      row.rejectionCode && row.rejectionDetail !== null
        ? { code: row.rejectionCode, detail: row.rejectionDetail }
        : null,
    acceptanceOverride: row.acceptanceOverride,
    responsibility: row.responsibility,
    upstreamParty: row.upstreamParty,
    needType: row.needType,
    qualityClass: row.qualityClass,
    cause: row.cause,
    rootCauseNote: row.rootCauseNote,
    liability: row.liabilityFinding
      ? { finding: row.liabilityFinding, reason: row.liabilityReason, note: row.liabilityNote }
      : null,
    majorReasons: row.majorReasons,
    majorSince: isoOrNull(row.majorSince),
    mediaExposure: row.mediaExposure,
    regulatorInvolved: row.regulatorInvolved,
    premisesBlocked: row.premisesBlocked,
    highValueReturn: row.highValueReturn,
    negativeMediaCoverage: row.negativeMediaCoverage,
    incidentKey: row.incidentKey,
    subjectStaff: row.subjectStaff,
    tags: row.tags,
    metadata: row.metadata,
    version: row.version,
    nextDeadline: toNextDeadline(nextDeadline),
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

export const complaintEtag = (row: Pick<ComplaintRow, 'version'>): string => etagForVersion(row.version);

export function toCommunicationView(row: CommunicationRow): CommunicationView {
  return {
    id: row.id,
    complaintId: row.complaintId,
    direction: row.direction,
    channel: row.channel,
    body: row.body,
    contactMade: row.contactMade,
    occurredAt: iso(row.occurredAt),
    recordedBy: row.recordedBy,
    template:
      row.templateId !== null && row.templateVersion !== null
        ? { id: row.templateId, version: row.templateVersion }
        : null,
    createdAt: iso(row.createdAt),
  };
}

/**
 * What intake sets that a later change overwrites without recording a `before`, so the
 * `complaint.created` entry must keep it:
 * - `status`: kept since the daily inventory read it there (it reads its kept counts now);
 * - `version`, `updatedAt`: every change moves them;
 * - `rejection`, `acceptanceOverride`: declining at intake and the override set them beside the
 *   status change, which is all they record;
 * - `majorSince`: set and cleared with the major reasons, which are recorded;
 * - `escalationLevel`: a major complaint is taken in at its level, and its escalation records
 *   the level it had before intake;
 * - `nextDeadline`: deadlines are met, paused and moved on their own.
 * Every other field is the complaint as it stands with later changes undone (complaint_unwound
 * in ./sql/), so whatever changes one must record its `before` in the entry's `changes`, as
 * every change does now (test/complaint-timeline.test.ts compares the rebuilt complaint with
 * the one intake announced). The lean_timeline migration slimmed older entries with this same
 * list: a field added here needs a migration for the entries already written. A field at the
 * value intake gives almost every complaint is not stored at all (timeline_entry_defaults in
 * ./sql/timeline_entries.sql).
 */
export const KEPT_AT_INTAKE = [
  'status',
  'version',
  'updatedAt',
  'rejection',
  'acceptanceOverride',
  'majorSince',
  'escalationLevel',
  'nextDeadline',
] as const satisfies ReadonlyArray<keyof ComplaintView>;

/**
 * The `data` a `complaint.created` timeline entry stores: of the complaint as it was taken in,
 * only what the complaint and later entries cannot give back (KEPT_AT_INTAKE). The timeline API
 * shows the whole complaint as it was taken in (complaint_as_taken_in in ./sql/).
 */
export function takenInEntryData(view: ComplaintView): {
  complaint: Pick<ComplaintView, (typeof KEPT_AT_INTAKE)[number]>;
} {
  return {
    complaint: Object.fromEntries(KEPT_AT_INTAKE.map((field) => [field, view[field]])) as Pick<
      ComplaintView,
      (typeof KEPT_AT_INTAKE)[number]
    >,
  };
}

export function toTimelineEntryView(row: TimelineRow): TimelineEntryView {
  return {
    id: String(row.id),
    type: row.type,
    actor: timelineActor(row),
    occurredAt: iso(row.occurredAt),
    changes: row.changes ?? null,
    data: row.data ?? null,
  };
}
