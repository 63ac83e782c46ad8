import { describe, expect, it } from 'vitest';
import { createBatcher } from './batcher.js';

type Job = { deadlineId: string; armedFor: number };
const job = (n: number): Job => ({ deadlineId: `d${n}`, armedFor: n });
const recorded = (j: Job) => ({ id: j.deadlineId });

describe('batcher', () => {
  it('runs items handed in together in one call, answering each with its own result', async () => {
    const calls: string[][] = [];
    const batcher = createBatcher({
      run: async (jobs: Job[]) => {
        calls.push(jobs.map((j) => j.deadlineId));
        return jobs.map((j) => (j.armedFor % 2 === 0 ? recorded(j) : undefined));
      },
      maxBatch: 3,
      maxWaitMs: 5,
    });
    const results = await Promise.all([1, 2, 3, 4].map((n) => batcher.submit(job(n))));
    expect(calls).toEqual([['d1', 'd2', 'd3'], ['d4']]);
    expect(results.map((r) => r?.id)).toEqual([undefined, 'd2', undefined, 'd4']);
  });

  it('with batchKey, puts only items of one key in a batch, oldest key first, the rest keeping their order', async () => {
    const calls: string[][] = [];
    const batcher = createBatcher({
      run: async (jobs: Job[]) => {
        calls.push(jobs.map((j) => j.deadlineId));
        return jobs.map(recorded);
      },
      maxBatch: 2,
      maxWaitMs: 5,
      batchKey: (j: Job) => (j.armedFor % 2 === 0 ? 'even' : 'odd'),
    });
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => batcher.submit(job(n))));
    // d3 fills a batch of odd ones, which goes with what else waits (d2); d6 fills one of even ones.
    expect(calls).toEqual([['d1', 'd3'], ['d2'], ['d4', 'd6'], ['d5']]);
    expect(results.map((r) => r.id)).toEqual(['d1', 'd2', 'd3', 'd4', 'd5', 'd6']);
  });

  it('retries a failed batch one by one, so one bad item fails alone', async () => {
    const calls: number[] = [];
    const batcher = createBatcher({
      run: async (jobs: Job[]) => {
        calls.push(jobs.length);
        if (jobs.some((j) => j.deadlineId === 'd2')) throw new Error('bad item');
        return jobs.map(recorded);
      },
      maxBatch: 10,
      maxWaitMs: 1,
    });
    const results = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(job(n))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(calls).toEqual([3, 1, 1, 1]);
  });

  it('with maxWaitMs 0, runs what was handed in during one event-loop turn together, and no more', async () => {
    const calls: string[][] = [];
    const batcher = createBatcher({
      run: async (jobs: Job[]) => {
        calls.push(jobs.map((j) => j.deadlineId));
        return jobs.map(recorded);
      },
      maxBatch: 100,
      maxWaitMs: 0,
    });
    const sameTurn = [1, 2, 3].map((n) => batcher.submit(job(n)));
    // Immediates run in the order they were set: this one runs after the batch has gone.
    const nextTurn = new Promise<void>((resolve) => setImmediate(resolve)).then(() => batcher.submit(job(4)));
    await Promise.all([...sameTurn, nextTurn]);
    expect(calls).toEqual([['d1', 'd2', 'd3'], ['d4']]);
  });

  it('with maxInFlight, holds what comes in while every slot is busy and then runs it together', async () => {
    const calls: string[][] = [];
    let running = 0;
    let mostRunning = 0;
    const releases: Array<() => void> = [];
    const batcher = createBatcher({
      run: async (jobs: Job[]) => {
        calls.push(jobs.map((j) => j.deadlineId));
        running += 1;
        mostRunning = Math.max(mostRunning, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
        return jobs.map(recorded);
      },
      maxBatch: 3,
      maxWaitMs: 0,
      maxInFlight: 1,
    });
    const first = batcher.submit(job(1));
    await new Promise<void>((resolve) => setImmediate(resolve));
    // The only slot is busy with d1: these five wait, then go as full batches, one at a time.
    const waiting = [2, 3, 4, 5, 6].map((n) => batcher.submit(job(n)));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(calls).toEqual([['d1']]);
    while (releases.length > 0 || calls.length < 3) {
      releases.shift()?.();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const results = await Promise.all([first, ...waiting]);
    expect(calls).toEqual([['d1'], ['d2', 'd3', 'd4'], ['d5', 'd6']]);
    expect(results.map((r) => r.id)).toEqual(['d1', 'd2', 'd3', 'd4', 'd5', 'd6']);
    expect(mostRunning).toBe(1);
  });

  it('fails every item of a batch, running none again, when the failure may have left it done', async () => {
    const calls: number[] = [];
    const batcher = createBatcher({
      run: async (jobs: Job[]) => {
        calls.push(jobs.length);
        throw new Error('connection lost after the commit was sent');
      },
      maxBatch: 10,
      maxWaitMs: 0,
      retryAlone: () => false,
    });
    const results = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(job(n))));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(calls).toEqual([3]);
  });

  it('refuses, unrun, an item that waited longer than maxQueueMs for a slot', async () => {
    const ran: string[] = [];
    let release = () => {};
    const batcher = createBatcher({
      run: async (jobs: Job[]) => {
        ran.push(...jobs.map((j) => j.deadlineId));
        if (jobs[0]!.deadlineId === 'd1') await new Promise<void>((resolve) => (release = resolve));
        return jobs.map(recorded);
      },
      maxBatch: 10,
      maxWaitMs: 0,
      maxInFlight: 1,
      maxQueueMs: 30,
      queueTimeoutError: () => new Error('queue timeout'),
    });
    const first = batcher.submit(job(1));
    await new Promise<void>((resolve) => setImmediate(resolve));
    const late = batcher.submit(job(2));
    await expect(late).rejects.toThrow('queue timeout');
    release();
    await expect(first).resolves.toEqual({ id: 'd1' });
    // Handed in after the wait: it runs as usual.
    await expect(batcher.submit(job(3))).resolves.toEqual({ id: 'd3' });
    expect(ran).toEqual(['d1', 'd3']);
  });
});
