import type { PreRefundRow, ResolutionWithOptions } from './resolutions.repository.js';
import type { PreRefundView, ResolutionView } from './resolutions.schemas.js';

const isoOrNull = (date: Date | null) => (date ? date.toISOString() : null);

/** The resolution as the REST API and events show it. */
export function toResolutionView(row: ResolutionWithOptions): ResolutionView {
  return {
    id: row.id,
    complaintId: row.complaintId,
    status: row.status,
    proposedBy: row.proposedBy,
    note: row.note,
    options: row.options.map((option) => ({
      id: option.id,
      kind: option.kind,
      description: option.description,
      amount: option.amount,
      currency: option.currency,
      approval: option.approval,
      decidedBy: option.decidedBy,
      decidedAt: isoOrNull(option.decidedAt),
      decisionNote: option.decisionNote,
    })),
    chosenOptionId: row.chosenOptionId,
    choiceNote: row.choiceNote,
    choiceRecordedAt: isoOrNull(row.choiceRecordedAt),
    executedAt: isoOrNull(row.executedAt),
    executedBy: row.executedBy,
    notice: row.notice ? { ...row.notice, communicationId: row.noticeCommunicationId } : null,
    actor: row.actor,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The pre-refund as the REST API and events show it. */
export function toPreRefundView(row: PreRefundRow): PreRefundView {
  return {
    id: row.id,
    complaintId: row.complaintId,
    amount: row.amount,
    currency: row.currency,
    refundedBy: row.refundedBy,
    refundedAt: row.refundedAt.toISOString(),
    paymentReference: row.paymentReference,
    note: row.note,
    status: row.status,
    deadlineId: row.deadlineId,
    verifiedAt: isoOrNull(row.verifiedAt),
    verifiedBy: row.verifiedBy,
    verificationNote: row.verificationNote,
    actor: row.actor,
    createdAt: row.createdAt.toISOString(),
  };
}
