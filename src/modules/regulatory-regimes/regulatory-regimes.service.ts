import { stringify } from 'csv-stringify/sync';
import type { Db, Queryable } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { ConflictError, NotFoundError, UnprocessableError, ValidationError } from '../../lib/errors.js';
import { addDuration, type BusinessCalendar, durationBetween } from '../calendars/business-time.js';
import type { ActingContext } from '../complaints/complaint-records.js';
import type { ComplaintsRepository } from '../complaints/complaints.repository.js';
import type { ComplaintsService } from '../complaints/complaints.service.js';
import { toDeadlineView } from '../deadlines/deadline-views.js';
import type { DeadlineRow, DeadlinesRepository } from '../deadlines/deadlines.repository.js';
import type { DeadlineEffects, DeadlinesService } from '../deadlines/deadlines.service.js';
import type { EventsRepository } from '../events/events.repository.js';
import { daysBetween, reportPeriod } from '../reports/report-periods.js';
import type { SlaPoliciesRepository } from '../sla-policies/sla-policies.repository.js';
import { regimeCompliance } from './regime-compliance.js';
import { clockDueAt, isRegimeId, REGIMES, roleMayApprove } from './regimes.js';
import type { RegulatoryRegimesRepository } from './regulatory-regimes.repository.js';
import type { ExtensionInput, RegimeReportQuery, RegimeReportView } from './regulatory-regimes.schemas.js';

const MAX_PERIOD_DAYS = 366;

/**
 * Extending a deadline under its regulatory template (regimes.ts): an action with the approval the
 * regime asks for, which records its reason, moves the deadline, emits `deadline.extended` and
 * records the customer notice (the holding reply) as an outbound communication.
 */
