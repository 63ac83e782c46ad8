import { announceChange, type InvalidatedCache, invalidatedCache } from '../../db/change-notifications.js';
import type { Db, Queryable } from '../../db/client.js';
import type { StoredEscalationTargets } from '../../db/schema/index.js';
import type { Clock } from '../../lib/clock.js';
import {
  ConflictError,
  NotFoundError,
  PreconditionFailedError,
  PreconditionRequiredError,
  ValidationError,
} from '../../lib/errors.js';
import { etagForVersion, ifMatchSatisfied } from '../../lib/etag.js';
import { newId } from '../../lib/ids.js';
import type { BusinessCalendar } from '../calendars/business-time.js';
import type { CalendarsRepository } from '../calendars/calendars.repository.js';
import { toBusinessCalendar } from '../calendars/calendars.service.js';
import { intakeKinds, type PlannedDeadline, planDeadline } from '../deadlines/deadline-planning.js';
import { REGIMES } from '../regulatory-regimes/regimes.js';
import { type ComplaintFacts, selectPolicy } from './policy-matching.js';
import type { PolicyRow, SlaPoliciesRepository } from './sla-policies.repository.js';
import type {
  CreatePolicyInput,
  PolicyFromRegimeInput,
  PreviewInput,
  UpdatePolicyInput,
} from './sla-policies.schemas.js';
import {
  DEFAULT_ESCALATION_TARGETS,
  DEFAULT_TARGETS,
  DEFAULT_WARN_AT,
  targetOfKind,
  withDefaultTargets,
} from './sla-targets.js';

/** A policy together with the calendar its business clocks run on (null: around the clock). */
export interface GoverningPolicy {
  policy: PolicyRow;
  calendar: BusinessCalendar | null;
}

