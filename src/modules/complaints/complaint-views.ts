import { etagForVersion } from '../../lib/etag.js';
import { type NextDeadline, toNextDeadline } from '../deadlines/deadline-views.js';
import type { CommunicationRow, ComplaintRow, TimelineRow } from './complaints.repository.js';
import type { CommunicationView, ComplaintView, TimelineEntryView } from './complaints.schemas.js';

const iso = (date: Date) => date.toISOString();
const isoOrNull = (date: Date | null) => (date ? date.toISOString() : null);

/**
 * The complaint as the REST API, GraphQL and events show it. complaint_view (migrations 0008 and
 * 0012) builds the same JSON in SQL for the worker's events; a test compares the two.
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
    liability: row.liabilityFinding
      ? { finding: row.liabilityFinding, reason: row.liabilityReason, note: row.liabilityNote }
      : null,
    majorReasons: row.majorReasons,
    majorSince: isoOrNull(row.majorSince),
    mediaExposure: row.mediaExposure,
    regulatorInvolved: row.regulatorInvolved,
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

export function toTimelineEntryView(row: TimelineRow): TimelineEntryView {
  return {
    id: String(row.id),
    type: row.type,
    actor: row.actor,
    occurredAt: iso(row.occurredAt),
    changes: row.changes ?? null,
    data: row.data ?? null,
  };
}
