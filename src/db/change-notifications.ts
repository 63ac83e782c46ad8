import { sql } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Queryable } from './client.js';
import { listenOnChannels } from './pg-listener.js';

/** The PostgreSQL channel on which committed changes to cached data are announced. */
export const CHANGE_CHANNEL = 'redress_changes';

export type ChangeNotice =
  | { kind: 'api_key'; keyId: string }
  | { kind: 'sla_config'; tenantId: string }
  | { kind: 'settings'; tenantId: string }
  | { kind: 'identity_provider'; issuer: string };

/**
 * Announces a change from inside the transaction that makes it. PostgreSQL delivers NOTIFY only
 * on commit, so no process drops a cache entry for a change that was rolled back.
 */
export async function announceChange(notice: ChangeNotice, tx: Queryable): Promise<void> {
  await tx.execute(sql`select pg_notify(${CHANGE_CHANNEL}, ${JSON.stringify(notice)})`);
}

export interface ChangeListener {
  /** True while notices are being received; caches must not serve entries otherwise. */
  readonly listening: boolean;
  /** Called for each notice, and with `null` when notices may have been missed (reconnect). */
  subscribe(handler: (notice: ChangeNotice | null) => void): void;
  close(): Promise<void>;
}

/**
 * Listens for committed-change notices. When the connection drops, subscribers hear `null` (drop
 * everything: notices may have been missed) until it is back.
 */
export function listenForChanges(databaseUrl: string, log: Pick<Logger, 'warn'>): ChangeListener {
  const handlers: Array<(notice: ChangeNotice | null) => void> = [];
  const broadcast = (notice: ChangeNotice | null) => {
    for (const handler of handlers) handler(notice);
  };
  const listener = listenOnChannels({
    databaseUrl,
    channels: [CHANGE_CHANNEL],
    applicationName: 'redress-listen',
    log,
    onNotification: (_channel, payload) => {
      if (!payload) return;
      try {
        broadcast(JSON.parse(payload) as ChangeNotice);
      } catch {
        broadcast(null);
      }
    },
    onGap: () => broadcast(null),
  });
  return {
    get listening() {
      return listener.listening;
    },
    subscribe(handler) {
      handlers.push(handler);
    },
    close: () => listener.close(),
  };
}

export interface InvalidatedCache<V> {
  get(key: string): V | undefined;
  /**
   * The cached value, or what `loader` reads (cached unless undefined). A value read while a
   * change notice arrived is returned but not kept: it may predate the change.
   */
  load(key: string, loader: () => Promise<V | undefined>): Promise<V | undefined>;
  delete(key: string): void;
  /** Drops, in this process and at once, every entry a notice would drop. */
  forget(notice: ChangeNotice): void;
}

/**
 * A bounded in-process cache kept honest by committed-change notices: an entry is dropped as soon
 * as any process announces a change to it, and nothing is served while the listener is down.
 * The TTL only bounds memory and the damage of a notice lost in a way the listener cannot see.
 */
export function invalidatedCache<V extends object>(
  listener: ChangeListener | null,
  options: { max: number; ttlMs: number; affected: (notice: ChangeNotice, key: string, value: V) => boolean },
): InvalidatedCache<V> {
  const cache = new LRUCache<string, V>({ max: options.max, ttl: options.ttlMs });
  // Bumped by every notice: a load that spans one cannot know whether it read the old data.
  let generation = 0;
  const forget = (notice: ChangeNotice) => {
    generation += 1;
    for (const [key, value] of cache.entries()) {
      if (options.affected(notice, key, value)) cache.delete(key);
    }
  };
  listener?.subscribe((notice) => {
    if (notice !== null) return forget(notice);
    generation += 1;
    cache.clear();
  });
  const get = (key: string) => (listener?.listening ? cache.get(key) : undefined);
  return {
    get,
    async load(key, loader) {
      const hit = get(key);
      if (hit !== undefined) return hit;
      const startedAt = generation;
      const value = await loader();
      if (value !== undefined && listener?.listening && startedAt === generation) cache.set(key, value);
      return value;
    },
    delete: (key) => {
      cache.delete(key);
    },
    forget,
  };
}
