import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { Db, Queryable, Tx } from '../../db/client.js';
import type { ActorRecord } from '../../db/schema/index.js';
import type { Clock } from '../../lib/clock.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import {
  ConflictError,
  NotFoundError,
  PreconditionFailedError,
  PreconditionRequiredError,
  ValidationError,
} from '../../lib/errors.js';
import { ifMatchSatisfied } from '../../lib/etag.js';
import { groupBy } from '../../lib/group-by.js';
import { newId } from '../../lib/ids.js';
import type { NextDeadline } from '../deadlines/deadline-views.js';
import type { NewDeadlineRow } from '../deadlines/deadlines.repository.js';
import type { DeadlineEffects, DeadlinesService } from '../deadlines/deadlines.service.js';
import { MAJOR_COMPLAINT_LEVEL } from '../escalations/escalation-levels.js';
import type { ComplaintEventType } from '../events/event-types.js';
import { type EventsRepository, newEventId } from '../events/events.repository.js';
import {
  allowedTransitions,
  canTransition,
  isFinished,
  isReopen,
  transitionNeedsReason,
} from './complaint-status.js';
import { complaintEtag, toCommunicationView, toComplaintView } from './complaint-views.js';
import type {
  ComplaintChanges,
  ComplaintFilters,
  ComplaintRow,
  ComplaintsRepository,
  NewComplaintRow,
  NewTimelineRow,
  TimelineRow,
} from './complaints.repository.js';
import type {
  CreateCommunicationInput,
  CreateComplaintInput,
  ListComplaintsQuery,
  TransitionInput,
  UpdateComplaintInput,
} from './complaints.schemas.js';

/** Tolerance for callers' clocks running ahead when they send receivedAt / occurredAt. */
const CLOCK_SKEW_MS = 5 * 60_000;

const listCursorShape = z.tuple([z.iso.datetime(), z.uuid()]);
const timelineCursorShape = z.number().int().nonnegative();

/** Who is acting and for which tenant: every service call starts from this. */
export interface ActingContext {
  tenantId: string;
  actor: ActorRecord;
}

/** The caller's Idempotency-Key claim, when the request carried one. */
export interface IdempotencyBinding {
  key: string;
  recoveredResourceId: string | null;
}

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

