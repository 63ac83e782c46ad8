import { isDeepStrictEqual } from 'node:util';
import { DateTime, Duration } from 'luxon';
import { z } from 'zod';
import type { Db, Queryable, Tx } from '../../db/client.js';
import type { ActorRecord } from '../../db/schema/index.js';
import type { Clock } from '../../lib/clock.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import {
  ConcurrentChangeError,
  ConflictError,
  type FieldProblem,
  IdempotencyInProgressError,
  NotFoundError,
  PreconditionFailedError,
  PreconditionRequiredError,
  ValidationError,
} from '../../lib/errors.js';
import { ifMatchSatisfied } from '../../lib/etag.js';
import { groupBy } from '../../lib/group-by.js';
import { newId, newTimeOrderedId } from '../../lib/ids.js';
import { twoRunCursor, twoRunPage, twoRunStart } from '../../lib/two-run-pages.js';
import { type NextDeadline, toDeadlineView } from '../deadlines/deadline-views.js';
import type { DeadlineRow, NewDeadlineRow } from '../deadlines/deadlines.repository.js';
import type { DeadlineEffects, DeadlinesService } from '../deadlines/deadlines.service.js';
import { MAJOR_COMPLAINT_LEVEL } from '../escalations/escalation-levels.js';
import type { ComplaintEventType } from '../events/event-types.js';
import { type EventsRepository, newEventId } from '../events/events.repository.js';
import type { FollowUpFlags } from '../follow-ups/follow-up-exemptions.js';
import type { FollowUpScheduler } from '../follow-ups/follow-up-scheduler.js';
import type { IdempotencyRepository } from '../idempotency/idempotency.repository.js';
import { bindToKey, type IdempotencyBinding } from '../idempotency/idempotency-binding.js';
import type { MajorComplaintsService } from '../major-complaints/major-complaints.service.js';
import {
  customerIdentityKey,
  describeReasons,
  MAJOR_FLAG_NAMES,
  type MajorReason,
  majorFlagsOf,
  mergeReasons,
  reasonsOfNewFlags,
} from '../major-complaints/major-rules.js';
import { conflictOfInterestError } from '../ownership/ownership.service.js';
import { recusalOf } from '../ownership/recusal.js';
import type { ReplyTemplatesService } from '../reply-templates/reply-templates.service.js';
import { isKnownCause } from '../settings/cause-taxonomy.js';
import type { WorkflowSettings } from '../settings/settings.schemas.js';
import { type AcceptanceRejection, acceptanceDecision } from './acceptance.js';
import { classificationProblems } from './classification.js';
import { type ActingContext, emitComplaintEvent, SYSTEM_ACTOR, timelineEntry } from './complaint-records.js';
import { referenceLead } from './complaint-reference.js';
import {
  allowedTransitions,
  canTransition,
  isFinished,
  isReopen,
  transitionNeedsReason,
} from './complaint-status.js';
import { complaintEtag, toCommunicationView, toComplaintView } from './complaint-views.js';
import type {
  CommunicationRow,
  ComplaintChanges,
  ComplaintFilters,
  ComplaintRow,
  ComplaintsRepository,
  NewComplaintRow,
  TimelineRow,
} from './complaints.repository.js';
import type {
  AcceptanceOverrideInput,
  CreateCommunicationInput,
  CreateComplaintInput,
  DeskFeedbackInput,
  ListComplaintsQuery,
  TransitionInput,
  UpdateComplaintInput,
} from './complaints.schemas.js';
import { needTypesOfRun } from './immediate-first.js';

/** Tolerance for callers' clocks running ahead when they send receivedAt / occurredAt. */
const CLOCK_SKEW_MS = 5 * 60_000;

const listCursorShape = z.tuple([z.iso.datetime(), z.uuid()]);
const timelineCursorShape = z.number().int().nonnegative();

export type { ActingContext } from './complaint-records.js';

/** A complaint with its earliest pending deadline, as every complaint answer shows it. */
export interface ComplaintState {
  row: ComplaintRow;
  nextDeadline: NextDeadline | undefined;
}

/** The cursor that pages on after this complaint in the newest-received-first list. */
export const complaintListCursor = (row: Pick<ComplaintRow, 'receivedAt' | 'id'>): string =>
  encodeCursor([row.receivedAt.toISOString(), row.id]);

/** The cursor that pages on after this timeline entry. */
export const timelineCursor = (row: Pick<TimelineRow, 'id'>): string => encodeCursor(row.id);

/** A timeline page asked for: the complaint (its id), how many entries and from where. */
export interface TimelinePageRequest {
  complaintId: string;
  limit: number;
  cursor?: string | undefined;
}

