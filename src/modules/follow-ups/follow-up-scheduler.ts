import type { Queryable } from '../../db/client.js';
import type { ActorRecord } from '../../db/schema/index.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import type { ComplaintRow, ComplaintsRepository } from '../complaints/complaints.repository.js';
import type { DeadlineRow } from '../deadlines/deadlines.repository.js';
import type { DeadlinesService } from '../deadlines/deadlines.service.js';
import type { EventsRepository } from '../events/events.repository.js';
import { type FollowUpExemption, type FollowUpFlags, followUpExemption } from './follow-up-exemptions.js';
import type { FollowUpRow, FollowUpsRepository } from './follow-ups.repository.js';
import { toFollowUpView } from './follow-ups.schemas.js';

interface Context {
  tenantId: string;
  actor: ActorRecord;
}

/** What resolving decided about the visit, announced once the status change itself is announced. */
export type FollowUpDecision =
  | { kind: 'scheduled'; followUp: FollowUpRow; deadline: DeadlineRow }
  | { kind: 'exempted'; exemption: FollowUpExemption; resolutionId: string | null };

/**
 * Schedules follow-up visits (DOMAIN §5) inside the transaction that resolves a complaint: the
 * `follow_up` deadline due by the policy's followUp target and the attempt the work list shows,
 * or, for an exempt complaint, the reason on the timeline. Events leave through the outbox.
 */
export function createFollowUpScheduler(deps: {
  followUps: FollowUpsRepository;
  deadlines: Pick<DeadlinesService, 'openDeadlines'>;
  complaints: Pick<ComplaintsRepository, 'appendTimeline'>;
  events: EventsRepository;
  clock: Clock;
}) {
  const { followUps, events, clock } = deps;

  function timeline(
    context: Context,
    complaint: ComplaintRow,
    type: string,
    data: Record<string, unknown>,
    tx: Queryable,
  ) {
    return deps.complaints.appendTimeline(
      [
        {
          tenantId: context.tenantId,
          complaintId: complaint.id,
          type,
          actor: context.actor,
          occurredAt: clock.now(),
          data,
        },
      ],
      tx,
    );
  }

  const scheduler = {
    /** Opens attempt `attempt` of a complaint's follow-up visit, due by the policy's followUp target. */
    async scheduleAttempt(
      context: Context,
      complaint: ComplaintRow,
      input: { attempt: number; resolutionId: string | null },
      tx: Queryable,
    ): Promise<{ followUp: FollowUpRow; deadline: DeadlineRow }> {
      const now = clock.now();
      const id = newId();
      const [deadline] = await deps.deadlines.openDeadlines(
        complaint,
        [{ kind: 'follow_up', startsAt: now, sourceId: id }],
        tx,
      );
      const followUp = await followUps.insert(
        {
          id,
          tenantId: context.tenantId,
          complaintId: complaint.id,
          resolutionId: input.resolutionId,
          deadlineId: deadline!.id,
          attempt: input.attempt,
          dueAt: deadline!.dueAt,
          createdAt: now,
          updatedAt: now,
        },
        tx,
      );
      await timeline(
        context,
        complaint,
        'follow_up.scheduled',
        { followUpId: followUp.id, attempt: followUp.attempt, dueAt: followUp.dueAt.toISOString() },
        tx,
      );
      return { followUp, deadline: deadline! };
    },

    /**
     * A complaint was just resolved: schedules the first visit, unless it is exempt, and remembers
     * a customer who declined visits now. The caller holds the complaint's row lock.
     */
    async onResolved(
      context: Context,
      complaint: ComplaintRow,
      flags: FollowUpFlags,
      tx: Queryable,
    ): Promise<FollowUpDecision> {
      // Worked out once at intake and kept current on edits (see major-rules customerIdentityKey).
      const customerKey = complaint.customerKey;
      if (flags.followUpDeclined && customerKey) {
        await followUps.rememberDeclined(
          {
            tenantId: context.tenantId,
            customerKey,
            complaintId: complaint.id,
            actor: context.actor,
            at: clock.now(),
          },
          tx,
        );
      }
      const declinedBefore = customerKey
        ? await followUps.hasDeclined(context.tenantId, customerKey, tx)
        : false;
      const exemption = followUpExemption(complaint, flags, declinedBefore);
      const resolutionId = flags.resolutionId ?? null;
      if (exemption) {
        await timeline(context, complaint, 'follow_up.exempted', { reason: exemption, resolutionId }, tx);
        return { kind: 'exempted', exemption, resolutionId };
      }
      return {
        kind: 'scheduled',
        ...(await scheduler.scheduleAttempt(context, complaint, { attempt: 1, resolutionId }, tx)),
      };
    },

    /** Announces what onResolved or an unreachable attempt decided: `follow_up.due` or `follow_up.exempted`. */
    async announce(context: Context, complaint: ComplaintRow, decision: FollowUpDecision, tx: Queryable) {
      const now = clock.now();
      const payload =
        decision.kind === 'scheduled'
          ? {
              followUp: toFollowUpView(
                { ...decision.followUp, reference: complaint.reference, assignee: complaint.assignee },
                now,
              ),
            }
          : { exemption: { reason: decision.exemption, resolutionId: decision.resolutionId } };
      await events.appendForComplaint(
        {
          tenantId: context.tenantId,
          complaint,
          type: decision.kind === 'scheduled' ? 'follow_up.due' : 'follow_up.exempted',
          occurredAt: now,
          payload: { ...payload, actor: context.actor },
        },
        tx,
      );
    },

    /**
     * A resolved complaint was reopened or closed: a visit still pending is no longer owed (its
     * deadline goes with the status change).
     */
    async onLeftResolved(context: Context, complaint: ComplaintRow, tx: Queryable): Promise<void> {
      const now = clock.now();
      for (const pending of await followUps.pendingFor(context.tenantId, complaint.id, tx)) {
        await followUps.update(context.tenantId, pending.id, { status: 'cancelled' }, now, tx);
        await timeline(
          context,
          complaint,
          'follow_up.cancelled',
          { followUpId: pending.id, attempt: pending.attempt },
          tx,
        );
      }
    },
  };
  return scheduler;
}

export type FollowUpScheduler = ReturnType<typeof createFollowUpScheduler>;
