import { z } from 'zod';
import type { Db, Queryable } from '../../db/client.js';
import type { ActorRecord } from '../../db/schema/index.js';
import type { DeadlineJob } from '../../jobs/queues.js';
import type { Clock } from '../../lib/clock.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { ConflictError, NotFoundError } from '../../lib/errors.js';
import { groupBy } from '../../lib/group-by.js';
import { newId, newTimeOrderedId } from '../../lib/ids.js';
import { twoRunCursor, twoRunPage, twoRunStart } from '../../lib/two-run-pages.js';
import type { BusinessCalendar } from '../calendars/business-time.js';
import { isFinished, isResolvedOrFinished } from '../complaints/complaint-status.js';
import type { ComplaintRow, ComplaintsRepository } from '../complaints/complaints.repository.js';
import { needTypesOfRun } from '../complaints/immediate-first.js';
import { type EventsRepository, newEventId } from '../events/events.repository.js';
import type { GoverningPolicy } from '../sla-policies/sla-policies.service.js';
import { DEADLINE_KINDS, type DeadlineKind, isOnlineChannel } from '../sla-policies/sla-targets.js';
import {
  intakeKinds,
  type PlannedDeadline,
  planDeadline,
  remainingAt,
  resumeTimes,
} from './deadline-planning.js';
import type { ArmableDeadline, DeadlineScheduler } from './deadline-scheduler.js';
import { toDeadlineView } from './deadline-views.js';
import type {
  DeadlineFilters,
  DeadlineRow,
  DeadlinesRepository,
  NewDeadlineRow,
  RecordedWakeUp,
} from './deadlines.repository.js';

const SYSTEM_ACTOR: ActorRecord = { type: 'system', id: null, name: 'redress', onBehalfOf: null };
const listCursorShape = z.tuple([z.iso.datetime(), z.uuid()]);

/** The cursor that pages on after this deadline in the due-order work queue. */
export const deadlineListCursor = (row: Pick<DeadlineRow, 'dueAt' | 'id'>): string =>
  encodeCursor([row.dueAt.toISOString(), row.id]);

/** Deadlines whose clocks stop while the complaint waits for the customer. */
const PAUSABLE: ReadonlySet<DeadlineKind> = new Set(['resolution', 'progress_update']);
/** Kinds no automatic action meets; a handler records them done. */
const MANUALLY_MET: ReadonlySet<DeadlineKind> = new Set(['major_report', 'follow_up']);
/**
 * Kinds owed whatever becomes of the complaint: money already paid back at once must be verified
 * even when the customer withdraws or the complaint is closed, and a promise made to the customer
 * stands until it is kept or withdrawn with a reason (seeds 000, 002), whatever the status.
 */
const OUTLIVES_COMPLAINT: ReadonlySet<DeadlineKind> = new Set([
  'pre_refund_verification',
  'desk_feedback',
  'promise',
]);

type ComplaintRef = Pick<ComplaintRow, 'id' | 'tenantId' | 'reference' | 'channel' | 'category' | 'severity'>;

/** What a change did to deadlines: those to arm in BullMQ once the transaction commits. */
export interface DeadlineEffects {
  toArm: ArmableDeadline[];
}

export interface CommunicationFacts {
  id: string;
  direction: 'inbound' | 'outbound';
  channel: string;
  contactMade: boolean;
  occurredAt: Date;
  /** A next-update time the handler promised the customer. */
  nextUpdateBy: Date | null;
}