export function createComplaintsService(deps: {
  db: Db;
  complaints: ComplaintsRepository;
  events: EventsRepository;
  deadlines: DeadlinesService;
  clock: Clock;
  /** Major complaints are reported up at once (see EscalationsService). */
  escalations: {
    escalateMajor(complaint: ComplaintRow, actor: ActorRecord, tx: Tx): Promise<ComplaintRow>;
    recordMajorAtIntake(complaint: ComplaintRow, actor: ActorRecord, tx: Tx): Promise<void>;
  };
  /** Resolving schedules the follow-up visit (or records why none); leaving resolved cancels it. */
  followUps: Pick<FollowUpScheduler, 'onResolved' | 'announce' | 'onLeftResolved'>;
  /** A communication written from a reply template gets its text and version from here. */
  templates: Pick<ReplyTemplatesService, 'renderForCommunication'>;
  /** The tenant's workflow rules: acceptance windows, what makes a complaint major. */
  settings: { current(tenantId: string, tx?: Queryable): Promise<WorkflowSettings> };
  majors: Pick<
    MajorComplaintsService,
    'reasonsAtIntake' | 'isRepeatAfterEdit' | 'lockIncident' | 'countLinked' | 'applyCollective'
  >;
  /** Writes that honour an idempotency key point it at what they wrote, in their transaction. */
  idempotency: Pick<IdempotencyRepository, 'bindResource' | 'find'>;
  /**
   * A resolution of the complaint awaiting approval, if any: resolving by a plain transition
   * would carry it past its approval (DOMAIN §4: propose → approval → execute).
   */
  resolutionAwaitingApproval: (
    tenantId: string,
    complaintId: string,
    tx: Queryable,
  ) => Promise<string | undefined>;
  /** Recusal: refuses an owner the complaint is about or who declared a conflict in it. */
  recusal: {
    assertMayHandle(
      complaint: ComplaintRow,
      staff: string,
      subjectStaff: readonly string[],
      tx: Queryable,
    ): Promise<void>;
  };
}) {
  const { db, complaints, clock, events, deadlines, majors } = deps;

  async function getRow(tenantId: string, key: string): Promise<ComplaintRow> {
    const row = await complaints.findByKey(tenantId, key);
    if (!row) throw new NotFoundError('Complaint', key);
    return row;
  }

  async function stateOf(row: ComplaintRow, tx?: Queryable): Promise<ComplaintState> {
    const next = await deadlines.nextPendingFor(row.tenantId, [row.id], tx);
    return { row, nextDeadline: next.get(row.id) };
  }

  function emit(
    context: ActingContext,
    row: ComplaintRow,
    type: ComplaintEventType,
    at: Date,
    payload: Record<string, unknown>,
    tx: Queryable,
  ) {
    return emitComplaintEvent(events, context, row, type, at, payload, tx);
  }

  /** Moves the status inside a transaction: timeline, events and deadline effects in one place. */
  async function applyTransition(
    context: ActingContext,
    current: ComplaintRow,
    to: ComplaintRow['status'],
    reason: string | null,
    tx: Tx,
    followUpFlags: FollowUpFlags = {},
    /** Closed by itself after the quiet period (closeQuietResolved), not by a person. */
    automatic = false,
  ): Promise<{ updated: ComplaintRow; effects: DeadlineEffects }> {
    const from = current.status;
    const now = clock.now();
    const updated = await complaints.update(context.tenantId, current.id, { status: to }, now, tx);
    const reopened = isReopen(from, to);
    await complaints.appendTimeline(
      [
        timelineEntry(context, current.id, 'complaint.status_changed', now, {
          changes: [{ field: 'status', before: from, after: to }],
          data: { from, to, reason, reopened },
        }),
      ],
      tx,
    );
    const effects = await deadlines.onTransition(updated, from, to, context.actor, tx);
    // Written before the status event so its complaint shows the visit as the next deadline;
    // announced after it, so consumers hear of the resolution first.
    const followUp =
      to === 'resolved' ? await deps.followUps.onResolved(context, updated, followUpFlags, tx) : null;
    if (followUp?.kind === 'scheduled') effects.toArm.push(followUp.deadline);
    if (from === 'resolved') await deps.followUps.onLeftResolved(context, updated, tx);
    const view = toComplaintView(
      updated,
      (await deadlines.nextPendingFor(context.tenantId, [updated.id], tx)).get(updated.id),
    );
    await emit(context, updated, 'complaint.status_changed', now, { complaint: view, from, to, reason }, tx);
    if (reopened)
      await emit(context, updated, 'complaint.reopened', now, { complaint: view, from, reason }, tx);
    if (to === 'closed')
      await emit(context, updated, 'complaint.closed', now, { complaint: view, reason, automatic }, tx);
    if (followUp) await deps.followUps.announce(context, updated, followUp, tx);
    return { updated, effects };
  }

  /** Checks a status change against the life cycle and applies it; the caller holds the row lock. */
  /**
   * Whether an edit that sets the category or the customer's identity makes the complaint a
   * repeat it was not at intake (the repeat lookup intake makes, with what the edit leaves).
   */
  async function repeatAfterEdit(
    current: ComplaintRow,
    input: UpdateComplaintInput,
    settings: WorkflowSettings,
    tx: Tx,
  ): Promise<boolean> {
    if (input.category === undefined && input.customer === undefined) return false;
    if (input.severity === 'general' || current.majorReasons.includes('repeat')) return false;
    const category = input.category !== undefined ? input.category : current.category;
    const customerKey = customerKeyAfterEdit(current, input);
    if (category === current.category && customerKey === current.customerKey) return false;
    return deps.majors.isRepeatAfterEdit(current, { category, customerKey }, settings, tx);
  }

  async function transitionInTx(
    context: ActingContext,
    current: ComplaintRow,
    input: TransitionInput,
    tx: Tx,
    followUpFlags: FollowUpFlags = {},
  ): Promise<{ updated: ComplaintRow; effects: DeadlineEffects }> {
    const from = current.status;
    if (!canTransition(from, input.to)) {
      const allowed = allowedTransitions(from);
      throw new ConflictError('invalid_transition', 'Status change not allowed', {
        detail: `Complaint '${current.reference}' is '${from}' and cannot move to '${input.to}'; allowed: ${
          allowed.length ? allowed.join(', ') : 'none (final status)'
        }.`,
        extensions: { currentStatus: from, allowedTransitions: allowed },
      });
    }
    if (transitionNeedsReason(from, input.to) && !input.reason) {
      throw new ValidationError([
        { field: 'body.reason', message: `is required to move from '${from}' to '${input.to}'` },
      ]);
    }
    return applyTransition(context, current, input.to, input.reason ?? null, tx, followUpFlags);
  }

  /**
   * Records a contact with the customer inside the caller's transaction, which holds the
   * complaint's row lock: the communication (its text rendered from a reply template when it
   * cites one without a body), its timeline entry and event, and what it does to deadlines.
   */
  async function recordCommunicationInTx(
    context: ActingContext,
    complaint: ComplaintRow,
    input: CreateCommunicationInput,
    tx: Tx,
  ): Promise<{ communication: CommunicationRow; effects: DeadlineEffects }> {
    const now = clock.now();
    const occurredAt = input.occurredAt ? new Date(input.occurredAt) : now;
    if (occurredAt.getTime() > now.getTime() + CLOCK_SKEW_MS) {
      throw new ValidationError([{ field: 'body.occurredAt', message: 'must not be in the future' }]);
    }
    const nextUpdateBy = input.nextUpdateBy ? new Date(input.nextUpdateBy) : null;
    if (nextUpdateBy && (input.direction !== 'outbound' || nextUpdateBy.getTime() <= now.getTime())) {
      throw new ValidationError([
        { field: 'body.nextUpdateBy', message: 'must be a future time, on an outbound communication' },
      ]);
    }
    if (occurredAt.getTime() < complaint.receivedAt.getTime() - CLOCK_SKEW_MS) {
      throw new ValidationError([
        { field: 'body.occurredAt', message: 'must not be before the complaint was received' },
      ]);
    }
    const rendered = input.templateId
      ? await deps.templates.renderForCommunication(complaint, input.templateId, input.variables ?? {}, tx)
      : null;
    const body = input.body ?? rendered!.body;
    const communication = await complaints.insertCommunication(
      {
        id: newId(),
        tenantId: context.tenantId,
        complaintId: complaint.id,
        direction: input.direction,
        channel: input.channel,
        body,
        contactMade: input.contactMade,
        occurredAt,
        recordedBy: context.actor,
        templateId: rendered?.templateId ?? null,
        templateVersion: rendered?.templateVersion ?? null,
        createdAt: now,
      },
      tx,
    );
    await complaints.appendTimeline(
      [
        timelineEntry(context, complaint.id, 'communication.recorded', now, {
          data: {
            communicationId: communication.id,
            direction: input.direction,
            channel: input.channel,
            contactMade: input.contactMade,
            occurredAt: occurredAt.toISOString(),
            body,
            nextUpdateBy: nextUpdateBy?.toISOString() ?? null,
            template: rendered ? { id: rendered.templateId, version: rendered.templateVersion } : null,
          },
        }),
      ],
      tx,
    );
    await emit(
      context,
      complaint,
      'communication.recorded',
      now,
      { communication: toCommunicationView(communication) },
      tx,
    );
    const effects = await deadlines.onCommunication(
      complaint,
      { ...communication, nextUpdateBy },
      context.actor,
      tx,
    );
    // The customer's reply ends the wait: handling resumes, and with it the paused clocks.
    if (input.direction === 'inbound' && complaint.status === 'awaiting_customer') {
      const resumed = await applyTransition(
        { tenantId: context.tenantId, actor: SYSTEM_ACTOR },
        complaint,
        'investigating',
        'The customer replied',
        tx,
      );
      effects.toArm.push(...resumed.effects.toArm);
    }
    return { communication, effects };
  }

  /**
   * Declines a complaint just taken in (DOMAIN §1): recorded as a status change with the reason
   * the customer is told, never dropped. It was planned no deadlines, so none stays pending.
   */
  async function rejectAtIntake(
    context: ActingContext,
    row: ComplaintRow,
    rejection: AcceptanceRejection,
    tx: Tx,
  ): Promise<ComplaintRow> {
    const now = clock.now();
    const updated = await complaints.update(
      context.tenantId,
      row.id,
      { status: 'rejected', rejectionCode: rejection.code, rejectionDetail: rejection.detail },
      now,
      tx,
    );
    const transition = {
      from: 'received',
      to: 'rejected',
      reason: rejection.detail,
      reasonCode: rejection.code,
    };
    await complaints.appendTimeline(
      [
        timelineEntry(context, row.id, 'complaint.status_changed', now, {
          changes: [{ field: 'status', before: 'received', after: 'rejected' }],
          data: { ...transition, reopened: false },
        }),
      ],
      tx,
    );
    await emit(
      context,
      updated,
      'complaint.status_changed',
      now,
      { complaint: toComplaintView(updated, undefined), ...transition },
      tx,
    );
    return updated;
  }

  return {
    getRow,

    async get(tenantId: string, key: string): Promise<ComplaintState> {
      const found = await complaints.findWithNextDeadline(tenantId, key);
      if (!found) throw new NotFoundError('Complaint', key);
      return { row: found.complaint, nextDeadline: found.nextDeadline ?? undefined };
    },

    /**
     * Takes in a new complaint; with an Idempotency-Key, a retry returns the first result. The
     * acceptance checks may decline it at once (recorded, never dropped), and the major-complaint
     * rules may make it major, which reports it up at once.
     */
    async create(
      context: ActingContext,
      input: CreateComplaintInput,
      idempotency: IdempotencyBinding | null = null,
    ): Promise<ComplaintState> {
      if (idempotency?.recoveredResourceId)
        return stateOf(await getRow(context.tenantId, idempotency.recoveredResourceId));
      const now = clock.now();
      const receivedAt = input.receivedAt ? new Date(input.receivedAt) : now;
      const occurredAt = input.occurredAt ? new Date(input.occurredAt) : null;
      const problems = [];
      if (receivedAt.getTime() > now.getTime() + CLOCK_SKEW_MS) {
        problems.push({ field: 'body.receivedAt', message: 'must not be in the future' });
      }
      if (
        occurredAt &&
        occurredAt.getTime() > Math.max(receivedAt.getTime(), now.getTime()) + CLOCK_SKEW_MS
      ) {
        problems.push({ field: 'body.occurredAt', message: 'must not be after the complaint was received' });
      }
      if (problems.length > 0) throw new ValidationError(problems);

      const receivedBy = input.receivedBy ?? context.actor.onBehalfOf ?? context.actor.name;
      const assignee = input.assignee ?? receivedBy;
      // A new complaint has no declared conflicts yet; only the staff it is about are checked.
      const recusal = recusalOf(assignee, input.subjectStaff, []);
      if (recusal) {
        throw conflictOfInterestError(
          recusal,
          `The complaint is about '${assignee}', who would own it; name another \`assignee\`.`,
        );
      }
      const settings = await deps.settings.current(context.tenantId);
      const unknownCause = causeProblems(input.cause, settings);
      if (unknownCause.length > 0) throw new ValidationError(unknownCause);
      const category = input.category ?? null;
      const rejection = acceptanceDecision({
        category,
        occurredAt,
        receivedAt,
        complainantRelation: input.complainantRelation,
        complainantAuthorised: input.complainantAuthorised,
        acceptanceWindows: settings.acceptanceWindows,
        timeZone: settings.timeZone,
      });
      const customerKey = customerIdentityKey(input.customer);
      let reasons = await majors.reasonsAtIntake(
        context.tenantId,
        {
          severity: input.severity,
          category,
          ...majorFlagsOf(input),
          customerKey,
          receivedAt,
        },
        settings,
      );

      const prepare = async (majorReasons: MajorReason[], tx?: Queryable) => {
        const major = majorReasons.length > 0;
        const complaint = {
          id: newTimeOrderedId(),
          tenantId: context.tenantId,
          channel: input.channel,
          severity: major ? 'major' : 'general',
          priority: input.priority,
          category,
          subject: input.subject,
          description: input.description,
          customerName: input.customer.name ?? null,
          customerPhone: input.customer.phone ?? null,
          customerEmail: input.customer.email ?? null,
          customerAddress: input.customer.address ?? null,
          customerExternalId: input.customer.externalId ?? null,
          customerKey,
          desiredOutcome: input.desiredOutcome ?? null,
          occurredAt,
          receivedAt,
          receivedBy,
          assignee,
          externalRef: input.externalRef ?? null,
          complainantRelation: input.complainantRelation,
          complainantAuthorised: input.complainantAuthorised,
          responsibility: input.responsibility ?? null,
          upstreamParty: input.upstreamParty ?? null,
          needType: input.needType ?? null,
          qualityClass: input.qualityClass ?? null,
          cause: input.cause ?? null,
          // Written at resolution, never at intake.
          rootCauseNote: null,
          ...liabilityColumns(input.liability ?? null),
          majorReasons,
          majorSince: major ? now : null,
          ...majorFlagsOf(input),
          incidentKey: input.incidentKey ?? null,
          subjectStaff: input.subjectStaff,
          // A major complaint starts reported up to the department manager (DOMAIN §4); a declined
          // one is handled by nobody, so it is reported up only if a supervisor takes it in.
          escalationLevel: major && !rejection ? MAJOR_COMPLAINT_LEVEL : 0,
          tags: input.tags,
          metadata: input.metadata,
          createdAt: now,
          updatedAt: now,
        } satisfies NewComplaintRow;
        const planned = rejection ? [] : await deadlines.planAtIntake(complaint, tx);
        const nextDeadline = earliestPending(planned);
        // The view recorded on the timeline and in the event, as it was received; the statement
        // fills in the reference the tenant's sequence hands out.
        const view = toComplaintView(
          {
            ...complaint,
            reference: '',
            status: 'received',
            version: 1,
            eventSequence: 1,
            rejectionCode: null,
            rejectionDetail: null,
            acceptanceOverride: null,
          } as ComplaintRow,
          nextDeadline,
        );
        const intake = {
          complaint,
          deadlines: planned,
          actor: context.actor,
          view,
          eventId: newEventId(),
          idempotencyKey: idempotency?.key ?? null,
          reference: {
            lead: referenceLead(settings.referenceFormat, now, settings.timeZone),
            digits: settings.referenceFormat.digits,
          },
        };
        return { intake, planned, nextDeadline, major };
      };

      let outcome: { row: ComplaintRow; planned: NewDeadlineRow[]; effects: DeadlineEffects } | undefined;
      if (!rejection && reasons.length === 0 && !input.incidentKey) {
        // Intake is the hottest write: one statement, one round trip, shared with the complaints
        // coming in at the same moment (see insertAtIntake).
        const { intake, planned } = await prepare(reasons);
        const row = await complaints.insertAtIntake(intake);
        outcome = row && { row, planned, effects: { toArm: [] } };
      } else {
        // Declining, reporting up and linking to an incident write more than the complaint:
        // all of it in one transaction.
        outcome = await db.transaction(async (tx) => {
          const incidentKey = input.incidentKey;
          let linked = 0;
          if (incidentKey) {
            await majors.lockIncident(context.tenantId, incidentKey, tx);
            // Counted with the complaint coming in, unless it is declined.
            linked = await majors.countLinked(
              context.tenantId,
              incidentKey,
              tx,
              rejection ? undefined : { customerKey },
            );
            if (linked >= settings.collectiveThreshold) reasons = mergeReasons(reasons, ['collective']);
          }
          const { intake, planned, major } = await prepare(reasons, tx);
          const inserted = await complaints.insertAtIntake(intake, tx);
          if (!inserted) return undefined;
          let row = inserted;
          if (rejection) row = await rejectAtIntake(context, inserted, rejection, tx);
          else if (major) await deps.escalations.recordMajorAtIntake(inserted, context.actor, tx);
          const effects =
            incidentKey && linked >= settings.collectiveThreshold
              ? await majors.applyCollective(
                  context.tenantId,
                  incidentKey,
                  settings.collectiveThreshold,
                  { reference: inserted.reference },
                  tx,
                  { alreadyCounted: linked },
                )
              : { toArm: [] };
          return { row, planned, effects };
        });
      }
      if (!outcome) {
        // Another attempt with the same key (one whose lease this retry took over) made the
        // complaint first: this attempt wrote nothing, and the key answers with that complaint.
        if (
          idempotency &&
          (!input.externalRef || (await deps.idempotency.find(context.tenantId, idempotency.key))?.resourceId)
        ) {
          throw new IdempotencyInProgressError(idempotency.key);
        }
        const existing = await complaints.findByExternalRef(context.tenantId, input.externalRef!);
        throw new ConflictError('external_ref_conflict', 'A complaint with this externalRef already exists', {
          detail: `Complaint '${existing?.reference ?? 'unknown'}' already has externalRef '${input.externalRef}'.`,
          extensions: { existingComplaint: existing ?? null },
        });
      }
      const { row, planned, effects } = outcome;
      await deadlines.arm({
        toArm: [
          ...planned.map((d) => ({
            id: d.id!,
            status: 'pending' as const,
            dueAt: d.dueAt,
            warnAts: d.warnAts ?? [],
            warningsFired: 0,
          })),
          ...effects.toArm,
        ],
      });
      return { row, nextDeadline: earliestPending(planned) };
    },

    /**
     * A page of complaints, newest received first (with `order: immediate_first`, those needing an
     * immediate fix first, each part newest first), with each one's cursor and the next page's.
     */
    async list(
      tenantId: string,
      query: ListComplaintsQuery,
    ): Promise<{ states: ComplaintState[]; cursors: string[]; nextCursor: string | null }> {
      const filters: ComplaintFilters = {
        statuses: query.status,
        channels: query.channel,
        severity: query.severity,
        category: query.category,
        assignee: query.assignee,
        incidentKey: query.incidentKey,
        qualityClass: query.qualityClass,
        cause: query.cause,
        needTypes: query.needType,
        receivedFrom: query.receivedFrom ? new Date(query.receivedFrom) : undefined,
        receivedTo: query.receivedTo ? new Date(query.receivedTo) : undefined,
        text: query.q,
      };
      let page: ComplaintRow[];
      let cursors: string[];
      let nextCursor: string | null;
      if (query.order === 'immediate_first') {
        const result = await twoRunPage(
          async (run, after, n) => {
            const narrowed = needTypesOfRun(run, query.needType);
            if (!narrowed) return [];
            const position = after ? { receivedAt: new Date(after[0]), id: after[1] } : undefined;
            return complaints.list(tenantId, { ...filters, ...narrowed, after: position }, n);
          },
          (row) => [row.receivedAt.toISOString(), row.id] as [string, string],
          twoRunStart(query.cursor, listCursorShape),
          query.limit,
        );
        page = result.rows;
        cursors = result.positions.map(twoRunCursor);
        nextCursor = result.next ? twoRunCursor(result.next) : null;
      } else {
        if (query.cursor) {
          const [receivedAt, id] = decodeCursor(query.cursor, listCursorShape);
          filters.after = { receivedAt: new Date(receivedAt), id };
        }
        const rows = await complaints.list(tenantId, filters, query.limit);
        page = rows.slice(0, query.limit);
        const last = page.at(-1);
        cursors = page.map(complaintListCursor);
        nextCursor = rows.length > query.limit && last ? complaintListCursor(last) : null;
      }
      // One query for the next deadline of the whole page, not one per complaint.
      const next = await deadlines.nextPendingFor(
        tenantId,
        page.map((row) => row.id),
      );
      return { states: page.map((row) => ({ row, nextDeadline: next.get(row.id) })), cursors, nextCursor };
    },

    /**
     * Edits a complaint if it is still at the version the caller read (If-Match). An edit that
     * fires a major-complaint rule (a safety category, a media or regulator flag, an incident with
     * enough complaints) makes it major; assigning goes through the recusal rules.
     */
    async update(
      context: ActingContext,
      key: string,
      ifMatch: string | undefined,
      input: UpdateComplaintInput,
    ): Promise<ComplaintState> {
      if (!ifMatch) throw new PreconditionRequiredError('complaint');
      const result = await db.transaction(async (tx) => {
        // The incident's lock comes before the complaint's row lock (see lockIncident).
        if (input.incidentKey) await majors.lockIncident(context.tenantId, input.incidentKey, tx);
        const current = await complaints.findByKey(context.tenantId, key, { forUpdate: true }, tx);
        if (!current) throw new NotFoundError('Complaint', key);
        if (!ifMatchSatisfied(ifMatch, complaintEtag(current))) {
          throw new PreconditionFailedError('Complaint', key, complaintEtag(current));
        }
        const occurredAt = input.occurredAt ? new Date(input.occurredAt) : null;
        if (
          occurredAt &&
          occurredAt.getTime() > Math.max(current.receivedAt.getTime(), clock.now().getTime()) + CLOCK_SKEW_MS
        ) {
          throw new ValidationError([
            { field: 'body.occurredAt', message: 'must not be after the complaint was received' },
          ]);
        }
        const now = clock.now();
        const settings = await deps.settings.current(context.tenantId, tx);
        const { columns, changes, addedReasons, problems } = diffUpdate(
          current,
          input,
          settings,
          now,
          await repeatAfterEdit(current, input, settings, tx),
        );
        if (problems.length > 0) throw new ValidationError(problems);
        if (changes.length === 0) return { state: await stateOf(current, tx), effects: { toArm: [] } };
        const changed = (field: string) => changes.some((change) => change.field === field);
        const assignee = columns.assignee ?? current.assignee;
        if (changed('assignee') && assignee !== null) {
          await deps.recusal.assertMayHandle(
            current,
            assignee,
            columns.subjectStaff ?? current.subjectStaff,
            tx,
          );
        } else if (changed('subjectStaff') && assignee !== null) {
          const recusal = recusalOf(assignee, columns.subjectStaff ?? [], []);
          if (recusal) {
            throw conflictOfInterestError(
              recusal,
              `Complaint '${current.reference}' would be about its owner '${assignee}'; hand it over ` +
                '(`assignee`) in the same change.',
            );
          }
        }
        const updated = await complaints.update(context.tenantId, current.id, columns, now, tx);
        await complaints.appendTimeline(
          [timelineEntry(context, current.id, 'complaint.updated', now, { changes })],
          tx,
        );
        const effects = await deadlines.onSeverityChange(updated, current.severity, tx);
        const view = toComplaintView(updated, (await stateOf(updated, tx)).nextDeadline);
        await emit(context, updated, 'complaint.updated', now, { complaint: view, changes }, tx);
        if (changed('assignee')) {
          await emit(
            context,
            updated,
            'complaint.assigned',
            now,
            { complaint: view, previousAssignee: current.assignee },
            tx,
          );
        }
        const classification = changes.filter((change) => CLASSIFICATION_FIELDS.has(change.field));
        if (classification.length > 0) {
          await emit(
            context,
            updated,
            'complaint.classified',
            now,
            { complaint: view, changes: classification },
            tx,
          );
        }
        if (addedReasons.length > 0) {
          await emit(
            context,
            updated,
            'complaint.made_major',
            now,
            { complaint: view, reasons: addedReasons },
            tx,
          );
        }
        const becameMajor = current.severity !== 'major' && updated.severity === 'major';
        let final =
          becameMajor && !isFinished(updated.status)
            ? await deps.escalations.escalateMajor(updated, context.actor, tx)
            : updated;
        if (changed('incidentKey') && updated.incidentKey) {
          const collective = await majors.applyCollective(
            context.tenantId,
            updated.incidentKey,
            settings.collectiveThreshold,
            { reference: updated.reference },
            tx,
          );
          effects.toArm.push(...collective.toArm);
          final = (await complaints.findByKey(context.tenantId, current.id, {}, tx)) ?? final;
        }
        const state = await stateOf(final, tx);
        return { state, effects };
      });
      await deadlines.arm(result.effects);
      return result.state;
    },

    /**
     * A supervisor takes in a complaint the acceptance checks declined: `received` again, with its
     * intake deadlines from now, reported up if it is major, and counted in its incident.
     */
    async overrideAcceptance(
      context: ActingContext,
      key: string,
      input: AcceptanceOverrideInput,
      idempotency: IdempotencyBinding | null = null,
    ): Promise<ComplaintState> {
      // The first attempt committed the override: the complaint, as it stands, is the answer.
      if (idempotency?.recoveredResourceId)
        return stateOf(await getRow(context.tenantId, idempotency.recoveredResourceId));
      const result = await db.transaction(async (tx) => {
        // The incident's lock comes before the complaint's row lock (see lockIncident), so the
        // incident is read first without one.
        const seen = await complaints.findByKey(context.tenantId, key, {}, tx);
        if (!seen) throw new NotFoundError('Complaint', key);
        if (seen.incidentKey) await majors.lockIncident(context.tenantId, seen.incidentKey, tx);
        const current = await complaints.findByKey(context.tenantId, key, { forUpdate: true }, tx);
        if (!current) throw new NotFoundError('Complaint', key);
        if (current.incidentKey !== seen.incidentKey) {
          throw new ConcurrentChangeError({
            detail: `Complaint '${current.reference}' changed its incident meanwhile; send the override again.`,
            headers: { 'retry-after': '1' },
          });
        }
        if (current.status !== 'rejected' || !current.rejectionCode || current.rejectionDetail === null) {
          throw new ConflictError('not_rejected_at_intake', 'Not declined at intake', {
            detail: `Complaint '${current.reference}' is '${current.status}' and was not declined by the acceptance checks; only such a complaint can be taken in by override.`,
            extensions: { currentStatus: current.status },
          });
        }
        const now = clock.now();
        const rejection = { code: current.rejectionCode, detail: current.rejectionDetail };
        const updated = await complaints.update(
          context.tenantId,
          current.id,
          {
            status: 'received',
            rejectionCode: null,
            rejectionDetail: null,
            acceptanceOverride: {
              rejectionCode: rejection.code,
              reason: input.reason,
              supervisor: input.supervisor,
              overriddenAt: now.toISOString(),
            },
          },
          now,
          tx,
        );
        await complaints.appendTimeline(
          [
            timelineEntry(context, current.id, 'complaint.acceptance_overridden', now, {
              changes: [
                { field: 'status', before: 'rejected', after: 'received' },
                { field: 'rejection', before: rejection, after: null },
              ],
              data: { rejectionCode: rejection.code, reason: input.reason, supervisor: input.supervisor },
            }),
          ],
          tx,
        );
        const effects = await deadlines.onAcceptance(updated, tx);
        const view = toComplaintView(updated, (await stateOf(updated, tx)).nextDeadline);
        await emit(
          context,
          updated,
          'complaint.status_changed',
          now,
          { complaint: view, from: 'rejected', to: 'received', reason: input.reason },
          tx,
        );
        await emit(
          context,
          updated,
          'complaint.acceptance_overridden',
          now,
          { complaint: view, rejection, reason: input.reason, supervisor: input.supervisor },
          tx,
        );
        let final =
          updated.severity === 'major'
            ? await deps.escalations.escalateMajor(updated, context.actor, tx)
            : updated;
        if (updated.incidentKey) {
          const settings = await deps.settings.current(context.tenantId, tx);
          const collective = await majors.applyCollective(
            context.tenantId,
            updated.incidentKey,
            settings.collectiveThreshold,
            { reference: updated.reference },
            tx,
          );
          effects.toArm.push(...collective.toArm);
          final = (await complaints.findByKey(context.tenantId, current.id, {}, tx)) ?? final;
        }
        await bindToKey(deps.idempotency, context.tenantId, idempotency, current.id, tx);
        return { state: await stateOf(final, tx), effects };
      });
      await deadlines.arm(result.effects);
      return result.state;
    },

    /** Moves a complaint through its life cycle; an illegal move names the allowed ones. */
    async transition(
      context: ActingContext,
      key: string,
      input: TransitionInput,
      ifMatch?: string,
      idempotency: IdempotencyBinding | null = null,
    ): Promise<ComplaintState> {
      // The first attempt committed the move (and passed If-Match then): answer with the complaint.
      if (idempotency?.recoveredResourceId)
        return stateOf(await getRow(context.tenantId, idempotency.recoveredResourceId));
      const result = await db.transaction(async (tx) => {
        const current = await complaints.findByKey(context.tenantId, key, { forUpdate: true }, tx);
        if (!current) throw new NotFoundError('Complaint', key);
        if (ifMatch && !ifMatchSatisfied(ifMatch, complaintEtag(current))) {
          throw new PreconditionFailedError('Complaint', key, complaintEtag(current));
        }
        if (input.to === 'resolved') {
          const pending = await deps.resolutionAwaitingApproval(current.tenantId, current.id, tx);
          if (pending) {
            throw new ConflictError('resolution_awaiting_approval', 'A resolution awaits approval', {
              detail:
                `Resolution '${pending}' of complaint '${current.reference}' awaits approval: approve and ` +
                'execute it, or reject it, before the complaint is resolved.',
              extensions: { resolutionId: pending },
            });
          }
        }
        const { updated, effects } = await transitionInTx(context, current, input, tx);
        await bindToKey(deps.idempotency, context.tenantId, idempotency, current.id, tx);
        return { state: await stateOf(updated, tx), effects };
      });
      await deadlines.arm(result.effects);
      return result.state;
    },

    /**
     * Closes a tenant's resolved complaints that stayed quiet for its `autoCloseAfter` with no
     * follow-up visit pending (确保关闭: followed to closure, never left resolved), up to
     * `limit`, each in its own transaction under its row lock, checked again there. Closed by the
     * system actor, with the reason on the timeline and in `complaint.closed`. Returns how many.
     */
    async closeQuietResolved(tenantId: string, limit = 500): Promise<number> {
      const settings = await deps.settings.current(tenantId);
      const quietFor = Duration.fromISO(settings.autoCloseAfter);
      const quietSince = DateTime.fromJSDate(clock.now()).minus(quietFor).toJSDate();
      const reason = `Closed automatically: resolved and quiet for ${settings.autoCloseAfter} with no follow-up visit pending.`;
      const context: ActingContext = { tenantId, actor: SYSTEM_ACTOR };
      let closed = 0;
      for (const id of await complaints.quietResolved(tenantId, quietSince, limit)) {
        const effects = await db.transaction(async (tx) => {
          const current = await complaints.findByKey(tenantId, id, { forUpdate: true }, tx);
          // Changed since it was found (reopened, edited, visited): it is not quiet any more.
          if (!current || (await complaints.quietResolved(tenantId, quietSince, 1, id, tx)).length === 0)
            return null;
          return (await applyTransition(context, current, 'closed', reason, tx, {}, true)).effects;
        });
        if (effects) {
          await deadlines.arm(effects);
          closed += 1;
        }
      }
      return closed;
    },

    /**
     * Records that a resolution was fed back to the central service desk (seed 000), meeting the
     * `desk_feedback` deadline its resolution opened: on the timeline and as
     * `complaint.desk_feedback_recorded`. 409 `desk_feedback_not_owed` when none is open.
     */
    async recordDeskFeedback(
      context: ActingContext,
      key: string,
      input: DeskFeedbackInput,
      idempotency: IdempotencyBinding | null = null,
    ): Promise<DeadlineRow> {
      if (idempotency?.recoveredResourceId) {
        const recorded = await deadlines.find(context.tenantId, idempotency.recoveredResourceId);
        if (!recorded) throw new NotFoundError('Deadline', idempotency.recoveredResourceId);
        return recorded;
      }
      return db.transaction(async (tx) => {
        const complaint = await complaints.findByKey(context.tenantId, key, { forUpdate: true }, tx);
        if (!complaint) throw new NotFoundError('Complaint', key);
        const met = await deadlines.meetOwed(complaint, 'desk_feedback', context.actor, tx);
        if (!met) {
          throw new ConflictError('desk_feedback_not_owed', 'No desk feedback is owed', {
            detail: `Complaint '${complaint.reference}' owes no feedback to the central service desk: it is owed once the complaint is resolved, until it is given.`,
            extensions: { currentStatus: complaint.status },
          });
        }
        const now = clock.now();
        const feedback = { summary: input.summary, desk: input.desk ?? null, deadlineId: met.id };
        await complaints.appendTimeline(
          [timelineEntry(context, complaint.id, 'complaint.desk_feedback_recorded', now, { data: feedback })],
          tx,
        );
        await emit(
          context,
          complaint,
          'complaint.desk_feedback_recorded',
          now,
          { deskFeedback: feedback, deadline: toDeadlineView(met) },
          tx,
        );
        await bindToKey(deps.idempotency, context.tenantId, idempotency, met.id, tx);
        return met;
      });
    },

    /** Records a contact with the customer, inbound or outbound, on the complaint's record. */
    async recordCommunication(
      context: ActingContext,
      key: string,
      input: CreateCommunicationInput,
      idempotency: IdempotencyBinding | null = null,
    ): Promise<CommunicationRow> {
      if (idempotency?.recoveredResourceId) {
        const recorded = await complaints.findCommunication(
          context.tenantId,
          idempotency.recoveredResourceId,
        );
        if (!recorded) throw new NotFoundError('Communication', idempotency.recoveredResourceId);
        return recorded;
      }
      const result = await db.transaction(async (tx) => {
        // The row lock orders communications with concurrent status changes on the same complaint.
        const complaint = await complaints.findByKey(context.tenantId, key, { forUpdate: true }, tx);
        if (!complaint) throw new NotFoundError('Complaint', key);
        const recorded = await recordCommunicationInTx(context, complaint, input, tx);
        await bindToKey(deps.idempotency, context.tenantId, idempotency, recorded.communication.id, tx);
        return recorded;
      });
      await deadlines.arm(result.effects);
      return result.communication;
    },

    transitionInTx,
    recordCommunicationInTx,

    /** The complaint's history, oldest first. */
    async timeline(tenantId: string, key: string, query: { limit: number; cursor?: string | undefined }) {
      const complaint = await getRow(tenantId, key);
      const afterId = query.cursor ? decodeCursor(query.cursor, timelineCursorShape) : null;
      const rows = await complaints.listTimeline(tenantId, complaint.id, afterId, query.limit);
      return timelinePage(rows, query.limit);
    },

    /**
     * Timeline pages of several complaints at once (GraphQL's nested `timeline`), the same pages
     * `timeline` gives one by one, in one query per distinct page size. The complaints are ids
     * the caller already read for this tenant; an id of another tenant simply has no entries.
     */
    async timelines(
      tenantId: string,
      requests: readonly TimelinePageRequest[],
    ): Promise<Array<{ rows: TimelineRow[]; nextCursor: string | null }>> {
      const positions = requests.map((request) =>
        request.cursor ? decodeCursor(request.cursor, timelineCursorShape) : null,
      );
      const byLimit = new Map<number, number[]>();
      requests.forEach((request, index) => {
        byLimit.set(request.limit, [...(byLimit.get(request.limit) ?? []), index]);
      });
      const pages = new Array<{ rows: TimelineRow[]; nextCursor: string | null }>(requests.length);
      for (const [limit, indexes] of byLimit) {
        const found = await complaints.listTimelines(
          tenantId,
          indexes.map((index) => ({ complaintId: requests[index]!.complaintId, afterId: positions[index]! })),
          limit,
        );
        const rowsOf = groupBy(found, (entry) => indexes[entry.page]!);
        for (const index of indexes) {
          pages[index] = timelinePage(
            (rowsOf.get(index) ?? []).map((entry) => entry.row),
            limit,
          );
        }
      }
      return pages;
    },

    /** Complaints by id with their next deadline, in two queries however many; missing ids are left out. */
    async getMany(tenantId: string, ids: readonly string[]): Promise<Map<string, ComplaintState>> {
      const rows = await complaints.findByIds(tenantId, [...new Set(ids)]);
      const next = await deadlines.nextPendingFor(
        tenantId,
        rows.map((row) => row.id),
      );
      return new Map(rows.map((row) => [row.id, { row, nextDeadline: next.get(row.id) }]));
    },
  };
}

