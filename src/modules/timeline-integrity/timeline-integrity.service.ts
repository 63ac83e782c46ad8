import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import type { ComplaintsService } from '../complaints/complaints.service.js';
import { type EventsRepository, newEventId } from '../events/events.repository.js';
import type { ChainCheck, TimelineIntegrityRepository } from './timeline-integrity.repository.js';
import type { TimelineDigestEventData, TimelineVerificationView } from './timeline-integrity.schemas.js';

const DAY_MS = 86_400_000;

/** How many past days one digest run catches up on for a tenant, after the worker was away. */
export const DIGEST_CATCH_UP_DAYS = 7;

/** `YYYY-MM-DD` of a UTC instant. */
const utcDay = (at: Date): string => at.toISOString().slice(0, 10);
const dayStart = (day: string): Date => new Date(`${day}T00:00:00.000Z`);
const nextDay = (day: string): string => utcDay(new Date(dayStart(day).getTime() + DAY_MS));

/** The API's answer for a recomputed chain. */
export function toTimelineVerificationView(check: ChainCheck): TimelineVerificationView {
  const mismatch = check.firstMismatch;
  return {
    valid: mismatch === null,
    entries: check.entries,
    head: check.head?.toString('hex') ?? null,
    firstMismatch: mismatch && {
      entryId: String(mismatch.entryId),
      position: mismatch.position,
      previousEntryId: mismatch.previousEntryId === null ? null : String(mismatch.previousEntryId),
      stored: mismatch.stored.toString('hex'),
      expected: mismatch.expected.toString('hex'),
    },
  };
}

/**
 * The timelines' hash chain: verifying a complaint's, and the daily per-tenant digest an outside
 * system anchors. The chain itself is made by a trigger on every insert (sql/timeline_hash_chain.sql).
 */
export function createTimelineIntegrityService(deps: {
  db: Db;
  repository: TimelineIntegrityRepository;
  complaints: Pick<ComplaintsService, 'getRow'>;
  events: Pick<EventsRepository, 'appendForTenant'>;
  clock: Clock;
}) {
  const { db, repository, events, clock } = deps;

  /** Digests one tenant-day; false when it was digested before (no second event). */
  function digestTenantDay(tenantId: string, day: string): Promise<boolean> {
    return db.transaction(async (tx) => {
      const from = dayStart(day);
      const to = new Date(from.getTime() + DAY_MS);
      const { complaints, digest } = await repository.digestDay(tenantId, from, to, tx);
      // The row first: a second run (another worker, a retry) finds the day taken, waiting for the
      // first to commit if it must, and writes no event.
      const eventId = newEventId();
      if (!(await repository.recordDigest({ tenantId, day, complaints, digest, eventId }, tx))) return false;
      const data: TimelineDigestEventData = {
        day,
        complaints,
        digest: digest.toString('hex'),
        algorithm: 'sha256-heads-v1',
      };
      await events.appendForTenant(
        { id: eventId, tenantId, type: 'timeline.digest', occurredAt: clock.now(), payload: data },
        tx,
      );
      return true;
    });
  }

  return {
    /** Recomputes a complaint's timeline chain (the complaint by id or reference; 404 otherwise). */
    async verify(tenantId: string, key: string): Promise<TimelineVerificationView> {
      const complaint = await deps.complaints.getRow(tenantId, key);
      return toTimelineVerificationView(await repository.checkChain(tenantId, complaint.id));
    },

    digestTenantDay,

    /**
     * Digests every tenant's finished UTC days not digested yet, up to yesterday, at most
     * DIGEST_CATCH_UP_DAYS back and none before the tenant was made, a tenant-day per transaction. Safe to run at any time and from
     * any worker: each tenant-day gets one row in timeline_digests and one event. Returns how
     * many events it wrote.
     */
    async digestFinishedDays(): Promise<number> {
      const yesterday = utcDay(new Date(clock.now().getTime() - DAY_MS));
      const earliest = utcDay(new Date(clock.now().getTime() - DIGEST_CATCH_UP_DAYS * DAY_MS));
      let written = 0;
      for (const tenant of await repository.tenants()) {
        const tenantId = tenant.id;
        const last = await repository.lastDigestDay(tenantId);
        let day = last === null ? yesterday : nextDay(last);
        if (day < earliest) day = earliest;
        // No digest of a day before the tenant existed: a new tenant's first is of its first day.
        if (day < utcDay(tenant.createdAt)) day = utcDay(tenant.createdAt);
        for (; day <= yesterday; day = nextDay(day)) {
          if (await digestTenantDay(tenantId, day)) written += 1;
        }
      }
      return written;
    },
  };
}

export type TimelineIntegrityService = ReturnType<typeof createTimelineIntegrityService>;