export function createSlaPoliciesService(deps: {
  db: Db;
  policies: SlaPoliciesRepository;
  calendars: CalendarsRepository;
  clock: Clock;
  /** Active policies and calendars per tenant, dropped the moment any process changes them. */
  configCache?: InvalidatedCache<{ policies?: PolicyRow[]; calendar?: BusinessCalendar | null }>;
}) {
  const { db, policies, calendars, clock } = deps;
  const cache = deps.configCache ?? invalidatedCache(null, { max: 1, ttlMs: 1, affected: () => true });

  async function activePolicies(tenantId: string, tx: Queryable): Promise<PolicyRow[]> {
    const entry = await cache.load(`policies:${tenantId}`, async () => ({
      policies: await policies.listActive(tenantId, tx),
    }));
    return entry?.policies ?? [];
  }

  /** The business calendar of a tenant's calendar id (null: none, so around the clock). */
  async function calendarFor(tenantId: string, calendarId: string | null, tx: Queryable = db) {
    if (!calendarId) return null;
    const entry = await cache.load(`calendar:${tenantId}:${calendarId}`, async () => {
      const row = await calendars.find(tenantId, calendarId, {}, tx);
      return { calendar: row ? toBusinessCalendar(row) : null };
    });
    return entry?.calendar ?? null;
  }

  async function get(tenantId: string, id: string): Promise<PolicyRow> {
    const row = await policies.find(tenantId, id);
    if (!row) throw new NotFoundError('SLA policy', id);
    return row;
  }

  async function assertCalendarExists(
    tenantId: string,
    calendarId: string | null | undefined,
    tx: Queryable,
  ) {
    // Locked for key share: a calendar removal running alongside either finishes first (and the
    // policy is refused here) or waits and then finds the policy using it.
    if (calendarId && !(await calendars.find(tenantId, calendarId, { forKeyShare: true }, tx))) {
      throw new ValidationError([
        { field: 'body.calendarId', message: `calendar '${calendarId}' not found` },
      ]);
    }
  }

  const calendarOf = (policy: PolicyRow, tx: Queryable = db) =>
    calendarFor(policy.tenantId, policy.calendarId, tx);

  /** The policy governing a complaint with these facts, as of now. */
  async function governing(
    tenantId: string,
    facts: ComplaintFacts,
    tx: Queryable = db,
  ): Promise<GoverningPolicy> {
    const policy = selectPolicy(await activePolicies(tenantId, tx), facts);
    if (!policy) throw new Error(`tenant ${tenantId} has no active SLA policy`);
    return { policy, calendar: await calendarOf(policy, tx) };
  }

  return {
    get,
    list: (tenantId: string) => policies.list(tenantId),
    calendarOf,
    calendarFor,

    /** Every tenant starts with one catch-all policy holding the seed targets. */
    async createDefaultPolicy(tenantId: string, tx: Queryable = db): Promise<PolicyRow> {
      const now = clock.now();
      return policies.insert(
        {
          id: newId(),
          tenantId,
          name: 'Default',
          priority: 1_000_000,
          match: { channels: [], categories: [], severities: [] },
          calendarId: null,
          warnAt: DEFAULT_WARN_AT,
          targets: DEFAULT_TARGETS,
          escalationTargets: DEFAULT_ESCALATION_TARGETS,
          isDefault: true,
          active: true,
          createdAt: now,
          updatedAt: now,
        },
        tx,
      );
    },

    async create(tenantId: string, input: CreatePolicyInput): Promise<PolicyRow> {
      return db.transaction(async (tx) => {
        await assertCalendarExists(tenantId, input.calendarId, tx);
        await announceChange({ kind: 'sla_config', tenantId }, tx);
        cache.delete(`policies:${tenantId}`);
        const now = clock.now();
        return policies.insert(
          {
            id: newId(),
            tenantId,
            name: input.name,
            priority: input.priority,
            match: input.match,
            calendarId: input.calendarId,
            warnAt: input.warnAt,
            targets: { ...DEFAULT_TARGETS, ...input.targets },
            escalationTargets: input.escalationTargets ?? DEFAULT_ESCALATION_TARGETS,
            isDefault: false,
            active: input.active,
            createdAt: now,
            updatedAt: now,
          },
          tx,
        );
      });
    },

    /**
     * Applies a regulatory template: a policy whose targets are the regime's clocks (the others
     * keep the defaults), for the categories or channels of `match`. A regime counting business or
     * working days needs the calendar they are read in.
     */
    async createFromRegime(tenantId: string, input: PolicyFromRegimeInput): Promise<PolicyRow> {
      const regime = REGIMES[input.regime];
      const targets = { ...DEFAULT_TARGETS };
      for (const clock of regime.clocks) {
        if (!clock.kind) continue;
        targets[targetOfKind[clock.kind]] = {
          duration: clock.duration,
          clock: clock.clock,
          ...(clock.endsOnWorkingDay ? { endsOnWorkingDay: true } : {}),
        };
      }
      // Only the clocks that become deadlines: a window such as FCA's three business days is read
      // by reports, not enforced.
      const needsCalendar = [...regime.clocks.filter((clock) => clock.kind), ...regime.extensions].some(
        (clock) => clock.clock === 'business' || clock.endsOnWorkingDay,
      );
      if (needsCalendar && !input.calendarId) {
        throw new ValidationError([
          {
            field: 'body.calendarId',
            message: `regime '${regime.id}' counts business or working days: give the calendar they are read in`,
          },
        ]);
      }
      return db.transaction(async (tx) => {
        await assertCalendarExists(tenantId, input.calendarId, tx);
        await announceChange({ kind: 'sla_config', tenantId }, tx);
        cache.delete(`policies:${tenantId}`);
        const now = clock.now();
        return policies.insert(
          {
            id: newId(),
            tenantId,
            name: input.name ?? regime.name.slice(0, 100),
            priority: input.priority,
            match: input.match,
            calendarId: input.calendarId,
            warnAt: input.warnAt,
            targets,
            escalationTargets: DEFAULT_ESCALATION_TARGETS,
            isDefault: false,
            regime: regime.id,
            active: input.active,
            createdAt: now,
            updatedAt: now,
          },
          tx,
        );
      });
    },

    /** Writes a new version; deadlines already set keep the version they were made with. */
    async update(tenantId: string, id: string, ifMatch: string | undefined, input: UpdatePolicyInput) {
      if (!ifMatch) throw new PreconditionRequiredError('SLA policy');
      return db.transaction(async (tx) => {
        const current = await policies.find(tenantId, id, { forUpdate: true }, tx);
        if (!current) throw new NotFoundError('SLA policy', id);
        if (!ifMatchSatisfied(ifMatch, etagForVersion(current.version))) {
          throw new PreconditionFailedError('SLA policy', id, etagForVersion(current.version));
        }
        if (current.isDefault && (input.active === false || input.match !== undefined)) {
          throw new ConflictError('default_policy_fixed', 'The default policy always applies', {
            detail:
              'The default policy matches every complaint and stays active; change its targets, or add a policy with a match.',
          });
        }
        await assertCalendarExists(tenantId, input.calendarId, tx);
        await announceChange({ kind: 'sla_config', tenantId }, tx);
        cache.delete(`policies:${tenantId}`);
        const { targets, ...rest } = input;
        return policies.update(
          tenantId,
          id,
          {
            ...rest,
            ...(targets ? { targets: { ...withDefaultTargets(current.targets), ...targets } } : {}),
          },
          current.version + 1,
          clock.now(),
          tx,
        );
      });
    },

    governing,

    /** Escalation targets as a complaint with these facts would get them now. */
    async escalationTargetsFor(
      tenantId: string,
      facts: ComplaintFacts,
      tx: Queryable = db,
    ): Promise<StoredEscalationTargets> {
      const { policy } = await governing(tenantId, facts, tx);
      return policy.escalationTargets;
    },

    /** The deadlines this policy would set for a complaint received as described. */
    async preview(
      tenantId: string,
      id: string,
      input: PreviewInput,
    ): Promise<{ policy: PolicyRow; planned: Array<PlannedDeadline & { duration: string }> }> {
      const policy = await get(tenantId, id);
      const calendar = await calendarOf(policy);
      const receivedAt = new Date(input.receivedAt);
      // Intake opens policy kinds only, each with its target's duration.
      const planned = intakeKinds({ channel: input.channel, severity: input.severity }).map((kind) => {
        const deadline = planDeadline({ kind, startsAt: receivedAt, policy, calendar });
        return { ...deadline, duration: deadline.duration ?? '' };
      });
      return { policy, planned };
    },
  };
}

export type SlaPoliciesService = ReturnType<typeof createSlaPoliciesService>;