export type ComplaintsService = ReturnType<typeof createComplaintsService>;

function timelinePage(rows: TimelineRow[], limit: number) {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { rows: page, nextCursor: rows.length > limit && last ? timelineCursor(last) : null };
}

function earliestPending(rows: NewDeadlineRow[]): NextDeadline | undefined {
  return rows
    .filter((row) => (row.status ?? 'pending') === 'pending')
    .reduce<NewDeadlineRow | undefined>(
      (best, row) => (!best || row.dueAt < best.dueAt ? row : best),
      undefined,
    );
}

type Change = { field: string; before: unknown; after: unknown };

/** Fields whose change is announced as `complaint.classified` too. */
const CLASSIFICATION_FIELDS = new Set([
  'responsibility',
  'upstreamParty',
  'needType',
  'liability',
  'qualityClass',
  'cause',
  'rootCauseNote',
]);

type LiabilityInput = NonNullable<CreateComplaintInput['liability']>;

/** The three liability columns of a finding, or of none. */
function liabilityColumns(
  liability: LiabilityInput | null,
): Pick<ComplaintRow, 'liabilityFinding' | 'liabilityReason' | 'liabilityNote'> {
  if (!liability) return { liabilityFinding: null, liabilityReason: null, liabilityNote: null };
  return {
    liabilityFinding: liability.finding,
    liabilityReason: liability.finding === 'not_liable' ? liability.reason : null,
    liabilityNote: liability.note ?? null,
  };
}

