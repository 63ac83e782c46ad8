import type { StoredTargets } from '../../db/schema/index.js';
import { CalendarClosedError } from '../../lib/errors.js';
import {
  addDuration,
  type BusinessCalendar,
  type DurationClock,
  durationBetween,
  NoOpenTimeError,
} from '../calendars/business-time.js';
import { clockDueAt } from '../regulatory-regimes/regimes.js';
import {
  type DeadlineKind,
  isGivenDueKind,
  isOnlineChannel,
  targetOfKind,
  withDefaultTargets,
} from '../sla-policies/sla-targets.js';

/**
 * Pure deadline arithmetic: which deadlines a complaint gets, when each falls due and warns,
 * and how much time is left when one is paused. Time is always passed in.
 */

export interface PlanningPolicy {
  id: string;
  version: number;
  calendarId: string | null;
  warnAt: number[];
  targets: StoredTargets;
}

export interface PlannedDeadline {
  kind: DeadlineKind;
  clock: DurationClock;
  /** The ISO-8601 target it came from, e.g. PT24H; null for a kind whose due time is given (a promise). */
  duration: string | null;
  startsAt: Date;
  dueAt: Date;
  warnAts: Date[];
  warnFractions: number[];
  /** Allowed time in the deadline's clock: real ms for calendar clocks, open ms for business clocks. */
  durationMs: number;
  policyId: string;
  policyVersion: number;
  calendarId: string | null;
}

/** Deadlines opened at intake (DOMAIN §3): first contact always; online reply for online channels;
 * resolution always; and for major complaints the report up and regular progress updates. */
export function intakeKinds(complaint: { channel: string; severity: string }): DeadlineKind[] {
  const kinds: DeadlineKind[] = ['first_contact'];
  if (isOnlineChannel(complaint.channel)) kinds.push('online_reply');
  kinds.push('resolution');
  if (complaint.severity === 'major') kinds.push('major_report', 'progress_update');
  return kinds;
}

function warningsFor(
  startsAt: Date,
  durationMs: number,
  fractions: number[],
  clock: DurationClock,
  calendar: BusinessCalendar | null,
): Date[] {
  const origin = addDuration(startsAt, 0, clock, calendar);
  return fractions.map((fraction) => addDuration(origin, Math.round(durationMs * fraction), clock, calendar));
}

/**
 * Plans one deadline of a policy from `startsAt`. `dueAt` overrides the policy target (a
 * handler's promised update time); warnings still fall at the policy's fractions of the span.
 */
export function planDeadline(input: {
  kind: DeadlineKind;
  startsAt: Date;
  policy: PlanningPolicy;
  calendar: BusinessCalendar | null;
  dueAt?: Date;
}): PlannedDeadline {
  try {
    return planOnCalendar(input);
  } catch (error) {
    if (error instanceof NoOpenTimeError) throw new CalendarClosedError(input.policy.calendarId ?? 'none');
    throw error;
  }
}

function planOnCalendar(input: Parameters<typeof planDeadline>[0]): PlannedDeadline {
  const { kind, startsAt, policy, calendar } = input;
  if (isGivenDueKind(kind)) {
    // A promise runs on real time to the moment promised; the policy only gives its warnings.
    if (!input.dueAt) throw new Error(`A '${kind}' deadline needs its due time`);
    const durationMs = Math.max(0, input.dueAt.getTime() - startsAt.getTime());
    return {
      kind,
      clock: 'calendar',
      duration: null,
      startsAt,
      dueAt: input.dueAt,
      warnAts: warningsFor(startsAt, durationMs, policy.warnAt, 'calendar', null),
      warnFractions: [...policy.warnAt],
      durationMs,
      policyId: policy.id,
      policyVersion: policy.version,
      calendarId: null,
    };
  }
  // A policy stored before a kind existed has no target for it: the default applies.
  const target = withDefaultTargets(policy.targets)[targetOfKind[kind]];
  const clock = target.clock;
  // On a calendar clock the policy calendar plays no part: its days are 24 real hours.
  // A regulatory target may end on a working day (regimes.ts), read in the policy calendar.
  const dueAt = input.dueAt ?? clockDueAt(target, startsAt, calendar);
  const durationMs = durationBetween(startsAt, dueAt, clock, calendar);
  return {
    kind,
    clock,
    duration: target.duration,
    startsAt,
    dueAt,
    warnAts: warningsFor(startsAt, durationMs, policy.warnAt, clock, calendar),
    warnFractions: [...policy.warnAt],
    durationMs,
    policyId: policy.id,
    policyVersion: policy.version,
    calendarId: clock === 'business' ? policy.calendarId : null,
  };
}

/** How much of its clock a deadline has left at `at`, for pausing it. */
export function remainingAt(
  deadline: { dueAt: Date; clock: DurationClock },
  at: Date,
  calendar: BusinessCalendar | null,
): number {
  return durationBetween(at, deadline.dueAt, deadline.clock, calendar);
}

/**
 * New due and warning times for a paused deadline resumed at `at`: the remaining time runs on
 * from there. A warning not yet recorded falls where the same share of the span is left; one
 * whose point already passed during the pause fires at once.
 */
export function resumeTimes(
  deadline: {
    clock: DurationClock;
    remainingMs: number;
    durationMs: number;
    warnFractions: number[];
    warningsFired: number;
  },
  at: Date,
  calendar: BusinessCalendar | null,
): { dueAt: Date; warnAts: Date[] } {
  const dueAt = addDuration(at, deadline.remainingMs, deadline.clock, calendar);
  const warnAts = deadline.warnFractions.map((fraction) => {
    const leftAtWarning = Math.round(deadline.durationMs * (1 - fraction));
    const untilWarning = Math.max(0, deadline.remainingMs - leftAtWarning);
    return addDuration(at, untilWarning, deadline.clock, calendar);
  });
  return { dueAt, warnAts };
}
