import { type ChangeListener, invalidatedCache } from './db/change-notifications.js';
import type { Db } from './db/client.js';
import type { Clock } from './lib/clock.js';
import type { BusinessCalendar } from './modules/calendars/business-time.js';
import { createCalendarsRepository } from './modules/calendars/calendars.repository.js';
import { createCalendarsService } from './modules/calendars/calendars.service.js';
import { createComplaintsRepository } from './modules/complaints/complaints.repository.js';
import { createComplaintsService } from './modules/complaints/complaints.service.js';
import { createDataSubjectsRepository } from './modules/data-subjects/data-subjects.repository.js';
import { createDataSubjectsService } from './modules/data-subjects/data-subjects.service.js';
import type { DeadlineScheduler } from './modules/deadlines/deadline-scheduler.js';
import { createDeadlinesRepository } from './modules/deadlines/deadlines.repository.js';
import { createDeadlinesService } from './modules/deadlines/deadlines.service.js';
import { createEscalationsRepository } from './modules/escalations/escalations.repository.js';
import { createEscalationsService } from './modules/escalations/escalations.service.js';
import { createEventsRepository } from './modules/events/events.repository.js';
import { createEventsService } from './modules/events/events.service.js';
import { createFollowUpScheduler } from './modules/follow-ups/follow-up-scheduler.js';
import { createFollowUpsRepository } from './modules/follow-ups/follow-ups.repository.js';
import { createFollowUpsService } from './modules/follow-ups/follow-ups.service.js';
import { createIdempotencyRepository } from './modules/idempotency/idempotency.repository.js';
import { createIdempotencyService } from './modules/idempotency/idempotency.service.js';
import { createIdentityRepository } from './modules/identity/identity.repository.js';
import {
  createIdentityService,
  type IssuerProviders,
  providerUrlPolicy,
} from './modules/identity/identity.service.js';
import { createTokenVerifier } from './modules/identity/token-verifier.js';
import { createMajorComplaintsRepository } from './modules/major-complaints/major-complaints.repository.js';
import { createMajorComplaintsService } from './modules/major-complaints/major-complaints.service.js';
import { createOwnershipRepository } from './modules/ownership/ownership.repository.js';
import { createOwnershipService } from './modules/ownership/ownership.service.js';
import { createPromisesRepository } from './modules/promises/promises.repository.js';
import { createPromisesService } from './modules/promises/promises.service.js';
import { createRegulatoryRegimesRepository } from './modules/regulatory-regimes/regulatory-regimes.repository.js';
import { createRegulatoryRegimesService } from './modules/regulatory-regimes/regulatory-regimes.service.js';
import { createReplyTemplatesRepository } from './modules/reply-templates/reply-templates.repository.js';
import { createReplyTemplatesService } from './modules/reply-templates/reply-templates.service.js';
import { createReportCounts } from './modules/reports/report-counts.js';
import { createReportsRepository } from './modules/reports/reports.repository.js';
import { createReportsService } from './modules/reports/reports.service.js';
import { createResolutionsRepository } from './modules/resolutions/resolutions.repository.js';
import { createResolutionsService } from './modules/resolutions/resolutions.service.js';
import { createSettingsRepository } from './modules/settings/settings.repository.js';
import { createSettingsService, type VersionedSettings } from './modules/settings/settings.service.js';
import {
  createSlaPoliciesRepository,
  type PolicyRow,
} from './modules/sla-policies/sla-policies.repository.js';
import { createSlaPoliciesService } from './modules/sla-policies/sla-policies.service.js';
import { createSurveysRepository } from './modules/surveys/surveys.repository.js';
import { createSurveysService } from './modules/surveys/surveys.service.js';
import { type ApiKeyRow, createTenancyRepository } from './modules/tenancy/tenancy.repository.js';
import { createTenancyService } from './modules/tenancy/tenancy.service.js';
import { createTimelineIntegrityRepository } from './modules/timeline-integrity/timeline-integrity.repository.js';
import { createTimelineIntegrityService } from './modules/timeline-integrity/timeline-integrity.service.js';
import { createWebhookReplays } from './modules/webhooks/webhook-replays.js';
import { createWebhookUrlGuard, type WebhookUrlGuard } from './modules/webhooks/webhook-url-policy.js';
import { createWebhooksRepository } from './modules/webhooks/webhooks.repository.js';
import { createWebhooksService } from './modules/webhooks/webhooks.service.js';

