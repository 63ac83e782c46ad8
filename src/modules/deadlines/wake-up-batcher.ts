import type { DeadlineJob } from '../../jobs/queues.js';
import type { RecordedWakeUp } from './deadlines.repository.js';

type Waiting = {
  job: DeadlineJob;
  resolve: (recorded: RecordedWakeUp | undefined) => void;
  reject: (error: unknown) => void;
};

/**
 * Gathers the wake-ups the worker's jobs hand in at about the same moment and records them in one
 * call (one round trip, one commit): when many deadlines fall due together, the worker then keeps
 * up with twice as many. A batch goes when it is full or `maxWaitMs` after its first wake-up.
 */
export function createWakeUpBatcher(options: {
  record: (jobs: DeadlineJob[]) => Promise<Array<RecordedWakeUp | undefined>>;
  maxBatch: number;
  maxWaitMs: number;
}) {
  let waiting: Waiting[] = [];
  let timer: NodeJS.Timeout | undefined;

  async function run(batch: Waiting[]): Promise<void> {
    try {
      const recorded = await options.record(batch.map((entry) => entry.job));
      for (const [index, entry] of batch.entries()) entry.resolve(recorded[index]);
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // One wake-up that cannot be recorded must not fail the others: each is tried on its own.
      await Promise.all(
        batch.map((entry) =>
          options.record([entry.job]).then(
            ([recorded]) => entry.resolve(recorded),
            (single: unknown) => entry.reject(single),
          ),
        ),
      );
    }
  }

  function flush(): void {
    clearTimeout(timer);
    timer = undefined;
    const batch = waiting;
    waiting = [];
    if (batch.length > 0) void run(batch);
  }

  return {
    /** Records a wake-up with whatever else falls due now; what was recorded, or undefined. */
    submit(job: DeadlineJob): Promise<RecordedWakeUp | undefined> {
      return new Promise((resolve, reject) => {
        waiting.push({ job, resolve, reject });
        if (waiting.length >= options.maxBatch) flush();
        else timer ??= setTimeout(flush, options.maxWaitMs);
      });
    },
  };
}

export type WakeUpBatcher = ReturnType<typeof createWakeUpBatcher>;