/** A cause must be one of the tenant's (workflow settings `causes`); null or none is no cause. */
function causeProblems(cause: string | null | undefined, settings: Pick<WorkflowSettings, 'causes'>) {
  if (!cause || isKnownCause(settings.causes, cause)) return [];
  return [
    {
      field: 'body.cause',
      message: `'${cause}' is not one of the tenant's causes (${settings.causes.map((c) => c.code).join(', ')})`,
    },
  ];
}

/** The customer's identity key (what repeats are found by) once an edit is applied. */
function customerKeyAfterEdit(current: ComplaintRow, input: UpdateComplaintInput): string | null {
  if (!input.customer) return current.customerKey;
  const { externalId, phone, email } = input.customer;
  return customerIdentityKey({
    externalId: externalId !== undefined ? externalId : current.customerExternalId,
    phone: phone !== undefined ? phone : current.customerPhone,
    email: email !== undefined ? email : current.customerEmail,
  });
}

/**
 * Turns a PATCH body into column changes plus the before/after list the timeline keeps, with
 * what the edit implies: upstreamParty cleared when responsibility leaves 'upstream', the
 * customer's identity key, and the major-complaint rules the edit fires (`addedReasons`).
 * `problems` are combinations that make no sense once merged with the complaint as it stands.
 */
