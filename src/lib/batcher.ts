type Waiting<T, R> = {
  item: T;
  /** When it was handed in (performance.now()), for `maxQueueMs`. */
  since: number;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
};

/**
 * Gathers the items that callers hand in at about the same moment and runs them in one call (one
 * round trip, one commit): the worker records the wake-ups falling due together this way, the
 * scheduler arms deadlines, the API writes the complaints coming in, and counts requests against
 * rate limits. A batch goes when it is full or `maxWaitMs` after its first item; with `maxWaitMs`
 * 0 it goes once the current event-loop turn has handled whatever I/O was ready, so it adds no
 * wait of its own. `run` answers each item in the order given.
 *
 * With `maxInFlight`, at most that many batches run at once; items handed in meanwhile wait for
 * one to finish and then go together. Under light load every item still goes at once, alone; under
 * heavy load batches grow by themselves, and the per-call cost (a commit, a round trip) is shared
 * by more items exactly when the database is busiest. `maxQueueMs` bounds that wait: an item still
 * waiting for a slot after it is refused with `queueTimeoutError()`, unrun, as a connection pool
 * refuses a caller it cannot serve in time, so a stalled database does not pile up work whose
 * callers have given up.
 *
 * With `batchKey`, a batch holds only items of one key, the oldest waiting item's: a statement that
 * must name one tenant (so that a distributed database can run it where that tenant's rows are)
 * takes one tenant's items at a time. Items of other keys keep their place in line.
 *
 * A batch that fails is tried again one item at a time, so one bad item fails alone, unless
 * `retryAlone` says the failure may have left the batch done (a connection lost after a commit
 * was sent, say): then every item of the batch fails with it, and none is done twice.
 */
export function createBatcher<T, R>(options: {
  run: (items: T[]) => Promise<R[]>;
  maxBatch: number;
  maxWaitMs: number;
  maxInFlight?: number;
  maxQueueMs?: number;
  queueTimeoutError?: () => Error;
  retryAlone?: (error: unknown) => boolean;
  batchKey?: (item: T) => string;
}) {
  const maxInFlight = options.maxInFlight ?? Number.POSITIVE_INFINITY;
  const retryAlone = options.retryAlone ?? (() => true);
  const waiting: Array<Waiting<T, R>> = [];
  let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  let expiryTimer: NodeJS.Timeout | undefined;
  let inFlight = 0;
  const schedule = (): NodeJS.Timeout | NodeJS.Immediate =>
    options.maxWaitMs === 0 ? setImmediate(flush) : setTimeout(flush, options.maxWaitMs);
  const cancel = (scheduled: NodeJS.Timeout | NodeJS.Immediate | undefined) => {
    if (scheduled === undefined) return;
    if (options.maxWaitMs === 0) clearImmediate(scheduled as NodeJS.Immediate);
    else clearTimeout(scheduled as NodeJS.Timeout);
  };
  // A synchronous throw from `run` becomes a rejection, so every item is always answered.
  const runItems = (items: T[]): Promise<R[]> => Promise.resolve().then(() => options.run(items));

  async function run(batch: Array<Waiting<T, R>>): Promise<void> {
    try {
      const results = await runItems(batch.map((entry) => entry.item));
      for (const [index, entry] of batch.entries()) entry.resolve(results[index] as R);
    } catch (error) {
      if (batch.length === 1 || !retryAlone(error)) {
        for (const entry of batch) entry.reject(error);
        return;
      }
      await Promise.all(
        batch.map((entry) =>
          runItems([entry.item]).then(
            ([result]) => entry.resolve(result as R),
            (single: unknown) => entry.reject(single),
          ),
        ),
      );
    }
  }

  /** Refuses the items that have waited for a slot longer than `maxQueueMs`, oldest first. */
  function expireWaiting(): void {
    expiryTimer = undefined;
    const { maxQueueMs } = options;
    if (maxQueueMs === undefined) return;
    const now = performance.now();
    while (waiting.length > 0 && now - waiting[0]!.since >= maxQueueMs) {
      const expired = waiting.shift()!;
      expired.reject(options.queueTimeoutError?.() ?? new Error(`Waited ${maxQueueMs} ms for a batch`));
    }
    watchWaiting();
  }

  /** Keeps a timer for the oldest waiting item's `maxQueueMs` while any item waits, and none after. */
  function watchWaiting(): void {
    if (waiting.length === 0 || options.maxQueueMs === undefined) {
      clearTimeout(expiryTimer);
      expiryTimer = undefined;
      return;
    }
    if (expiryTimer) return;
    const dueIn = waiting[0]!.since + options.maxQueueMs - performance.now();
    expiryTimer = setTimeout(expireWaiting, Math.max(0, dueIn));
    expiryTimer.unref();
  }

  /** Whether a whole batch of `item`'s kind waits now. */
  function fullBatchWaiting(item: T): boolean {
    const { batchKey } = options;
    if (!batchKey) return waiting.length >= options.maxBatch;
    const key = batchKey(item);
    return waiting.filter((entry) => batchKey(entry.item) === key).length >= options.maxBatch;
  }

  /** The next batch, taken out of `waiting`: the oldest items, all of one key with `batchKey`. */
  function takeBatch(): Array<Waiting<T, R>> {
    const { batchKey } = options;
    if (!batchKey) return waiting.splice(0, options.maxBatch);
    const key = batchKey(waiting[0]!.item);
    const batch: Array<Waiting<T, R>> = [];
    for (let index = 0; index < waiting.length && batch.length < options.maxBatch; ) {
      if (batchKey(waiting[index]!.item) === key) batch.push(...waiting.splice(index, 1));
      else index += 1;
    }
    return batch;
  }

  function flush(): void {
    cancel(timer);
    timer = undefined;
    while (waiting.length > 0 && inFlight < maxInFlight) {
      const batch = takeBatch();
      inFlight += 1;
      void run(batch).finally(() => {
        inFlight -= 1;
        // What came in while every slot was busy goes now, together.
        if (waiting.length > 0) flush();
      });
    }
    watchWaiting();
  }

  return {
    /** Runs the item with whatever else is handed in now; its own result. */
    submit(item: T): Promise<R> {
      return new Promise((resolve, reject) => {
        waiting.push({ item, since: performance.now(), resolve, reject });
        if (fullBatchWaiting(item)) flush();
        else timer ??= schedule();
      });
    },
  };
}
