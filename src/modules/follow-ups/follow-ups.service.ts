import { z } from 'zod';
import type { Db, Queryable } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { ConflictError, NotFoundError } from '../../lib/errors.js';
import { groupBy } from '../../lib/group-by.js';
import type { ComplaintsRepository } from '../complaints/complaints.repository.js';
import type { ActingContext, ComplaintsService } from '../complaints/complaints.service.js';
import type { DeadlineEffects, DeadlinesService } from '../deadlines/deadlines.service.js';
import type { EscalationsService } from '../escalations/escalations.service.js';
import type { EventsRepository } from '../events/events.repository.js';
import type { IdempotencyRepository } from '../idempotency/idempotency.repository.js';
import { bindToKey, type IdempotencyBinding } from '../idempotency/idempotency-binding.js';
import type { FollowUpScheduler } from './follow-up-scheduler.js';
import type { FollowUpListRow, FollowUpsRepository } from './follow-ups.repository.js';
import { type FollowUpOutcomeInput, type ListFollowUpsQuery, toFollowUpView } from './follow-ups.schemas.js';

const cursorShape = z.tuple([z.iso.datetime(), z.uuid()]);

/** The work-list cursor that points just after this follow-up (REST's `nextCursor`, GraphQL's edge cursor). */
export const followUpListCursor = (row: Pick<FollowUpListRow, 'dueAt' | 'id'>): string =>
  encodeCursor([row.dueAt.toISOString(), row.id]);

/**
 * Follow-up visits (回访, DOMAIN §5): the work list, and outcomes. A satisfied customer closes the
 * complaint; an unsatisfied one reopens and escalates it; an unreachable one gets another attempt
 * up to the tenant's followUpMaxAttempts; one who declines is remembered so nobody calls again.
 */
