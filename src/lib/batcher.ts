type Waiting<T, R> = {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
};

/**
 * Gathers the items that callers hand in at about the same moment and runs them in one call (one
 * round trip, one commit): the worker records the wake-ups falling due together this way, the
 * scheduler arms deadlines, and the API counts requests against rate limits. A batch goes when it
 * is full or `maxWaitMs` after its first item; with `maxWaitMs` 0 it goes once the current
 * event-loop turn has handled whatever I/O was ready, so it adds no wait of its own. `run`
 * answers each item in the order given.
 */
export function createBatcher<T, R>(options: {
  run: (items: T[]) => Promise<R[]>;
  maxBatch: number;
  maxWaitMs: number;
}) {
  let waiting: Array<Waiting<T, R>> = [];
  let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
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
    const batch = waiting;
    waiting = [];
    if (batch.length > 0) void run(batch);
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