export function createDeadlinesService(deps: {
  db: Db;
  deadlines: DeadlinesRepository;
  complaints: Pick<ComplaintsRepository, 'appendTimeline' | 'findByKey'>;
  events: EventsRepository;
  governing: (
    tenantId: string,
    facts: { channel: string; category: string | null; severity: string },
    tx: Queryable,
  ) => Promise<GoverningPolicy>;
  calendarFor: (
    tenantId: string,
    calendarId: string | null,
    tx: Queryable,
  ) => Promise<BusinessCalendar | null>;
  scheduler: DeadlineScheduler | null;
  clock: Clock;
  onArmError?: (error: unknown) => void;
}) {
  const { deadlines, events, clock } = deps;

  function toRow(
    complaint: Pick<ComplaintRef, 'id' | 'tenantId'>,
    planned: PlannedDeadline,
    sourceId: string | null,
    now: Date,
  ): NewDeadlineRow {
    return {
      id: newTimeOrderedId(),
      tenantId: complaint.tenantId,
      complaintId: complaint.id,
      kind: planned.kind,
      status: 'pending',
      startsAt: planned.startsAt,
      dueAt: planned.dueAt,
      warnAts: planned.warnAts,
      warnFractions: planned.warnFractions,
      clock: planned.clock,
      targetDuration: planned.duration,
      durationMs: planned.durationMs,
      policyId: planned.policyId,
      policyVersion: planned.policyVersion,
      calendarId: planned.calendarId,
      sourceId,
      createdAt: now,
      updatedAt: now,
    };
  }

  /** Plans deadline rows under the policy governing the complaint now, without writing them. */
  async function plan(
    complaint: Pick<ComplaintRef, 'id' | 'tenantId' | 'channel' | 'category' | 'severity'>,
    requests: Array<{ kind: DeadlineKind; startsAt: Date; dueAt?: Date; sourceId?: string | null }>,
    tx: Queryable,
  ): Promise<NewDeadlineRow[]> {
    if (requests.length === 0) return [];
    const { policy, calendar } = await deps.governing(complaint.tenantId, complaint, tx);
    const now = clock.now();
    return requests.map((request) =>
      toRow(
        complaint,
        planDeadline({
          kind: request.kind,
          startsAt: request.startsAt,
          policy,
          calendar,
          dueAt: request.dueAt,
        }),
        request.sourceId ?? null,
        now,
      ),
    );
  }

  async function open(
    complaint: ComplaintRef,
    requests: Array<{ kind: DeadlineKind; startsAt: Date; dueAt?: Date; sourceId?: string | null }>,
    tx: Queryable,
  ): Promise<DeadlineRow[]> {
    if (requests.length === 0) return [];
    const { policy, calendar } = await deps.governing(complaint.tenantId, complaint, tx);
    const now = clock.now();
    const rows = requests.map((request) =>
      toRow(
        complaint,
        planDeadline({
          kind: request.kind,
          startsAt: request.startsAt,
          policy,
          calendar,
          dueAt: request.dueAt,
        }),
        request.sourceId ?? null,
        now,
      ),
    );
    return deadlines.insertMany(rows, tx);
  }

  async function recordOnComplaint(
    complaint: ComplaintRef,
    type: 'deadline.met' | 'deadline.breached' | 'deadline.warning',
    row: DeadlineRow,
    at: Date,
    actor: ActorRecord,
    extra: Record<string, unknown>,
    tx: Queryable,
  ) {
    const view = toDeadlineView(row);
    await events.appendForComplaint(
      {
        tenantId: complaint.tenantId,
        complaint,
        type,
        occurredAt: at,
        payload: { deadline: view, ...extra },
      },
      tx,
    );
    if (type !== 'deadline.warning') {
      await deps.complaints.appendTimeline(
        [
          {
            tenantId: complaint.tenantId,
            complaintId: complaint.id,
            type,
            actor,
            occurredAt: at,
            data: { deadlineId: row.id, kind: row.kind, dueAt: view.dueAt, ...extra },
          },
        ],
        tx,
      );
    }
  }

  /**
   * Meets each unmet deadline of the given kinds that had started by `at`, the moment the action
   * happened (a call logged afterwards counts from when it was made). One already breached is met
   * late and keeps its breach.
   */
  async function meet(
    complaint: ComplaintRef,
    unmet: DeadlineRow[],
    kinds: DeadlineKind[],
    actor: ActorRecord,
    tx: Queryable,
    at: Date = clock.now(),
  ): Promise<void> {
    const now = clock.now();
    for (const [index, row] of unmet.entries()) {
      if (!kinds.includes(row.kind) || row.status === 'met' || row.status === 'cancelled') continue;
      if (row.startsAt.getTime() > at.getTime()) continue;
      const met = await deadlines.update(row, { status: 'met', metAt: at }, now, tx);
      // Later steps of the same change read this list: keep it current.
      unmet[index] = met;
      await recordOnComplaint(
        complaint,
        'deadline.met',
        met,
        now,
        actor,
        { late: at.getTime() > met.dueAt.getTime() },
        tx,
      );
    }
  }

  async function cancel(unmet: DeadlineRow[], kinds: DeadlineKind[] | 'all', tx: Queryable): Promise<void> {
    const now = clock.now();
    for (const [index, row] of unmet.entries()) {
      if (row.status !== 'pending' && row.status !== 'paused') continue;
      if (kinds !== 'all' && !kinds.includes(row.kind)) continue;
      unmet[index] = await deadlines.update(row, { status: 'cancelled', cancelledAt: now }, now, tx);
    }
  }

  async function pause(unmet: DeadlineRow[], tx: Queryable): Promise<void> {
    const now = clock.now();
    for (const row of unmet) {
      if (row.status !== 'pending' || !PAUSABLE.has(row.kind)) continue;
      const calendar = await deps.calendarFor(row.tenantId, row.calendarId, tx);
      await deadlines.update(
        row,
        { status: 'paused', pausedAt: now, remainingMs: remainingAt(row, now, calendar) },
        now,
        tx,
      );
    }
  }

  async function resume(unmet: DeadlineRow[], tx: Queryable): Promise<DeadlineRow[]> {
    const now = clock.now();
    const resumed: DeadlineRow[] = [];
    for (const row of unmet) {
      if (row.status !== 'paused') continue;
      const calendar = await deps.calendarFor(row.tenantId, row.calendarId, tx);
      const { dueAt, warnAts } = resumeTimes({ ...row, remainingMs: row.remainingMs ?? 0 }, now, calendar);
      resumed.push(
        await deadlines.update(
          row,
          { status: 'pending', dueAt, warnAts, pausedAt: null, remainingMs: null },
          now,
          tx,
        ),
      );
    }
    return resumed;
  }

  const service = {
    /**
     * The intake deadlines of a complaint about to be inserted (its id is already chosen), planned
     * so that the complaint and its deadlines are written in one statement.
     */
    planAtIntake(
      complaint: Pick<ComplaintRef, 'id' | 'tenantId' | 'channel' | 'category' | 'severity'> & {
        receivedAt: Date;
      },
      tx?: Queryable,
    ): Promise<NewDeadlineRow[]> {
      return plan(
        complaint,
        intakeKinds(complaint).map((kind) => ({ kind, startsAt: complaint.receivedAt })),
        tx ?? deps.db,
      );
    },

    /** A complaint that becomes major gets its report-up and progress-update deadlines from now. */
    async onSeverityChange(
      complaint: ComplaintRow,
      previous: ComplaintRow['severity'],
      tx: Queryable,
    ): Promise<DeadlineEffects> {
      if (previous === complaint.severity || isResolvedOrFinished(complaint.status)) return { toArm: [] };
      const all = await deadlines.listForComplaint(complaint.tenantId, complaint.id, tx);
      if (complaint.severity !== 'major') {
        // No longer major: the report up is moot. Promised progress updates still stand.
        await cancel(all, ['major_report'], tx);
        return { toArm: [] };
      }
      // Major (again): report up unless that was done or is under way, and keep the customer updated.
      const has = (kind: DeadlineKind, statuses: DeadlineRow['status'][]) =>
        all.some((row) => row.kind === kind && statuses.includes(row.status));
      const now = clock.now();
      const requests: Array<{ kind: DeadlineKind; startsAt: Date }> = [];
      if (!has('major_report', ['pending', 'paused', 'breached', 'met']))
        requests.push({ kind: 'major_report', startsAt: now });
      if (!has('progress_update', ['pending', 'paused']))
        requests.push({ kind: 'progress_update', startsAt: now });
      return { toArm: await open(complaint, requests, tx) };
    },

    /**
     * A complaint declined at intake and then taken in after all (a supervisor's override): the
     * deadlines intake would have opened, running from now rather than from its receipt.
     */
    async onAcceptance(complaint: ComplaintRow, tx: Queryable): Promise<DeadlineEffects> {
      const now = clock.now();
      return {
        toArm: await open(
          complaint,
          intakeKinds(complaint).map((kind) => ({ kind, startsAt: now })),
          tx,
        ),
      };
    },

    /** Applies a recorded communication: contact meets deadlines, an online message opens a next reply. */
    async onCommunication(
      complaint: ComplaintRow,
      communication: CommunicationFacts,
      actor: ActorRecord,
      tx: Queryable,
    ): Promise<DeadlineEffects> {
      const unmet = await deadlines.lockUnmetForComplaint(complaint.tenantId, complaint.id, tx);
      const opened: DeadlineRow[] = [];
      if (communication.direction === 'outbound') {
        const kinds: DeadlineKind[] = [];
        // Contact made answers the customer whatever the channel: a call back to an online
        // complaint is its reply too (DOMAIN §3 sets the time, not the medium).
        if (communication.contactMade) kinds.push('first_contact', 'progress_update', 'online_reply');
        await meet(complaint, unmet, kinds, actor, tx, communication.occurredAt);
        const promised = communication.nextUpdateBy;
        if (
          !isResolvedOrFinished(complaint.status) &&
          (promised || (communication.contactMade && complaint.severity === 'major'))
        ) {
          if (promised) await cancel(unmet, ['progress_update'], tx);
          opened.push(
            ...(await open(
              complaint,
              [
                {
                  kind: 'progress_update',
                  startsAt: communication.occurredAt,
                  dueAt: promised ?? undefined,
                  sourceId: communication.id,
                },
              ],
              tx,
            )),
          );
        }
      } else if (isOnlineChannel(communication.channel) && !isFinished(complaint.status)) {
        const waiting = unmet.some((row) => row.kind === 'online_reply' && row.status === 'pending');
        if (!waiting) {
          opened.push(
            ...(await open(
              complaint,
              [{ kind: 'online_reply', startsAt: communication.occurredAt, sourceId: communication.id }],
              tx,
            )),
          );
        }
      }
      return { toArm: opened };
    },

    /** Applies a status change: pause, resume, meet, cancel or open deadlines as the move requires. */
    async onTransition(
      complaint: ComplaintRow,
      from: ComplaintRow['status'],
      to: ComplaintRow['status'],
      actor: ActorRecord,
      tx: Queryable,
    ): Promise<DeadlineEffects> {
      const unmet = await deadlines.lockUnmetForComplaint(complaint.tenantId, complaint.id, tx);
      const toArm: DeadlineRow[] = [];
      if (from === 'awaiting_customer') toArm.push(...(await resume(unmet, tx)));
      const current = await deadlines.lockUnmetForComplaint(complaint.tenantId, complaint.id, tx);
      const now = clock.now();
      switch (to) {
        case 'awaiting_customer':
          await pause(current, tx);
          break;
        case 'resolved':
          // The resolution reaches the customer: it answers them as well as resolving. The
          // follow-up visit it may call for is the follow-ups module's to open (exemptions).
          await meet(
            complaint,
            current,
            ['resolution', 'progress_update', 'first_contact', 'online_reply'],
            actor,
            tx,
          );
          // The resolution goes back to the central service desk within the policy's deskFeedback
          // target (24 hours by default, seed 000); closing the complaint does not take it away.
          toArm.push(...(await open(complaint, [{ kind: 'desk_feedback', startsAt: now }], tx)));
          break;
        case 'investigating':
          if (from === 'resolved' || from === 'closed') {
            // A reopened complaint needs resolving again; the follow-up visit and the desk feedback of
            // the old resolution are moot (the next resolution owes its own).
            await cancel(current, ['follow_up', 'desk_feedback'], tx);
            toArm.push(...(await open(complaint, [{ kind: 'resolution', startsAt: now }], tx)));
          }
          break;
        case 'closed':
        case 'rejected':
        case 'withdrawn':
          await cancel(
            current,
            DEADLINE_KINDS.filter((kind) => !OUTLIVES_COMPLAINT.has(kind)),
            tx,
          );
          break;
      }
      return { toArm: toArm.filter((row) => row.status === 'pending') };
    },

    /**
     * Opens deadlines of a complaint under the policy governing it now (a follow-up visit, a
     * pre-refund verification, a promise with its given `dueAt`), inside the caller's transaction;
     * arm them after commit.
     */
    openDeadlines(
      complaint: ComplaintRef,
      requests: Array<{ kind: DeadlineKind; startsAt: Date; dueAt?: Date; sourceId?: string | null }>,
      tx: Queryable,
    ): Promise<DeadlineRow[]> {
      return open(complaint, requests, tx);
    },

    /**
     * Meets one open deadline by the action that satisfies it (a follow-up outcome, a pre-refund
     * verification), in the caller's transaction, which holds the complaint's row lock. Returns
     * the deadline as it then stands; one already settled is left as it is.
     */
    async meetByAction(
      complaint: ComplaintRef,
      deadlineId: string,
      actor: ActorRecord,
      tx: Queryable,
    ): Promise<DeadlineRow | undefined> {
      const unmet = await deadlines.lockUnmetForComplaint(complaint.tenantId, complaint.id, tx);
      const row = unmet.find((candidate) => candidate.id === deadlineId);
      if (row) await meet(complaint, [row], [row.kind], actor, tx);
      return deadlines.find(complaint.tenantId, deadlineId, tx);
    },

    /**
     * Meets the complaint's oldest open deadline of `kind` by the action that satisfies it (the
     * desk feedback), in the caller's transaction, which holds the complaint's row lock. Returns
     * it as it then stands, or null when none of that kind is open.
     */
    async meetOwed(
      complaint: ComplaintRef,
      kind: DeadlineKind,
      actor: ActorRecord,
      tx: Queryable,
    ): Promise<DeadlineRow | null> {
      const unmet = await deadlines.lockUnmetForComplaint(complaint.tenantId, complaint.id, tx);
      const owed = unmet.find(
        (row) => row.kind === kind && (row.status === 'pending' || row.status === 'paused'),
      );
      if (!owed) return null;
      await meet(complaint, [owed], [kind], actor, tx);
      return (await deadlines.find(complaint.tenantId, owed.id, tx)) ?? null;
    },

    /** A deadline of the tenant by id, as stored. */
    find(tenantId: string, deadlineId: string, tx?: Queryable): Promise<DeadlineRow | undefined> {
      return deadlines.find(tenantId, deadlineId, tx);
    },

    /** Cancels the given open deadlines (a follow-up visit no longer owed). */
    async cancelDeadlines(
      complaint: Pick<ComplaintRef, 'id' | 'tenantId'>,
      deadlineIds: string[],
      tx: Queryable,
    ): Promise<void> {
      if (deadlineIds.length === 0) return;
      const unmet = await deadlines.lockUnmetForComplaint(complaint.tenantId, complaint.id, tx);
      await cancel(
        unmet.filter((row) => deadlineIds.includes(row.id)),
        'all',
        tx,
      );
    },

    /** A handler records a deadline no automatic action meets (a major-complaint report, a follow-up visit). */
    async completeByHand(tenantId: string, complaintKey: string, deadlineId: string, actor: ActorRecord) {
      return deps.db.transaction(async (tx) => {
        const complaint = await deps.complaints.findByKey(tenantId, complaintKey, { forUpdate: true }, tx);
        if (!complaint) throw new NotFoundError('Complaint', complaintKey);
        const unmet = await deadlines.lockUnmetForComplaint(tenantId, complaint.id, tx);
        const row = unmet.find((candidate) => candidate.id === deadlineId);
        if (!row) {
          const existing = await deadlines.find(tenantId, deadlineId, tx);
          if (!existing || existing.complaintId !== complaint.id)
            throw new NotFoundError('Deadline', deadlineId);
          throw new ConflictError('deadline_not_open', 'Deadline already settled', {
            detail: `Deadline '${deadlineId}' is '${existing.status}' and cannot be completed.`,
            extensions: { currentStatus: existing.status },
          });
        }
        if (!MANUALLY_MET.has(row.kind)) {
          throw new ConflictError('deadline_met_by_action', 'This deadline is met by its action', {
            detail: `A '${row.kind}' deadline is met by recording the action that satisfies it, not by hand.`,
          });
        }
        await meet(complaint, [row], [row.kind], actor, tx);
        return (await deadlines.find(tenantId, deadlineId, tx))!;
      });
    },

    /**
     * Worker: records wake-ups (warnings and breaches, with the escalations breaches set off)
     * exactly once, in one round trip; for each, what was recorded, or undefined when nothing was
     * due (a repeat or stale job).
     */
    recordWakeUps(jobs: readonly DeadlineJob[]): Promise<Array<RecordedWakeUp | undefined>> {
      return deadlines.recordWakeUps(
        jobs.map((job) => {
          const common = {
            deadlineId: job.deadlineId,
            armedFor: new Date(job.armedFor),
            eventId: newEventId(),
          };
          return job.action === 'breach'
            ? { ...common, type: 'breach' as const, escalationId: newId(), escalationEventId: newEventId() }
            : { ...common, type: 'warning' as const, index: job.index };
        }),
        clock.now(),
        SYSTEM_ACTOR,
      );
    },

    /** Worker: records a breach exactly once, with the escalation it sets off. */
    async recordBreach(deadlineId: string, armedFor: Date) {
      const [recorded] = await service.recordWakeUps([
        { action: 'breach', deadlineId, armedFor: armedFor.getTime() },
      ]);
      return recorded;
    },

    /** Worker: records warning `index` once. */
    async recordWarning(deadlineId: string, index: number, armedFor: Date) {
      const [recorded] = await service.recordWakeUps([
        { action: 'warn', deadlineId, index, armedFor: armedFor.getTime() },
      ]);
      return recorded;
    },

    /** Worker: the deadline while it is pending, whatever its tenant (jobs carry only its id). */
    findPendingById: (deadlineId: string) => deadlines.findPendingById(deadlineId),

    /** Arms jobs after commit. A failure is reported, not thrown: the reconciler arms what is missing. */
    async arm(effects: DeadlineEffects): Promise<void> {
      if (!deps.scheduler || effects.toArm.length === 0) return;
      try {
        await deps.scheduler.arm(effects.toArm);
      } catch (error) {
        deps.onArmError?.(error);
      }
    },

    listForComplaint: (tenantId: string, complaintId: string) =>
      deadlines.listForComplaint(tenantId, complaintId),

    /** The deadlines of each complaint, in one query however many (GraphQL's nested `deadlines`). */
    async listForComplaints(tenantId: string, complaintIds: readonly string[]) {
      const rows = await deadlines.listForComplaints(tenantId, [...new Set(complaintIds)]);
      return groupBy(rows, (row) => row.complaintId);
    },
    nextPendingFor: (tenantId: string, complaintIds: string[], tx?: Queryable) =>
      deadlines.nextPendingFor(tenantId, complaintIds, tx),

    /**
     * A work-queue page in due order; with `immediateFirst`, the deadlines of complaints whose
     * customer needs an immediate fix first, each part in due order (DOMAIN §2, seed 004).
     */
    async list(
      tenantId: string,
      filters: Omit<DeadlineFilters, 'after' | 'needTypeOtherThan'>,
      limit: number,
      cursor?: string,
      immediateFirst = false,
    ) {
      if (immediateFirst) {
        const { rows, positions, next } = await twoRunPage(
          async (run, after, n) => {
            const narrowed = needTypesOfRun(run, filters.needTypes);
            if (!narrowed) return [];
            const position = after ? { dueAt: new Date(after[0]), id: after[1] } : undefined;
            return deadlines.list(tenantId, { ...filters, ...narrowed, after: position }, n);
          },
          (row) => [row.dueAt.toISOString(), row.id] as [string, string],
          twoRunStart(cursor, listCursorShape),
          limit,
        );
        return { rows, cursors: positions.map(twoRunCursor), nextCursor: next ? twoRunCursor(next) : null };
      }
      const after = cursor ? decodeCursor(cursor, listCursorShape) : null;
      const rows = await deadlines.list(
        tenantId,
        { ...filters, after: after ? { dueAt: new Date(after[0]), id: after[1] } : undefined },
        limit,
      );
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        rows: page,
        cursors: page.map(deadlineListCursor),
        nextCursor: rows.length > limit && last ? deadlineListCursor(last) : null,
      };
    },
  };
  return service;
}

export type DeadlinesService = ReturnType<typeof createDeadlinesService>;