/**
 * The composition root: every service wired to its repositories. The API, the worker, the CLI
 * and the tests all build their services here, so they can never be wired differently.
 */
export function createServices(deps: {
  db: Db;
  /** Where the reports read: their own pool, maybe on a read replica (createReportsDatabase). */
  reportsDb?: Db;
  clock: Clock;
  /** Arms deadline jobs after commit; the reconciler covers any that fail to arm. */
  scheduler: DeadlineScheduler | null;
  idempotencyTtlHours?: number;
  onBackgroundError?: (error: unknown, context: string) => void;
  /** Queues a webhook replay's job after commit (webhooks.jobs.ts); absent, the sweeper queues it. */
  enqueueWebhookReplay?: ((job: { tenantId: string; replayId: string }) => Promise<void>) | null;
  /** Failed deliveries a webhook replay requeues per transaction (WEBHOOK_REPLAY_BATCH_SIZE). */
  webhookReplayBatchSize?: number;
  /** Committed-change notices; with them, API keys and SLA configuration are cached in process. */
  changes?: ChangeListener | null;
  /** The SSRF check of webhook URLs; refuses non-public addresses unless given otherwise. */
  webhookUrlGuard?: WebhookUrlGuard;
  /** How access tokens are checked (the OIDC_* settings); the defaults refuse private issuers. */
  accessTokens?: {
    allowPrivate: boolean;
    clockToleranceSeconds: number;
    jwksCooldownMs: number;
    fetchTimeoutMs: number;
  };
}) {
  const { db, clock } = deps;
  const changes = deps.changes ?? null;
  const keyCache = invalidatedCache<ApiKeyRow>(changes, {
    max: 10_000,
    ttlMs: 60_000,
    affected: (notice, _hash, key) => notice.kind === 'api_key' && notice.keyId === key.id,
  });
  const slaConfigCache = invalidatedCache<{ policies?: PolicyRow[]; calendar?: BusinessCalendar | null }>(
    changes,
    {
      max: 10_000,
      ttlMs: 60_000,
      affected: (notice, key) => notice.kind === 'sla_config' && key.includes(`:${notice.tenantId}`),
    },
  );
  const repositories = {
    tenancy: createTenancyRepository(db),
    complaints: createComplaintsRepository(db),
    idempotency: createIdempotencyRepository(db),
    calendars: createCalendarsRepository(db),
    policies: createSlaPoliciesRepository(db),
    deadlines: createDeadlinesRepository(db),
    events: createEventsRepository(db),
    escalations: createEscalationsRepository(db),
    webhooks: createWebhooksRepository(db),
    settings: createSettingsRepository(db),
    followUps: createFollowUpsRepository(db),
    promises: createPromisesRepository(db),
    surveys: createSurveysRepository(db, deps.reportsDb ?? db),
    replyTemplates: createReplyTemplatesRepository(db),
    resolutions: createResolutionsRepository(db),
    reports: createReportsRepository(deps.reportsDb ?? db),
    reportCounts: createReportCounts(db),
    majorComplaints: createMajorComplaintsRepository(db),
    ownership: createOwnershipRepository(db),
    identity: createIdentityRepository(db),
    timelineIntegrity: createTimelineIntegrityRepository(db),
    dataSubjects: createDataSubjectsRepository(db),
  };
  const settings = createSettingsService({
    db,
    settings: repositories.settings,
    clock,
    moveReportsToTimeZone: (tenantId, timeZone, tx) =>
      repositories.reportCounts.moveToTimeZone(tenantId, timeZone, tx),
    cache: invalidatedCache<VersionedSettings>(changes, {
      max: 10_000,
      ttlMs: 60_000,
      affected: (notice, tenantId) => notice.kind === 'settings' && notice.tenantId === tenantId,
    }),
  });
  const policies = createSlaPoliciesService({
    db,
    policies: repositories.policies,
    calendars: repositories.calendars,
    clock,
    configCache: slaConfigCache,
  });
  const deadlines = createDeadlinesService({
    db,
    deadlines: repositories.deadlines,
    complaints: repositories.complaints,
    events: repositories.events,
    governing: policies.governing,
    calendarFor: policies.calendarFor,
    scheduler: deps.scheduler,
    clock,
    onArmError: (error) => deps.onBackgroundError?.(error, 'arming deadline jobs'),
  });
  const escalations = createEscalationsService({
    db,
    escalations: repositories.escalations,
    complaints: repositories.complaints,
    targetsFor: (tenantId, facts, tx) => policies.escalationTargetsFor(tenantId, facts, tx),
    idempotency: repositories.idempotency,
    clock,
  });

  const templates = createReplyTemplatesService({
    db,
    templates: repositories.replyTemplates,
    complaints: repositories.complaints,
    deadlines: repositories.deadlines,
    timeZoneOf: async (tenantId, tx) => (await settings.current(tenantId, tx)).timeZone,
    clock,
  });
  const followUpScheduler = createFollowUpScheduler({
    followUps: repositories.followUps,
    deadlines,
    complaints: repositories.complaints,
    events: repositories.events,
    clock,
  });

  const accessTokens = deps.accessTokens ?? {
    allowPrivate: false,
    clockToleranceSeconds: 30,
    jwksCooldownMs: 30_000,
    fetchTimeoutMs: 5_000,
  };
  const providerUrlProblem = providerUrlPolicy({ allowPrivate: accessTokens.allowPrivate });
  const identity = createIdentityService({
    db,
    repository: repositories.identity,
    verifier: createTokenVerifier({ clock, ...accessTokens, urlProblem: providerUrlProblem }),
    urlProblem: providerUrlProblem,
    cache: invalidatedCache<IssuerProviders>(changes, {
      max: 10_000,
      ttlMs: 60_000,
      affected: (notice, issuer) => notice.kind === 'identity_provider' && notice.issuer === issuer,
    }),
  });
  const tenancy = createTenancyService({
    db,
    repository: repositories.tenancy,
    clock,
    // A new tenant starts on the seed values: the default SLA policy and the seed reply templates.
    onTenantCreated: async (tenantId, tx) => {
      await policies.createDefaultPolicy(tenantId, tx);
      await templates.seedDefaults(tenantId, tx);
    },
    onBackgroundError: (error) => deps.onBackgroundError?.(error, 'recording API key use'),
    keyCache,
    accessTokens: identity,
  });
  const idempotency = createIdempotencyService({
    repository: repositories.idempotency,
    clock,
    ttlHours: deps.idempotencyTtlHours ?? 48,
  });
  const majorComplaints = createMajorComplaintsService({
    db,
    majors: repositories.majorComplaints,
    complaints: repositories.complaints,
    events: repositories.events,
    deadlines,
    escalations,
    clock,
  });
  const ownership = createOwnershipService({
    db,
    complaints: repositories.complaints,
    ownership: repositories.ownership,
    events: repositories.events,
    deadlines,
    clock,
  });
  const complaints = createComplaintsService({
    db,
    complaints: repositories.complaints,
    events: repositories.events,
    deadlines,
    clock,
    escalations,
    followUps: followUpScheduler,
    templates,
    settings,
    majors: majorComplaints,
    idempotency: repositories.idempotency,
    resolutionAwaitingApproval: repositories.resolutions.awaitingApproval,
    recusal: ownership,
  });
  const resolutions = createResolutionsService({
    db,
    resolutions: repositories.resolutions,
    complaints: repositories.complaints,
    transitions: complaints,
    deadlines,
    events: repositories.events,
    settingsOf: (tenantId, tx) => settings.current(tenantId, tx),
    idempotency: repositories.idempotency,
    recusal: ownership,
    clock,
  });
  const promises = createPromisesService({
    db,
    promises: repositories.promises,
    complaints: repositories.complaints,
    deadlines,
    events: repositories.events,
    idempotency: repositories.idempotency,
    clock,
  });
  const surveys = createSurveysService({
    db,
    surveys: repositories.surveys,
    complaints: repositories.complaints,
    events: repositories.events,
    idempotency: repositories.idempotency,
    timeZoneOf: async (tenantId, tx) => (await settings.current(tenantId, tx)).timeZone,
    clock,
  });
  const followUps = createFollowUpsService({
    db,
    followUps: repositories.followUps,
    scheduler: followUpScheduler,
    complaints: repositories.complaints,
    transitions: complaints,
    deadlines,
    escalations,
    events: repositories.events,
    maxAttemptsOf: async (tenantId, tx) => (await settings.current(tenantId, tx)).followUpMaxAttempts,
    idempotency: repositories.idempotency,
    clock,
  });
  const reports = createReportsService({
    reports: repositories.reports,
    timeZoneOf: async (tenantId, tx) => (await settings.current(tenantId, tx)).timeZone,
    clock,
  });
  const events = createEventsService({ events: repositories.events });
  const webhooks = createWebhooksService({
    db,
    webhooks: repositories.webhooks,
    events: repositories.events,
    clock,
    checkUrl: deps.webhookUrlGuard ?? createWebhookUrlGuard({ allowPrivate: false }),
  });
  const webhookReplays = createWebhookReplays({
    db,
    webhooks: repositories.webhooks,
    idempotency: repositories.idempotency,
    clock,
    enqueue: deps.enqueueWebhookReplay ?? null,
    onEnqueueError: (error) => deps.onBackgroundError?.(error, 'queueing a webhook replay'),
    ...(deps.webhookReplayBatchSize ? { batchSize: deps.webhookReplayBatchSize } : {}),
  });
  const timelineIntegrity = createTimelineIntegrityService({
    db,
    repository: repositories.timelineIntegrity,
    complaints,
    events: repositories.events,
    clock,
  });
  const dataSubjects = createDataSubjectsService({
    db,
    repository: repositories.dataSubjects,
    complaints: repositories.complaints,
    deadlines: repositories.deadlines,
    events: repositories.events,
    clock,
  });
  const calendars = createCalendarsService({
    db,
    calendars: repositories.calendars,
    clock,
    onChanged: (tenantId) => slaConfigCache.forget({ kind: 'sla_config', tenantId }),
  });
  const regulatoryRegimes = createRegulatoryRegimesService({
    db,
    complaints: repositories.complaints,
    transitions: complaints,
    deadlineRows: repositories.deadlines,
    deadlines,
    policies: repositories.policies,
    calendarFor: (tenantId, calendarId, tx) => policies.calendarFor(tenantId, calendarId, tx),
    rolesOf: async (tenantId, tx) => (await settings.current(tenantId, tx)).roles,
    timeZoneOf: async (tenantId) => (await settings.current(tenantId)).timeZone,
    repository: createRegulatoryRegimesRepository(db),
    hasPreRefund: async (tenantId, complaintId, tx) =>
      (await repositories.resolutions.listPreRefunds(tenantId, complaintId, tx)).length > 0,
    events: repositories.events,
    clock,
  });
  return {
    repositories,
    tenancy,
    regulatoryRegimes,
    idempotency,
    complaints,
    calendars,
    policies,
    deadlines,
    escalations,
    events,
    webhooks,
    webhookReplays,
    settings,
    templates,
    resolutions,
    promises,
    surveys,
    followUps,
    reports,
    majorComplaints,
    ownership,
    identity,
    timelineIntegrity,
    dataSubjects,
  };
}

export type Services = ReturnType<typeof createServices>;