export function createFollowUpsService(deps: {
  db: Db;
  followUps: FollowUpsRepository;
  scheduler: Pick<FollowUpScheduler, 'scheduleAttempt' | 'announce'>;
  complaints: Pick<ComplaintsRepository, 'findByKey' | 'appendTimeline'>;
  transitions: Pick<ComplaintsService, 'transitionInTx'>;
  deadlines: Pick<DeadlinesService, 'meetByAction' | 'arm'>;
  escalations: Pick<EscalationsService, 'escalateUnsatisfied'>;
  events: EventsRepository;
  maxAttemptsOf: (tenantId: string, tx: Queryable) => Promise<number>;
  /** An outcome recorded with an idempotency key points the key at the visit, in its transaction. */
  idempotency: Pick<IdempotencyRepository, 'bindResource'>;
  clock: Clock;
}) {
  const { db, followUps, clock } = deps;

  async function get(tenantId: string, id: string, tx: Queryable = db): Promise<FollowUpListRow> {
    const row = await followUps.find(tenantId, id, tx);
    if (!row) throw new NotFoundError('Follow-up', id);
    return row;
  }

  /**
   * What recording the outcome answered, read back for a retry after a crash: the visit, and for
   * an unreachable customer the attempt it scheduled, whose absence means the attempts ran out.
   */
  async function recordedOutcome(tenantId: string, id: string) {
    const followUp = await get(tenantId, id);
    const nextAttempt =
      followUp.outcome === 'unreachable' ? ((await followUps.nextAttemptAfter(followUp)) ?? null) : null;
    const attemptsExhausted = followUp.outcome === 'unreachable' && nextAttempt === null;
    return { followUp, nextAttempt, attemptsExhausted, now: clock.now() };
  }

  return {
    get,
    /** The service's clock, for telling whether a visit is overdue. */
    now: () => clock.now(),

    /** A page of the work list in due order (pending visits by default). */
    async list(tenantId: string, query: ListFollowUpsQuery) {
      const now = clock.now();
      const after = query.cursor ? decodeCursor(query.cursor, cursorShape) : null;
      const overdue = query.overdue === true;
      const dueBefore = [query.dueBefore ? new Date(query.dueBefore) : null, overdue ? now : null]
        .filter((at): at is Date => at !== null)
        .sort((a, b) => a.getTime() - b.getTime())[0];
      const rows = await followUps.list(
        tenantId,
        {
          statuses: overdue ? ['pending'] : (query.status ?? ['pending']),
          dueBefore,
          assignee: query.assignee,
          after: after ? { dueAt: new Date(after[0]), id: after[1] } : undefined,
        },
        query.limit,
      );
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        rows: page,
        now,
        nextCursor: rows.length > query.limit && last ? followUpListCursor(last) : null,
      };
    },

    /** The follow-ups of each complaint, in one query however many (GraphQL's nested `followUps`). */
    async listForComplaints(tenantId: string, complaintIds: readonly string[]) {
      const rows = await followUps.listForComplaints(tenantId, [...new Set(complaintIds)]);
      return groupBy(rows, (row) => row.complaintId);
    },

    /** Records what came of a visit and does what the outcome calls for, in one transaction. */
    async recordOutcome(
      context: ActingContext,
      id: string,
      input: FollowUpOutcomeInput,
      idempotency: IdempotencyBinding | null = null,
    ) {
      if (idempotency?.recoveredResourceId)
        return recordedOutcome(context.tenantId, idempotency.recoveredResourceId);
      const result = await db.transaction(async (tx) => {
        // Complaint first, as every transaction that touches a complaint locks it.
        const complaintId = await followUps.complaintIdOf(context.tenantId, id, tx);
        if (!complaintId) throw new NotFoundError('Follow-up', id);
        const complaint = (await deps.complaints.findByKey(
          context.tenantId,
          complaintId,
          { forUpdate: true },
          tx,
        ))!;
        const current = (await followUps.lock(context.tenantId, id, tx))!;
        if (current.status !== 'pending') {
          throw new ConflictError('follow_up_not_pending', 'The follow-up is settled', {
            detail: `Follow-up '${id}' is '${current.status}'; record an outcome only for a pending visit.`,
            extensions: { currentStatus: current.status },
          });
        }
        const now = clock.now();
        await followUps.update(
          context.tenantId,
          id,
          {
            status: 'completed',
            outcome: input.outcome,
            score: input.score ?? null,
            comment: input.comment ?? null,
            contactedBy: input.contactedBy ?? context.actor.onBehalfOf ?? context.actor.name,
            completedAt: now,
            recordedBy: context.actor,
          },
          now,
          tx,
        );
        await deps.deadlines.meetByAction(complaint, current.deadlineId, context.actor, tx);
        const effects: DeadlineEffects = { toArm: [] };
        // Worked out once at intake and kept current on edits (see major-rules customerIdentityKey).
        const customerKey = complaint.customerKey;
        const maxAttempts = await deps.maxAttemptsOf(context.tenantId, tx);
        const attemptsExhausted = input.outcome === 'unreachable' && current.attempt >= maxAttempts;
        await deps.complaints.appendTimeline(
          [
            {
              tenantId: context.tenantId,
              complaintId: complaint.id,
              type: 'follow_up.completed',
              actor: context.actor,
              occurredAt: now,
              data: {
                followUpId: id,
                attempt: current.attempt,
                outcome: input.outcome,
                score: input.score ?? null,
                comment: input.comment ?? null,
                preferenceRemembered: input.outcome === 'declined' && customerKey !== null,
                attemptsExhausted,
              },
            },
          ],
          tx,
        );
        const completed = await get(context.tenantId, id, tx);
        await deps.events.appendForComplaint(
          {
            tenantId: context.tenantId,
            complaint,
            type: 'follow_up.completed',
            occurredAt: now,
            payload: { followUp: toFollowUpView(completed, now), attemptsExhausted, actor: context.actor },
          },
          tx,
        );
        let nextAttempt: FollowUpListRow | null = null;
        switch (input.outcome) {
          case 'satisfied': {
            const closed = await deps.transitions.transitionInTx(
              context,
              complaint,
              { to: 'closed', reason: 'The customer was satisfied at the follow-up visit' },
              tx,
            );
            effects.toArm.push(...closed.effects.toArm);
            break;
          }
          case 'unsatisfied': {
            const reason = input.comment
              ? `The customer was not satisfied at the follow-up visit: ${input.comment}`
              : 'The customer was not satisfied at the follow-up visit';
            const reopened = await deps.transitions.transitionInTx(
              context,
              complaint,
              { to: 'investigating', reason },
              tx,
            );
            effects.toArm.push(...reopened.effects.toArm);
            await deps.escalations.escalateUnsatisfied(reopened.updated, context.actor, reason, tx);
            break;
          }
          case 'unreachable': {
            if (attemptsExhausted) break;
            const scheduled = await deps.scheduler.scheduleAttempt(
              context,
              complaint,
              { attempt: current.attempt + 1, resolutionId: current.resolutionId },
              tx,
            );
            effects.toArm.push(scheduled.deadline);
            await deps.scheduler.announce(context, complaint, { kind: 'scheduled', ...scheduled }, tx);
            nextAttempt = await get(context.tenantId, scheduled.followUp.id, tx);
            break;
          }
          case 'declined':
            if (customerKey) {
              await followUps.rememberDeclined(
                {
                  tenantId: context.tenantId,
                  customerKey,
                  complaintId: complaint.id,
                  actor: context.actor,
                  at: now,
                },
                tx,
              );
            }
            break;
        }
        await bindToKey(deps.idempotency, context.tenantId, idempotency, id, tx);
        return { followUp: await get(context.tenantId, id, tx), nextAttempt, attemptsExhausted, effects };
      });
      await deps.deadlines.arm(result.effects);
      return { ...result, now: clock.now() };
    },
  };
}

export type FollowUpsService = ReturnType<typeof createFollowUpsService>;