function diffUpdate(
  current: ComplaintRow,
  input: UpdateComplaintInput,
  settings: Pick<WorkflowSettings, 'safetyCategories' | 'causes'>,
  now: Date,
  /** Whether the edit's category and customer make the complaint a repeat (repeatAfterEdit). */
  repeat: boolean,
): { columns: ComplaintChanges; changes: Change[]; addedReasons: MajorReason[]; problems: FieldProblem[] } {
  const columns: ComplaintChanges = {};
  const changes: Change[] = [];
  const comparable = (value: unknown) => (value instanceof Date ? value.toISOString() : value);
  const consider = <K extends keyof ComplaintChanges & keyof ComplaintRow>(
    field: string,
    column: K,
    next: unknown,
  ) => {
    if (next === undefined) return;
    const before = comparable(current[column]);
    const after = comparable(next);
    if (isDeepStrictEqual(before, after)) return;
    (columns as Record<string, unknown>)[column] = next;
    changes.push({ field, before: before ?? null, after: after ?? null });
  };

  // Classification, checked as it will stand.
  const responsibility = input.responsibility !== undefined ? input.responsibility : current.responsibility;
  const leavesUpstream =
    input.responsibility !== undefined &&
    input.responsibility !== 'upstream' &&
    input.upstreamParty === undefined;
  const upstreamParty = leavesUpstream
    ? null
    : input.upstreamParty !== undefined
      ? input.upstreamParty
      : current.upstreamParty;
  const problems = [
    ...classificationProblems({ responsibility, upstreamParty }),
    ...causeProblems(input.cause, settings),
  ];

  // Major-complaint rules fire on what this edit changes (DOMAIN §2).
  const category = input.category !== undefined ? input.category : current.category;
  const addedReasons: MajorReason[] = [];
  if (input.severity === 'major' && current.severity !== 'major') addedReasons.push('manual');
  if (repeat && !current.majorReasons.includes('repeat')) addedReasons.push('repeat');
  if (category !== current.category && category !== null && settings.safetyCategories.includes(category)) {
    addedReasons.push('safety_category');
  }
  addedReasons.push(...reasonsOfNewFlags(current, input));
  if (input.severity === 'general') {
    if (addedReasons.length > 0) {
      problems.push({
        field: 'body.severity',
        message: `cannot be 'general' in an edit that makes the complaint major (${describeReasons(addedReasons)})`,
      });
    }
    // Downgrading is a handler's judgement; the reasons go with it, and the timeline keeps them.
    consider('severity', 'severity', 'general');
    consider('majorReasons', 'majorReasons', []);
    if (current.majorSince) columns.majorSince = null;
  } else if (addedReasons.length > 0) {
    consider('severity', 'severity', 'major');
    consider('majorReasons', 'majorReasons', mergeReasons(current.majorReasons, addedReasons));
    if (!current.majorSince) columns.majorSince = now;
  }

  consider('priority', 'priority', input.priority);
  consider('category', 'category', input.category);
  consider('subject', 'subject', input.subject);
  consider('description', 'description', input.description);
  consider('customer.name', 'customerName', input.customer?.name);
  consider('customer.phone', 'customerPhone', input.customer?.phone);
  consider('customer.email', 'customerEmail', input.customer?.email);
  consider('customer.address', 'customerAddress', input.customer?.address);
  consider('customer.externalId', 'customerExternalId', input.customer?.externalId);
  // Internal, so not on the timeline: the identity repeats are found by.
  const customerKey = customerKeyAfterEdit(current, input);
  if (customerKey !== current.customerKey) columns.customerKey = customerKey;
  consider('desiredOutcome', 'desiredOutcome', input.desiredOutcome);
  consider(
    'occurredAt',
    'occurredAt',
    input.occurredAt === undefined
      ? undefined
      : input.occurredAt === null
        ? null
        : new Date(input.occurredAt),
  );
  consider('assignee', 'assignee', input.assignee);
  consider('responsibility', 'responsibility', input.responsibility);
  consider('upstreamParty', 'upstreamParty', leavesUpstream ? null : input.upstreamParty);
  consider('needType', 'needType', input.needType);
  consider('qualityClass', 'qualityClass', input.qualityClass);
  consider('cause', 'cause', input.cause);
  consider('rootCauseNote', 'rootCauseNote', input.rootCauseNote);
  if (input.liability !== undefined) {
    const before = current.liabilityFinding
      ? { finding: current.liabilityFinding, reason: current.liabilityReason, note: current.liabilityNote }
      : null;
    const next = liabilityColumns(input.liability);
    const after = next.liabilityFinding
      ? { finding: next.liabilityFinding, reason: next.liabilityReason, note: next.liabilityNote }
      : null;
    if (!isDeepStrictEqual(before, after)) {
      Object.assign(columns, next);
      changes.push({ field: 'liability', before, after });
    }
  }
  for (const flag of MAJOR_FLAG_NAMES) consider(flag, flag, input[flag]);
  consider('incidentKey', 'incidentKey', input.incidentKey);
  consider('subjectStaff', 'subjectStaff', input.subjectStaff);
  consider('tags', 'tags', input.tags);
  consider('metadata', 'metadata', input.metadata);
  return { columns, changes, addedReasons, problems };
}
