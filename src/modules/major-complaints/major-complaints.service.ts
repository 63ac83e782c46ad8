import { z } from 'zod';
import type { Db, Tx } from '../../db/client.js';
import type { ActorRecord } from '../../db/schema/index.js';
import type { Clock } from '../../lib/clock.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import {
  type ActingContext,
  emitComplaintEvent,
  SYSTEM_ACTOR,
  timelineEntry,
} from '../complaints/complaint-records.js';
import { isFinished } from '../complaints/complaint-status.js';
import { toComplaintView } from '../complaints/complaint-views.js';
import type { ComplaintRow, ComplaintsRepository } from '../complaints/complaints.repository.js';
import type { ComplaintState } from '../complaints/complaints.service.js';
import type { DeadlineEffects, DeadlinesService } from '../deadlines/deadlines.service.js';
import type { EventsRepository } from '../events/events.repository.js';
import type { WorkflowSettings } from '../settings/settings.schemas.js';
import type { MajorComplaintFilters, MajorComplaintsRepository } from './major-complaints.repository.js';
import type { ListMajorComplaintsQuery } from './major-complaints.schemas.js';
import { type MajorFlags, type MajorReason, mergeReasons, ownMajorReasons } from './major-rules.js';

const DAY_MS = 86_400_000;
const listCursorShape = z.tuple([z.iso.datetime(), z.uuid()]);

/** The cursor of the major-complaint file that continues after `row` (a major complaint). */
export const majorListCursor = (row: Pick<ComplaintRow, 'majorSince' | 'id'>): string =>
  encodeCursor([(row.majorSince ?? new Date(0)).toISOString(), row.id]);

/**
 * Major complaints (DOMAIN §2, 重大投诉) beyond what a complaint's own fields decide: repeat
 * complaints found at intake, collective complaints linked by an incident, a complaint becoming
 * major after intake (escalated at once, with its report-up deadline), and the separate file of
 * major complaints (DOMAIN §6, 单独立卷).
 */