const SYSTEM_ACTOR: ActorRecord = { type: 'system', id: null, name: 'redress', onBehalfOf: null };

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
}) {
  const { db, complaints, clock, events, deadlines } = deps;

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
    return events.appendForComplaint(
      {
        tenantId: context.tenantId,
        complaint: row,
        type,
        occurredAt: at,
        payload: { ...payload, actor: context.actor },
      },
      tx,
    );
  }

  /** Moves the status inside a transaction: timeline, events and deadline effects in one place. */
  async function applyTransition(
    context: ActingContext,
    current: ComplaintRow,
    to: ComplaintRow['status'],
    reason: string | null,
    tx: Tx,
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
    const view = toComplaintView(
      updated,
      (await deadlines.nextPendingFor(context.tenantId, [updated.id], tx)).get(updated.id),
    );
    await emit(context, updated, 'complaint.status_changed', now, { complaint: view, from, to, reason }, tx);
    if (reopened)
      await emit(context, updated, 'complaint.reopened', now, { complaint: view, from, reason }, tx);
    return { updated, effects };
  }

  function timelineEntry(
    context: ActingContext,
    complaintId: string,
    type: string,
    at: Date,
    extra: Pick<NewTimelineRow, 'changes' | 'data'>,
  ): NewTimelineRow {
    return { tenantId: context.tenantId, complaintId, type, actor: context.actor, occurredAt: at, ...extra };
  }

  return {
    getRow,

    async get(tenantId: string, key: string): Promise<ComplaintState> {
      const found = await complaints.findWithNextDeadline(tenantId, key);
      if (!found) throw new NotFoundError('Complaint', key);
      return { row: found.complaint, nextDeadline: found.nextDeadline ?? undefined };
    },

    /** Takes in a new complaint; with an Idempotency-Key, a retry returns the first result. */
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
      const complaint = {
        id: newId(),
        tenantId: context.tenantId,
        channel: input.channel,
        severity: input.severity,
        priority: input.priority,
        category: input.category ?? null,
        subject: input.subject,
        description: input.description,
        customerName: input.customer.name ?? null,
        customerPhone: input.customer.phone ?? null,
        customerEmail: input.customer.email ?? null,
        customerAddress: input.customer.address ?? null,
        customerExternalId: input.customer.externalId ?? null,
        desiredOutcome: input.desiredOutcome ?? null,
        occurredAt,
        receivedAt,
        receivedBy,
        assignee: input.assignee ?? receivedBy,
        externalRef: input.externalRef ?? null,
        // A major complaint starts reported up to the department manager (DOMAIN §4).
        escalationLevel: input.severity === 'major' ? MAJOR_COMPLAINT_LEVEL : 0,
        tags: input.tags,
        metadata: input.metadata,
        createdAt: now,
        updatedAt: now,
      } satisfies NewComplaintRow;
      const planned = await deadlines.planAtIntake(complaint);
      const nextDeadline = earliestPending(planned);
      // The view recorded on the timeline and in the event, as the answer will show it; the
      // statement fills in the reference the tenant's sequence hands out.
      const view = toComplaintView(
        {
          ...complaint,
          reference: '',
          status: 'received',
          version: 1,
          eventSequence: 1,
        } as ComplaintRow,
        nextDeadline,
      );
      // Intake is the hottest write: one statement, one round trip (see insertAtIntake). A major
      // complaint is also reported up at once, so it takes a transaction.
      const intake = {
        complaint,
        deadlines: planned,
        actor: context.actor,
        view,
        eventId: newEventId(),
        idempotencyKey: idempotency?.key ?? null,
      };
      const row =
        complaint.severity === 'major'
          ? await db.transaction(async (tx) => {
              const inserted = await complaints.insertAtIntake(intake, tx);
              if (inserted) await deps.escalations.recordMajorAtIntake(inserted, context.actor, tx);
              return inserted;
            })
          : await complaints.insertAtIntake(intake);
      if (!row) {
        const existing = await complaints.findByExternalRef(context.tenantId, input.externalRef!);
        throw new ConflictError('external_ref_conflict', 'A complaint with this externalRef already exists', {
          detail: `Complaint '${existing?.reference ?? 'unknown'}' already has externalRef '${input.externalRef}'.`,
          extensions: { existingComplaint: existing ?? null },
        });
      }
      await deadlines.arm({
        toArm: planned.map((d) => ({
          id: d.id,
          status: 'pending',
          dueAt: d.dueAt,
          warnAts: d.warnAts ?? [],
          warningsFired: 0,
        })),
      });
      return { row, nextDeadline };
    },

    /** A page of complaints, newest received first, with a cursor for the next page. */
    async list(
      tenantId: string,
      query: ListComplaintsQuery,
    ): Promise<{ states: ComplaintState[]; nextCursor: string | null }> {
      const filters: ComplaintFilters = {
        statuses: query.status,
        channels: query.channel,
        severity: query.severity,
        category: query.category,
        assignee: query.assignee,
        receivedFrom: query.receivedFrom ? new Date(query.receivedFrom) : undefined,
        receivedTo: query.receivedTo ? new Date(query.receivedTo) : undefined,
        text: query.q,
      };
      if (query.cursor) {
        const [receivedAt, id] = decodeCursor(query.cursor, listCursorShape);
        filters.after = { receivedAt: new Date(receivedAt), id };
      }
      const rows = await complaints.list(tenantId, filters, query.limit);
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const nextCursor = rows.length > query.limit && last ? complaintListCursor(last) : null;
      // One query for the next deadline of the whole page, not one per complaint.
      const next = await deadlines.nextPendingFor(
        tenantId,
        page.map((row) => row.id),
      );
      return { states: page.map((row) => ({ row, nextDeadline: next.get(row.id) })), nextCursor };
    },

    /** Edits a complaint if it is still at the version the caller read (If-Match). */
    async update(
      context: ActingContext,
      key: string,
      ifMatch: string | undefined,
      input: UpdateComplaintInput,
    ): Promise<ComplaintState> {
      if (!ifMatch) throw new PreconditionRequiredError('complaint');
      const result = await db.transaction(async (tx) => {
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
        const { columns, changes } = diffUpdate(current, input);
        if (changes.length === 0) return { state: await stateOf(current, tx), effects: { toArm: [] } };
        const now = clock.now();
        const updated = await complaints.update(context.tenantId, current.id, columns, now, tx);
        await complaints.appendTimeline(
          [timelineEntry(context, current.id, 'complaint.updated', now, { changes })],
          tx,
        );
        const effects = await deadlines.onSeverityChange(updated, current.severity, tx);
        const view = toComplaintView(updated, (await stateOf(updated, tx)).nextDeadline);
        await emit(context, updated, 'complaint.updated', now, { complaint: view, changes }, tx);
        if (changes.some((change) => change.field === 'assignee')) {
          await emit(
            context,
            updated,
            'complaint.assigned',
            now,
            { complaint: view, previousAssignee: current.assignee },
            tx,
          );
        }
        const becameMajor = current.severity !== 'major' && updated.severity === 'major';
        const final =
          becameMajor && !isFinished(updated.status)
            ? await deps.escalations.escalateMajor(updated, context.actor, tx)
            : updated;
        const state = await stateOf(final, tx);
        return { state, effects };
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
    ): Promise<ComplaintState> {
      const result = await db.transaction(async (tx) => {
        const current = await complaints.findByKey(context.tenantId, key, { forUpdate: true }, tx);
        if (!current) throw new NotFoundError('Complaint', key);
        if (ifMatch && !ifMatchSatisfied(ifMatch, complaintEtag(current))) {
          throw new PreconditionFailedError('Complaint', key, complaintEtag(current));
        }
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
        const { updated, effects } = await applyTransition(
          context,
          current,
          input.to,
          input.reason ?? null,
          tx,
        );
        return { state: await stateOf(updated, tx), effects };
      });
      await deadlines.arm(result.effects);
      return result.state;
    },

    /** Records a contact with the customer, inbound or outbound, on the complaint's record. */
    async recordCommunication(context: ActingContext, key: string, input: CreateCommunicationInput) {
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
      const result = await db.transaction(async (tx) => {
        // The row lock orders communications with concurrent status changes on the same complaint.
        const complaint = await complaints.findByKey(context.tenantId, key, { forUpdate: true }, tx);
        if (!complaint) throw new NotFoundError('Complaint', key);
        if (occurredAt.getTime() < complaint.receivedAt.getTime() - CLOCK_SKEW_MS) {
          throw new ValidationError([
            { field: 'body.occurredAt', message: 'must not be before the complaint was received' },
          ]);
        }
        const communication = await complaints.insertCommunication(
          {
            id: newId(),
            tenantId: context.tenantId,
            complaintId: complaint.id,
            direction: input.direction,
            channel: input.channel,
            body: input.body,
            contactMade: input.contactMade,
            occurredAt,
            recordedBy: context.actor,
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
                body: input.body,
                nextUpdateBy: nextUpdateBy?.toISOString() ?? null,
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
      });
      await deadlines.arm(result.effects);
      return result.communication;
    },

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

/** Turns a PATCH body into column changes plus the before/after list the timeline keeps. */
function diffUpdate(
  current: ComplaintRow,
  input: UpdateComplaintInput,
): { columns: ComplaintChanges; changes: Change[] } {
  const columns: ComplaintChanges = {};
  const changes: Change[] = [];
  const consider = <K extends keyof ComplaintChanges & keyof ComplaintRow>(
    field: string,
    column: K,
    next: unknown,
  ) => {
    if (next === undefined) return;
    const before = current[column];
    const after = next;
    const comparableBefore = before instanceof Date ? before.toISOString() : before;
    const comparableAfter = after instanceof Date ? after.toISOString() : after;
    if (isDeepStrictEqual(comparableBefore, comparableAfter)) return;
    (columns as Record<string, unknown>)[column] = after;
    changes.push({ field, before: comparableBefore ?? null, after: comparableAfter ?? null });
  };
  consider('severity', 'severity', input.severity);
  consider('priority', 'priority', input.priority);
  consider('category', 'category', input.category);
  consider('subject', 'subject', input.subject);
  consider('description', 'description', input.description);
  consider('customer.name', 'customerName', input.customer?.name);
  consider('customer.phone', 'customerPhone', input.customer?.phone);
  consider('customer.email', 'customerEmail', input.customer?.email);
  consider('customer.address', 'customerAddress', input.customer?.address);
  consider('customer.externalId', 'customerExternalId', input.customer?.externalId);
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
  consider('tags', 'tags', input.tags);
  consider('metadata', 'metadata', input.metadata);
  return { columns, changes };
}
