import { afterEach, describe, expect, it, vi } from 'vitest';
import { throttled } from './throttle.js';

afterEach(() => vi.useRealTimers());

describe('throttled', () => {
  it('reports the first call at once, then at most once an interval, counting the calls between', () => {
    vi.useFakeTimers();
    const reports: Array<[string, number]> = [];
    const warn = throttled<string>(30_000, (value, calls) => reports.push([value, calls]));
    warn('a');
    warn('b');
    warn('c');
    expect(reports).toEqual([['a', 1]]);
    vi.advanceTimersByTime(30_000);
    warn('d');
    expect(reports).toEqual([
      ['a', 1],
      ['d', 3],
    ]);
  });
});
