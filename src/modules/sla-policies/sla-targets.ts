import type { StoredEscalationTargets, StoredTargets } from '../../db/schema/index.js';

/** The deadline kinds, in API (camelCase target) and storage (snake_case kind) spelling. */
export const TARGET_KEYS = [
  'firstContact',
  'onlineReply',
  'resolution',
  'followUp',
  'majorReport',
  'progressUpdate',
  'preRefundVerification',
  'deskFeedback',
] as const;
export type TargetKey = (typeof TARGET_KEYS)[number];

export const DEADLINE_KINDS = [
  'first_contact',
  'online_reply',
  'resolution',
  'follow_up',
  'major_report',
  'progress_update',
  'pre_refund_verification',
  'desk_feedback',
  'promise',
] as const;
export type DeadlineKind = (typeof DEADLINE_KINDS)[number];

/**
 * Kinds whose due time the caller always gives, so no policy target stands behind them: a promise
 * to the customer falls due when the handler said it would.
 */
export const GIVEN_DUE_KINDS = ['promise'] as const satisfies readonly DeadlineKind[];
export type GivenDueKind = (typeof GIVEN_DUE_KINDS)[number];
/** The kinds a policy sets a target for. */
export type PolicyDeadlineKind = Exclude<DeadlineKind, GivenDueKind>;

export const kindOfTarget: Record<TargetKey, PolicyDeadlineKind> = {
  firstContact: 'first_contact',
  onlineReply: 'online_reply',
  resolution: 'resolution',
  followUp: 'follow_up',
  majorReport: 'major_report',
  progressUpdate: 'progress_update',
  preRefundVerification: 'pre_refund_verification',
  deskFeedback: 'desk_feedback',
};

export const targetOfKind = Object.fromEntries(
  Object.entries(kindOfTarget).map(([target, kind]) => [kind, target]),
) as Record<PolicyDeadlineKind, TargetKey>;

/** True for a kind whose due time is given rather than set by a policy target. */
export const isGivenDueKind = (kind: DeadlineKind): kind is GivenDueKind =>
  (GIVEN_DUE_KINDS as readonly DeadlineKind[]).includes(kind);

/**
 * The seed values (DOMAIN §3): first contact within 24 hours, online complaints answered within
 * 4 hours, resolution in 5 business days, a follow-up visit within 24 hours of resolution, major
 * complaints reported within 24 hours, progress updates every 4 hours when promised or major, a
 * pre-refund verified within 3 days (3日内查证), and the resolution fed back to the central service
 * desk within 24 hours of it (seed 000).
 */
export const DEFAULT_TARGETS: StoredTargets = {
  firstContact: { duration: 'PT24H', clock: 'calendar' },
  onlineReply: { duration: 'PT4H', clock: 'calendar' },
  resolution: { duration: 'P5D', clock: 'business' },
  followUp: { duration: 'PT24H', clock: 'calendar' },
  majorReport: { duration: 'PT24H', clock: 'calendar' },
  progressUpdate: { duration: 'PT4H', clock: 'calendar' },
  preRefundVerification: { duration: 'P3D', clock: 'calendar' },
  deskFeedback: { duration: 'PT24H', clock: 'calendar' },
};

/**
 * A policy's targets with the defaults for any kind added after the policy was written, so a
 * stored policy always has a target for every kind.
 */
export const withDefaultTargets = (targets: Partial<StoredTargets>): StoredTargets => ({
  ...DEFAULT_TARGETS,
  ...targets,
});

export const DEFAULT_WARN_AT = [0.75];

/**
 * Who each escalation level reaches by default (DOMAIN §4): the team lead, then the department
 * manager, then the crisis team led by the general manager.
 */
export const DEFAULT_ESCALATION_TARGETS: StoredEscalationTargets = {
  '1': [{ role: 'team_lead' }],
  '2': [{ role: 'department_manager' }],
  '3': [{ role: 'crisis_team' }, { role: 'general_manager' }],
};

/** Channels whose complaints must be answered within the online-reply target (DOMAIN §1). */
export const ONLINE_CHANNELS: ReadonlySet<string> = new Set([
  'web',
  'app',
  'chat',
  'social_media',
  'online_forum',
  'email',
]);

export const isOnlineChannel = (channel: string): boolean => ONLINE_CHANNELS.has(channel);
