import { describe, expect, it } from 'vitest';
import { type ChangeListener, type ChangeNotice, invalidatedCache } from './change-notifications.js';

/** A listener whose notices the test sends by hand. */
function manualListener() {
  const handlers: Array<(notice: ChangeNotice | null) => void> = [];
  const listener: ChangeListener = {
    listening: true,
    subscribe: (handler) => handlers.push(handler),
    close: async () => {},
  };
  return {
    listener,
    send: (notice: ChangeNotice | null) => {
      for (const handler of handlers) handler(notice);
    },
  };
}

const options = {
  max: 10,
  ttlMs: 60_000,
  affected: (notice: ChangeNotice, key: string) => notice.kind === 'settings' && notice.tenantId === key,
};

describe('invalidatedCache', () => {
  it('keeps what it loads until a notice names it', async () => {
    const { listener, send } = manualListener();
    const cache = invalidatedCache<{ v: number }>(listener, options);
    let reads = 0;
    const load = () => cache.load('t1', async () => ({ v: ++reads }));
    expect(await load()).toEqual({ v: 1 });
    expect(await load()).toEqual({ v: 1 });
    send({ kind: 'settings', tenantId: 't2' });
    expect(await load()).toEqual({ v: 1 });
    send({ kind: 'settings', tenantId: 't1' });
    expect(await load()).toEqual({ v: 2 });
  });

  it('does not keep a value read while a change was announced', async () => {
    const { listener, send } = manualListener();
    const cache = invalidatedCache<{ v: string }>(listener, options);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const stale = cache.load('t1', async () => {
      await gate; // the read saw the old data…
      return { v: 'old' };
    });
    send({ kind: 'settings', tenantId: 't1' }); // …and the change committed meanwhile
    release();
    expect(await stale).toEqual({ v: 'old' });
    expect(cache.get('t1')).toBeUndefined();
    expect(await cache.load('t1', async () => ({ v: 'new' }))).toEqual({ v: 'new' });
  });

  it('serves nothing while notices may be missed', async () => {
    const { listener, send } = manualListener();
    const cache = invalidatedCache<{ v: number }>(listener, options);
    await cache.load('t1', async () => ({ v: 1 }));
    send(null);
    expect(cache.get('t1')).toBeUndefined();
    (listener as { listening: boolean }).listening = false;
    await cache.load('t1', async () => ({ v: 2 }));
    expect(cache.get('t1')).toBeUndefined();
  });
});