export function createMajorComplaintsService(deps: {
  db: Db;
  majors: MajorComplaintsRepository;
  complaints: Pick<ComplaintsRepository, 'update' | 'appendTimeline'>;
  events: EventsRepository;
  deadlines: Pick<DeadlinesService, 'onSeverityChange' | 'nextPendingFor'>;
  escalations: {
    escalateMajor(complaint: ComplaintRow, actor: ActorRecord, tx: Tx): Promise<ComplaintRow>;
  };
  clock: Clock;
}) {
  const { majors, complaints, events, deadlines, clock } = deps;

  /**
   * Makes a locked complaint major for `reasons`, or adds them to a major one: timeline, the
   * `complaint.made_major` event, and when it was general until now, its report-up deadline and
   * the escalation to the department manager (not for a finished complaint: nothing is handled).
   */
  async function markMajor(
    context: ActingContext,
    row: ComplaintRow,
    reasons: MajorReason[],
    data: Record<string, unknown>,
    tx: Tx,
  ): Promise<{ row: ComplaintRow; effects: DeadlineEffects }> {
    const added = reasons.filter((reason) => !row.majorReasons.includes(reason));
    if (added.length === 0) return { row, effects: { toArm: [] } };
    const now = clock.now();
    const wasMajor = row.severity === 'major';
    const majorReasons = mergeReasons(row.majorReasons, added);
    const updated = await complaints.update(
      context.tenantId,
      row.id,
      { severity: 'major', majorReasons, majorSince: row.majorSince ?? now },
      now,
      tx,
    );
    await complaints.appendTimeline(
      [
        timelineEntry(context, row.id, 'complaint.made_major', now, {
          changes: [
            ...(wasMajor ? [] : [{ field: 'severity', before: row.severity, after: 'major' }]),
            { field: 'majorReasons', before: row.majorReasons, after: majorReasons },
          ],
          data: { reasons: added, ...data },
        }),
      ],
      tx,
    );
    const effects = wasMajor ? { toArm: [] } : await deadlines.onSeverityChange(updated, row.severity, tx);
    const next = await deadlines.nextPendingFor(context.tenantId, [updated.id], tx);
    await emitComplaintEvent(
      events,
      context,
      updated,
      'complaint.made_major',
      now,
      { complaint: toComplaintView(updated, next.get(updated.id)), reasons: added, ...data },
      tx,
    );
    const final =
      !wasMajor && !isFinished(updated.status)
        ? await deps.escalations.escalateMajor(updated, context.actor, tx)
        : updated;
    return { row: final, effects };
  }

  return {
    markMajor,

    /**
     * Why a new complaint is major before its incident is counted: its own fields, and a repeat
     * when the same customer complained in the same category within the tenant's window before
     * it. The repeat lookup is one indexed probe, made only when the complaint names both a
     * customer and a category. Two complaints of one customer committed in the same instant may
     * each miss the other: a duplicate submission, not the customer coming back that the rule is
     * about, and serialising intake per customer would cost every intake a transaction.
     */
    async reasonsAtIntake(
      tenantId: string,
      facts: MajorFlags & {
        severity: 'general' | 'major';
        category: string | null;
        customerKey: string | null;
        receivedAt: Date;
      },
      settings: Pick<WorkflowSettings, 'safetyCategories' | 'repeatWindowDays'>,
    ): Promise<MajorReason[]> {
      const reasons = ownMajorReasons({ ...facts, safetyCategories: settings.safetyCategories });
      const { customerKey, category, receivedAt } = facts;
      if (!customerKey || !category) return reasons;
      const repeat = await majors.hasComplaintFromCustomer({
        tenantId,
        customerKey,
        category,
        from: new Date(receivedAt.getTime() - settings.repeatWindowDays * DAY_MS),
        to: receivedAt,
      });
      return repeat ? mergeReasons(reasons, ['repeat']) : reasons;
    },

    /**
     * Whether an edit that gives a complaint its category or its customer's identity makes it a
     * repeat: classifying comes after recording (DOMAIN §4), so a repeat is often known only then.
     * The window is the one intake uses, back from when the complaint was received.
     */
    async isRepeatAfterEdit(
      complaint: { id: string; tenantId: string; receivedAt: Date },
      facts: { category: string | null; customerKey: string | null },
      settings: Pick<WorkflowSettings, 'repeatWindowDays'>,
      tx: Tx,
    ): Promise<boolean> {
      if (!facts.customerKey || !facts.category) return false;
      return majors.hasComplaintFromCustomer(
        {
          tenantId: complaint.tenantId,
          customerKey: facts.customerKey,
          category: facts.category,
          from: new Date(complaint.receivedAt.getTime() - settings.repeatWindowDays * DAY_MS),
          to: complaint.receivedAt,
          excludeId: complaint.id,
        },
        tx,
      );
    },

    /** See MajorComplaintsRepository.lockIncident: before any complaint row lock. */
    lockIncident: (tenantId: string, incidentKey: string, tx: Tx) =>
      majors.lockIncident(tenantId, incidentKey, tx),

    /** Complaints linked to the incident that were not rejected; call with the incident locked. */
    countLinked: (tenantId: string, incidentKey: string, tx: Tx, newcomer?: { customerKey: string | null }) =>
      majors.countLinked(tenantId, incidentKey, tx, newcomer),

    /**
     * With the incident locked: once `threshold` complaints that were not rejected are linked to
     * it, every complaint linked to it is a collective, major complaint. Rules fire on their own,
     * so the system is the actor; `trigger` names the complaint that tipped the balance.
     */
    async applyCollective(
      tenantId: string,
      incidentKey: string,
      threshold: number,
      trigger: { reference: string },
      tx: Tx,
      options: { alreadyCounted?: number } = {},
    ): Promise<DeadlineEffects> {
      const linked = options.alreadyCounted ?? (await majors.countLinked(tenantId, incidentKey, tx));
      if (linked < threshold) return { toArm: [] };
      const context: ActingContext = { tenantId, actor: SYSTEM_ACTOR };
      const toArm: DeadlineEffects['toArm'] = [];
      for (const row of await majors.lockLinkedLacking(tenantId, incidentKey, 'collective', tx)) {
        const { effects } = await markMajor(
          context,
          row,
          ['collective'],
          { incidentKey, linkedComplaints: linked, triggeredBy: trigger.reference },
          tx,
        );
        toArm.push(...effects.toArm);
      }
      return { toArm };
    },

    /** A page of the major-complaint file, most recently major first, with a cursor for the next. */
    async list(
      tenantId: string,
      query: ListMajorComplaintsQuery,
    ): Promise<{ states: ComplaintState[]; nextCursor: string | null }> {
      const filters: MajorComplaintFilters = { reason: query.reason, statuses: query.status };
      if (query.cursor) {
        const [majorSince, id] = decodeCursor(query.cursor, listCursorShape);
        filters.after = { majorSince: new Date(majorSince), id };
      }
      const rows = await majors.list(tenantId, filters, query.limit);
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const nextCursor = rows.length > query.limit && last?.majorSince ? majorListCursor(last) : null;
      const next = await deadlines.nextPendingFor(
        tenantId,
        page.map((row) => row.id),
      );
      return { states: page.map((row) => ({ row, nextDeadline: next.get(row.id) })), nextCursor };
    },
  };
}

export type MajorComplaintsService = ReturnType<typeof createMajorComplaintsService>;
