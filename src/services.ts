import type { Db } from './db/client.js';
import type { Clock } from './lib/clock.js';
import { createCalendarsRepository } from './modules/calendars/calendars.repository.js';
import { createCalendarsService, toBusinessCalendar } from './modules/calendars/calendars.service.js';
import { createComplaintsRepository } from './modules/complaints/complaints.repository.js';
import { createComplaintsService } from './modules/complaints/complaints.service.js';
import type { DeadlineScheduler } from './modules/deadlines/deadline-scheduler.js';
import { createDeadlinesRepository } from './modules/deadlines/deadlines.repository.js';
import { createDeadlinesService } from './modules/deadlines/deadlines.service.js';
import { createEventsRepository } from './modules/events/events.repository.js';
import { createIdempotencyRepository } from './modules/idempotency/idempotency.repository.js';
import { createIdempotencyService } from './modules/idempotency/idempotency.service.js';
import { createSlaPoliciesRepository } from './modules/sla-policies/sla-policies.repository.js';
import { createSlaPoliciesService } from './modules/sla-policies/sla-policies.service.js';
import { createTenancyRepository } from './modules/tenancy/tenancy.repository.js';
import { createTenancyService } from './modules/tenancy/tenancy.service.js';

/**
 * The composition root: every service wired to its repositories. The API, the worker, the CLI
 * and the tests all build their services here, so they can never be wired differently.
 */
export function createServices(deps: {
  db: Db;
  clock: Clock;
  /** Arms deadline jobs after commit; the reconciler covers any that fail to arm. */
  scheduler: DeadlineScheduler | null;
  idempotencyTtlHours?: number;
  onBackgroundError?: (error: unknown, context: string) => void;
}) {
  const { db, clock } = deps;
  const repositories = {
    tenancy: createTenancyRepository(db),
    complaints: createComplaintsRepository(db),
    idempotency: createIdempotencyRepository(db),
    calendars: createCalendarsRepository(db),
    policies: createSlaPoliciesRepository(db),
    deadlines: createDeadlinesRepository(db),
    events: createEventsRepository(db),
  };
  const policies = createSlaPoliciesService({
    db,
    policies: repositories.policies,
    calendars: repositories.calendars,
    clock,
  });
  const deadlines = createDeadlinesService({
    db,
    deadlines: repositories.deadlines,
    complaints: repositories.complaints,
    events: repositories.events,
    governing: policies.governing,
    calendarFor: async (tenantId, calendarId, tx) => {
      if (!calendarId) return null;
      const row = await repositories.calendars.find(tenantId, calendarId, {}, tx);
      return row ? toBusinessCalendar(row) : null;
    },
    scheduler: deps.scheduler,
    clock,
    onArmError: (error) => deps.onBackgroundError?.(error, 'arming deadline jobs'),
  });
  const tenancy = createTenancyService({
    db,
    repository: repositories.tenancy,
    clock,
    onTenantCreated: (tenantId, tx) => policies.createDefaultPolicy(tenantId, tx),
    onBackgroundError: (error) => deps.onBackgroundError?.(error, 'recording API key use'),
  });
  const idempotency = createIdempotencyService({
    repository: repositories.idempotency,
    clock,
    ttlHours: deps.idempotencyTtlHours ?? 48,
  });
  const complaints = createComplaintsService({
    db,
    complaints: repositories.complaints,
    idempotency: repositories.idempotency,
    events: repositories.events,
    deadlines,
    clock,
  });
  const calendars = createCalendarsService({ db, calendars: repositories.calendars, clock });
  return { repositories, tenancy, idempotency, complaints, calendars, policies, deadlines };
}

export type Services = ReturnType<typeof createServices>;
