type Waiting<T, R> = {
  item: T;
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
 * by more items exactly when the database is busiest.
 */
export function createBatcher<T, R>(options: {
  run: (items: T[]) => Promise<R[]>;
  maxBatch: number;
  maxWaitMs: number;
  maxInFlight?: number;
}) {
  const maxInFlight = options.maxInFlight ?? Number.POSITIVE_INFINITY;
  const waiting: Array<Waiting<T, R>> = [];
  let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  let inFlight = 0;
  const schedule = (): NodeJS.Timeout | NodeJS.Immediate =>
    options.maxWaitMs === 0 ? setImmediate(flush) : setTimeout(flush, options.maxWaitMs);
  const cancel = (scheduled: NodeJS.Timeout | NodeJS.Immediate | undefined) => {
    if (scheduled === undefined) return;
    if (options.maxWaitMs === 0) clearImmediate(scheduled as NodeJS.Immediate);
    else clearTimeout(scheduled as NodeJS.Timeout);
  };

  async function run(batch: Array<Waiting<T, R>>): Promise<void> {
    try {
      const results = await options.run(batch.map((entry) => entry.item));
      for (const [index, entry] of batch.entries()) entry.resolve(results[index] as R);
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // One item that cannot be run must not fail the others: each is tried on its own.
      await Promise.all(
        batch.map((entry) =>
          options.run([entry.item]).then(
            ([result]) => entry.resolve(result as R),
            (single: unknown) => entry.reject(single),
          ),
        ),
      );
    }
  }

  function flush(): void {
    cancel(timer);
    timer = undefined;
    while (waiting.length > 0 && inFlight < maxInFlight) {
      const batch = waiting.splice(0, options.maxBatch);
      inFlight += 1;
      void run(batch).finally(() => {
        inFlight -= 1;
        // What came in while every slot was busy goes now, together.
        if (waiting.length > 0) flush();
      });
    }
  }

  return {
    /** Runs the item with whatever else is handed in now; its own result. */
    submit(item: T): Promise<R> {
      return new Promise((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        if (waiting.length >= options.maxBatch) flush();
        else timer ??= schedule();
      });
    },
  };
}
