import { DateTime } from 'luxon';
import type { ComplaintRow } from '../complaints/complaints.repository.js';
import type { NextDeadline } from '../deadlines/deadline-views.js';
import { withoutBlanks } from './template-rendering.js';

/** How times appear in replies: the tenant's local time to the minute, e.g. 2026-11-25 14:00. */
const LOCAL_FORMAT = 'yyyy-MM-dd HH:mm';

const local = (at: Date | null | undefined, timeZone: string) =>
  at ? DateTime.fromJSDate(at, { zone: timeZone }).toFormat(LOCAL_FORMAT) : null;

/**
 * The variables a reply template can use about a complaint. Facts the complaint lacks are left out,
 * so a template that needs one fails naming it. The caller's `extra` variables fill in anything
 * else (`resolution.measures`, a promised time); the complaint's own facts take precedence.
 */
export function complaintTemplateContext(
  complaint: ComplaintRow,
  nextDeadline: NextDeadline | undefined,
  timeZone: string,
  now: Date,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const facts = withoutBlanks({
    reference: complaint.reference,
    status: complaint.status,
    channel: complaint.channel,
    severity: complaint.severity,
    category: complaint.category,
    subject: complaint.subject,
    desiredOutcome: complaint.desiredOutcome,
    assignee: complaint.assignee,
    receivedAt: local(complaint.receivedAt, timeZone),
    customer: {
      name: complaint.customerName,
      phone: complaint.customerPhone,
      email: complaint.customerEmail,
      address: complaint.customerAddress,
      externalId: complaint.customerExternalId,
    },
    nextDueAt: local(nextDeadline?.dueAt, timeZone),
    nextDeadline: nextDeadline ? { kind: nextDeadline.kind, dueAt: nextDeadline.dueAt.toISOString() } : null,
    today: DateTime.fromJSDate(now, { zone: timeZone }).toISODate(),
  });
  return { ...withoutBlanks(extra), ...facts };
}
