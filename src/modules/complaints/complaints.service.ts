import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { Db } from '../../db/client.js';
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
import { newId } from '../../lib/ids.js';
import type { IdempotencyRepository } from '../idempotency/idempotency.repository.js';
import { allowedTransitions, canTransition, isReopen, transitionNeedsReason } from './complaint-status.js';
import { complaintEtag, toComplaintView } from './complaint-views.js';
import type {
  ComplaintChanges,
  ComplaintFilters,
  ComplaintRow,
  ComplaintsRepository,
  NewTimelineRow,
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

export function createComplaintsService(deps: {
  db: Db;
  complaints: ComplaintsRepository;
  idempotency: Pick<IdempotencyRepository, 'recordResource'>;
  clock: Clock;
}) {
  const { db, complaints, clock } = deps;

  async function getRow(tenantId: string, key: string): Promise<ComplaintRow> {
    const row = await complaints.findByKey(tenantId, key);
    if (!row) throw new NotFoundError('Complaint', key);
    return row;
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

    /** Takes in a new complaint; with an Idempotency-Key, a retry returns the first result. */
    async create(
      context: ActingContext,
      input: CreateComplaintInput,
      idempotency: IdempotencyBinding | null = null,
    ): Promise<ComplaintRow> {
      if (idempotency?.recoveredResourceId) return getRow(context.tenantId, idempotency.recoveredResourceId);
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
      const created = await db.transaction(async (tx) => {
        const row = await complaints.insert(
          {
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
            tags: input.tags,
            metadata: input.metadata,
            createdAt: now,
            updatedAt: now,
          },
          tx,
        );
        if (!row) return undefined;
        await complaints.appendTimeline(
          [
            timelineEntry(context, row.id, 'complaint.created', now, {
              data: { complaint: toComplaintView(row) },
            }),
          ],
          tx,
        );
        if (idempotency) await deps.idempotency.recordResource(context.tenantId, idempotency.key, row.id, tx);
        return row;
      });
      if (!created) {
        const existing = await complaints.findByExternalRef(context.tenantId, input.externalRef!);
        throw new ConflictError('external_ref_conflict', 'A complaint with this externalRef already exists', {
          detail: `Complaint '${existing?.reference ?? 'unknown'}' already has externalRef '${input.externalRef}'.`,
          extensions: { existingComplaint: existing ?? null },
        });
      }
      return created;
    },

    /** A page of complaints, newest received first, with a cursor for the next page. */
    async list(
      tenantId: string,
      query: ListComplaintsQuery,
    ): Promise<{ rows: ComplaintRow[]; nextCursor: string | null }> {
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
      const nextCursor =
        rows.length > query.limit && last ? encodeCursor([last.receivedAt.toISOString(), last.id]) : null;
      return { rows: page, nextCursor };
    },

    /** Edits a complaint if it is still at the version the caller read (If-Match). */
    async update(
      context: ActingContext,
      key: string,
      ifMatch: string | undefined,
      input: UpdateComplaintInput,
    ): Promise<ComplaintRow> {
      if (!ifMatch) throw new PreconditionRequiredError('complaint');
      return db.transaction(async (tx) => {
        const current = await complaints.findByKey(context.tenantId, key, { forUpdate: true }, tx);
        if (!current) throw new NotFoundError('Complaint', key);
        if (!ifMatchSatisfied(ifMatch, complaintEtag(current))) {
          throw new PreconditionFailedError('Complaint', key, complaintEtag(current));
        }
        const { columns, changes } = diffUpdate(current, input);
        if (changes.length === 0) return current;
        const now = clock.now();
        const updated = await complaints.update(context.tenantId, current.id, columns, now, tx);
        await complaints.appendTimeline(
          [timelineEntry(context, current.id, 'complaint.updated', now, { changes })],
          tx,
        );
        return updated;
      });
    },

    /** Moves a complaint through its life cycle; an illegal move names the allowed ones. */
    async transition(
      context: ActingContext,
      key: string,
      input: TransitionInput,
      ifMatch?: string,
    ): Promise<ComplaintRow> {
      return db.transaction(async (tx) => {
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
        const now = clock.now();
        const updated = await complaints.update(context.tenantId, current.id, { status: input.to }, now, tx);
        await complaints.appendTimeline(
          [
            timelineEntry(context, current.id, 'complaint.status_changed', now, {
              changes: [{ field: 'status', before: from, after: input.to }],
              data: { from, to: input.to, reason: input.reason ?? null, reopened: isReopen(from, input.to) },
            }),
          ],
          tx,
        );
        return updated;
      });
    },

    /** Records a contact with the customer, inbound or outbound, on the complaint's record. */
    async recordCommunication(context: ActingContext, key: string, input: CreateCommunicationInput) {
      const now = clock.now();
      const occurredAt = input.occurredAt ? new Date(input.occurredAt) : now;
      if (occurredAt.getTime() > now.getTime() + CLOCK_SKEW_MS) {
        throw new ValidationError([{ field: 'body.occurredAt', message: 'must not be in the future' }]);
      }
      return db.transaction(async (tx) => {
        // The row lock orders communications with concurrent status changes on the same complaint.
        const complaint = await complaints.findByKey(context.tenantId, key, { forUpdate: true }, tx);
        if (!complaint) throw new NotFoundError('Complaint', key);
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
              },
            }),
          ],
          tx,
        );
        return communication;
      });
    },

    /** The complaint's history, oldest first. */
    async timeline(tenantId: string, key: string, query: { limit: number; cursor?: string | undefined }) {
      const complaint = await getRow(tenantId, key);
      const afterId = query.cursor ? decodeCursor(query.cursor, timelineCursorShape) : null;
      const rows = await complaints.listTimeline(tenantId, complaint.id, afterId, query.limit);
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return { rows: page, nextCursor: rows.length > query.limit && last ? encodeCursor(last.id) : null };
    },
  };
}

export type ComplaintsService = ReturnType<typeof createComplaintsService>;

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
