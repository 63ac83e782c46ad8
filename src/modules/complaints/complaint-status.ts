import { complaintStatus } from '../../db/schema/index.js';

export const COMPLAINT_STATUSES = complaintStatus.enumValues;
export type ComplaintStatus = (typeof COMPLAINT_STATUSES)[number];

/**
 * The complaint life cycle (DOMAIN §4): received → acknowledged → investigating ⇄
 * awaiting_customer → resolved → closed. A resolved or closed complaint reopens to
 * investigating (an unsatisfied customer); rejected and withdrawn end it. An open complaint
 * can be withdrawn by the customer at any point, and rejected until it is resolved.
 */
const TRANSITIONS: Record<ComplaintStatus, readonly ComplaintStatus[]> = {
  received: ['acknowledged', 'rejected', 'withdrawn'],
  acknowledged: ['investigating', 'rejected', 'withdrawn'],
  investigating: ['awaiting_customer', 'resolved', 'rejected', 'withdrawn'],
  awaiting_customer: ['investigating', 'resolved', 'rejected', 'withdrawn'],
  resolved: ['closed', 'investigating'],
  closed: ['investigating'],
  rejected: [],
  withdrawn: [],
};

/** Moves that must say why: ending a complaint without resolving it, and reopening it. */
const REASON_REQUIRED = new Set<string>([
  'received>rejected',
  'acknowledged>rejected',
  'investigating>rejected',
  'awaiting_customer>rejected',
  'received>withdrawn',
  'acknowledged>withdrawn',
  'investigating>withdrawn',
  'awaiting_customer>withdrawn',
  'resolved>investigating',
  'closed>investigating',
]);

/** Statuses the complaint may move to next. */
export const allowedTransitions = (from: ComplaintStatus): readonly ComplaintStatus[] => TRANSITIONS[from];

export const canTransition = (from: ComplaintStatus, to: ComplaintStatus): boolean =>
  TRANSITIONS[from].includes(to);

export const transitionNeedsReason = (from: ComplaintStatus, to: ComplaintStatus): boolean =>
  REASON_REQUIRED.has(`${from}>${to}`);

/** A move out of resolved or closed back into handling. */
export const isReopen = (from: ComplaintStatus, to: ComplaintStatus): boolean =>
  (from === 'resolved' || from === 'closed') && to === 'investigating';

/** Statuses in which nothing more happens to the complaint. */
export const isFinal = (status: ComplaintStatus): boolean => TRANSITIONS[status].length === 0;

/** Statuses in which no handling goes on: closed (until it is reopened), rejected and withdrawn. */
export const isFinished = (status: ComplaintStatus): boolean => status === 'closed' || isFinal(status);

/** Statuses past resolution: nothing more is owed to the customer before a follow-up or reopening. */
export const isResolvedOrFinished = (status: ComplaintStatus): boolean =>
  status === 'resolved' || isFinished(status);

/** The finished statuses (isFinished), for SQL that must know them: a breach does not escalate these. */
export const FINISHED_STATUSES = COMPLAINT_STATUSES.filter(isFinished);

/** The statuses before resolution, in which a complaint counts as open in the reports. */
export const OPEN_STATUSES = COMPLAINT_STATUSES.filter((status) => !isResolvedOrFinished(status));