export function createRegulatoryRegimesService(deps: {
  db: Db;
  complaints: Pick<ComplaintsRepository, 'findByKey' | 'appendTimeline'>;
  transitions: Pick<ComplaintsService, 'recordCommunicationInTx'>;
  deadlineRows: Pick<DeadlinesRepository, 'lockUnmetForComplaint' | 'find' | 'update'>;
  deadlines: Pick<DeadlinesService, 'arm'>;
  policies: Pick<SlaPoliciesRepository, 'find'>;
  calendarFor: (
    tenantId: string,
    calendarId: string | null,
    tx: Queryable,
  ) => Promise<BusinessCalendar | null>;
  rolesOf: (tenantId: string, tx: Queryable) => Promise<string[]>;
  timeZoneOf: (tenantId: string) => Promise<string>;
  /** Whether the complaint has had a pre-refund: Regulation E's provisional credit. */
  hasPreRefund: (tenantId: string, complaintId: string, tx: Queryable) => Promise<boolean>;
  repository: RegulatoryRegimesRepository;
  events: EventsRepository;
  clock: Clock;
}) {
  const { db, clock } = deps;

  /** The pending deadline of the complaint, or the reason it cannot be extended. */
  async function lockPending(tenantId: string, complaintId: string, deadlineId: string, tx: Queryable) {
    const unmet = await deps.deadlineRows.lockUnmetForComplaint(tenantId, complaintId, tx);
    const row = unmet.find((candidate) => candidate.id === deadlineId);
    const existing = row ?? (await deps.deadlineRows.find(tenantId, deadlineId, tx));
    if (!existing || existing.complaintId !== complaintId) throw new NotFoundError('Deadline', deadlineId);
    const now = clock.now();
    if (existing.status !== 'pending' || existing.dueAt.getTime() <= now.getTime()) {
      const why =
        existing.status === 'pending'
          ? `fell due at ${existing.dueAt.toISOString()}`
          : `is '${existing.status}'`;
      throw new ConflictError('deadline_not_pending', 'Only a pending deadline can be extended', {
        detail: `Deadline '${deadlineId}' ${why}; an extension moves a deadline before it falls due.`,
        extensions: { currentStatus: existing.status },
      });
    }
    return existing;
  }

  /** New due and warning times of a deadline under an extension step, counted from its start. */
  function extendedTimes(
    row: DeadlineRow,
    step: { duration: string; clock: 'calendar' | 'business'; endsOnWorkingDay?: boolean },
    calendar: BusinessCalendar | null,
  ) {
    const dueAt = clockDueAt(step, row.startsAt, calendar);
    const clockCalendar = step.clock === 'business' ? calendar : null;
    const durationMs = durationBetween(row.startsAt, dueAt, step.clock, clockCalendar);
    const origin = addDuration(row.startsAt, 0, step.clock, clockCalendar);
    // Warnings keep their fractions of the longer span; one whose new time has passed fires at once.
    const warnAts = row.warnFractions.map((fraction) =>
      addDuration(origin, Math.round(durationMs * fraction), step.clock, clockCalendar),
    );
    return { dueAt, durationMs, warnAts };
  }

  return {
    /**
     * The compliance report of a regime for complaints received from `from` to `to` (local days):
     * received, closed, the share answered within each clock, extensions used and breaches.
     */
    async report(tenantId: string, query: RegimeReportQuery): Promise<RegimeReportView> {
      if (daysBetween(query.from, query.to) > MAX_PERIOD_DAYS) {
        throw new ValidationError([
          { field: 'querystring.to', message: `must be at most ${MAX_PERIOD_DAYS} days after from` },
        ]);
      }
      const regime = REGIMES[query.regime];
      const timeZone = await deps.timeZoneOf(tenantId);
      const period = reportPeriod(query.from, query.to, timeZone);
      const complaints = await deps.repository.governedComplaints(tenantId, regime.id, period);
      const calendars = new Map<string, BusinessCalendar>();
      for (const calendarId of new Set(complaints.flatMap((c) => (c.calendarId ? [c.calendarId] : [])))) {
        const calendar = await deps.calendarFor(tenantId, calendarId, db);
        if (calendar) calendars.set(calendarId, calendar);
      }
      const now = clock.now();
      return {
        regime: regime.id,
        name: regime.name,
        citation: regime.citation,
        from: query.from,
        to: query.to,
        timeZone,
        asOf: now.toISOString(),
        ...regimeCompliance(regime, complaints, calendars, now),
      };
    },

    /** The report as CSV: one row per clock, the period's totals repeated on each. */
    reportCsv(view: RegimeReportView): string {
      return stringify(
        view.clocks.map((clock) => ({
          regime: view.regime,
          from: view.from,
          to: view.to,
          received: view.received,
          closed: view.closed,
          extensionsUsed: view.extensionsUsed,
          breaches: view.breaches,
          clock: clock.id,
          kind: clock.kind ?? '',
          duration: clock.duration,
          clockType: clock.clock,
          decided: clock.decided,
          within: clock.within,
          withinPercent: clock.withinPercent ?? '',
          citation: clock.citation,
        })),
        {
          header: true,
          columns: [
            'regime',
            'from',
            'to',
            'received',
            'closed',
            'extensionsUsed',
            'breaches',
            'clock',
            'kind',
            'duration',
            'clockType',
            'decided',
            'within',
            'withinPercent',
            'citation',
          ],
        },
      );
    },

    /** Extends a complaint's deadline by its regime's next extension step. */
    async extend(context: ActingContext, complaintKey: string, deadlineId: string, input: ExtensionInput) {
      const effects: DeadlineEffects = { toArm: [] };
      const result = await db.transaction(async (tx) => {
        const { tenantId } = context;
        const complaint = await deps.complaints.findByKey(tenantId, complaintKey, { forUpdate: true }, tx);
        if (!complaint) throw new NotFoundError('Complaint', complaintKey);
        const row = await lockPending(tenantId, complaint.id, deadlineId, tx);

        const policy = await deps.policies.find(tenantId, row.policyId, {}, tx);
        const regime = policy?.regime && isRegimeId(policy.regime) ? REGIMES[policy.regime] : null;
        if (!policy || !regime || regime.extends !== row.kind || regime.extensions.length === 0) {
          const why = !regime
            ? 'its SLA policy was not made from a regulatory template'
            : regime.extends !== row.kind
              ? `regime '${regime.id}' extends only its '${regime.extends}' deadline`
              : `regime '${regime.id}' allows no extension`;
          throw new UnprocessableError('extension_not_allowed', 'No extension allowed', {
            detail: `Deadline '${deadlineId}' cannot be extended: ${why}.`,
            extensions: { regime: regime?.id ?? null, kind: row.kind },
          });
        }
        const step = regime.extensions[row.extensions];
        if (!step) {
          throw new ConflictError('extension_limit_reached', 'No extension left', {
            detail: `Deadline '${deadlineId}' was extended ${row.extensions} time(s), all that regime '${regime.id}' allows.`,
            extensions: {
              regime: regime.id,
              extensionsUsed: row.extensions,
              extensionsAllowed: regime.extensions.length,
            },
          });
        }

        if (step.requiresPreRefund && !(await deps.hasPreRefund(tenantId, complaint.id, tx))) {
          throw new UnprocessableError('extension_not_allowed', 'Provisional credit first', {
            detail: `Extension ${row.extensions + 1} under '${regime.id}' needs the provisional credit given first (${step.citation}): record it as a pre-refund of complaint '${complaintKey}'.`,
            extensions: { regime: regime.id, kind: row.kind },
          });
        }
        const roles = await deps.rolesOf(tenantId, tx);
        if (!roles.includes(input.approver.role)) {
          throw new UnprocessableError('unknown_role', 'Unknown role', {
            detail: `approver has role '${input.approver.role}', which is not one of the tenant's roles (${roles.join(', ')}).`,
            extensions: { role: input.approver.role, roles },
          });
        }
        if (!roleMayApprove(roles, step.approverRole, input.approver.role)) {
          throw new UnprocessableError(
            'approver_not_authorised',
            'The regime asks for a more senior approver',
            {
              detail: `Extension ${row.extensions + 1} under '${regime.id}' needs a '${step.approverRole}' or above (${step.citation}); '${input.approver.role}' may not approve it.`,
              extensions: { role: input.approver.role, requiredRole: step.approverRole },
            },
          );
        }

        const calendar = await deps.calendarFor(tenantId, policy.calendarId, tx);
        const times = extendedTimes(row, step, calendar);
        const now = clock.now();
        const extended = await deps.deadlineRows.update(
          row,
          {
            dueAt: times.dueAt,
            warnAts: times.warnAts,
            durationMs: times.durationMs,
            clock: step.clock,
            targetDuration: step.duration,
            calendarId: step.clock === 'business' ? policy.calendarId : null,
            extensions: row.extensions + 1,
          },
          now,
          tx,
        );

        // The holding reply: what the customer was told, recorded like any other contact.
        const sent = await deps.transitions.recordCommunicationInTx(
          context,
          complaint,
          {
            direction: 'outbound',
            channel: input.customerNotice.channel,
            body: input.customerNotice.body,
            contactMade: true,
          },
          tx,
        );
        effects.toArm.push(...sent.effects.toArm);

        const extension = {
          regime: regime.id,
          step: row.extensions + 1,
          previousDueAt: row.dueAt.toISOString(),
          dueAt: extended.dueAt.toISOString(),
          reason: input.reason,
          approver: input.approver,
          citation: step.citation,
          communicationId: sent.communication.id,
        };
        await deps.complaints.appendTimeline(
          [
            {
              tenantId,
              complaintId: complaint.id,
              type: 'deadline.extended',
              actor: context.actor,
              occurredAt: now,
              data: { deadlineId: extended.id, kind: extended.kind, ...extension },
            },
          ],
          tx,
        );
        await deps.events.appendForComplaint(
          {
            tenantId,
            complaint,
            type: 'deadline.extended',
            occurredAt: now,
            payload: { deadline: toDeadlineView(extended), extension, actor: context.actor },
          },
          tx,
        );
        effects.toArm.push(extended);
        return { deadline: extended, extension };
      });
      await deps.deadlines.arm(effects);
      return result;
    },
  };
}

export type RegulatoryRegimesService = ReturnType<typeof createRegulatoryRegimesService>;
