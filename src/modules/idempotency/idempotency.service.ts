import stringify from 'safe-stable-stringify';
import type { Clock } from '../../lib/clock.js';
import { IdempotencyInProgressError, IdempotencyKeyReusedError } from '../../lib/errors.js';
import { sha256Hex } from '../../lib/ids.js';
import type { IdempotencyRepository } from './idempotency.repository.js';

/** How long the first request holds its key before a retry may assume it died and run again. */
const LEASE_MS = 60_000;

export type IdempotencyOutcome =
  /** First sight of the key (or a takeover of a dead claim): run the request. */
  | { kind: 'execute' }
  /** The first request finished: send its answer again. */
  | { kind: 'replay'; status: number; headers: Record<string, string>; body: string }
  /** The first request committed its resource but died before answering: answer from the resource. */
  | { kind: 'recover'; resourceId: string };

/** Fingerprint of what a request asks for; the same key must always come with the same fingerprint. */
export function requestFingerprint(method: string, route: string, params: unknown, body: unknown): string {
  return sha256Hex(`${method} ${route} ${stringify(params ?? null)} ${stringify(body ?? null)}`);
}

export function createIdempotencyService(deps: {
  repository: IdempotencyRepository;
  clock: Clock;
  ttlHours: number;
}) {
  const { repository, clock } = deps;

  return {
    /** Decides what to do with a request that carries an Idempotency-Key. */
    async begin(tenantId: string, key: string, fingerprint: string): Promise<IdempotencyOutcome> {
      const now = clock.now();
      const lockedUntil = new Date(now.getTime() + LEASE_MS);
      const expiresAt = new Date(now.getTime() + deps.ttlHours * 3_600_000);
      const claimed = await repository.claim({
        tenantId,
        key,
        requestFingerprint: fingerprint,
        lockedUntil,
        expiresAt,
      });
      if (claimed) return { kind: 'execute' };

      const existing = await repository.find(tenantId, key);
      if (!existing) {
        // Purged between our insert and select: claim once more.
        return (await repository.claim({
          tenantId,
          key,
          requestFingerprint: fingerprint,
          lockedUntil,
          expiresAt,
        }))
          ? { kind: 'execute' }
          : { kind: 'replay', ...(await this.replayOf(tenantId, key)) };
      }
      if (existing.expiresAt.getTime() <= now.getTime()) {
        // Past retention but not yet purged: the key is free again.
        await repository.forgetExpired(tenantId, key, now);
        return this.begin(tenantId, key, fingerprint);
      }
      if (existing.requestFingerprint !== fingerprint) throw new IdempotencyKeyReusedError(key);
      if (existing.state === 'completed') {
        return {
          kind: 'replay',
          status: existing.responseStatus ?? 200,
          headers: existing.responseHeaders ?? {},
          body: existing.responseBody ?? '',
        };
      }
      if (existing.lockedUntil.getTime() > now.getTime()) throw new IdempotencyInProgressError(key);
      if (!(await repository.takeOverExpiredLease(tenantId, key, now, lockedUntil))) {
        throw new IdempotencyInProgressError(key);
      }
      return existing.resourceId ? { kind: 'recover', resourceId: existing.resourceId } : { kind: 'execute' };
    },

    async replayOf(tenantId: string, key: string) {
      const row = await repository.find(tenantId, key);
      if (row?.state !== 'completed') throw new IdempotencyInProgressError(key);
      return {
        status: row.responseStatus ?? 200,
        headers: row.responseHeaders ?? {},
        body: row.responseBody ?? '',
      };
    },

    complete: repository.complete,
    release: repository.release,
  };
}

export type IdempotencyService = ReturnType<typeof createIdempotencyService>;
