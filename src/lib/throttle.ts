/**
 * A report made at most once every `intervalMs`: the first call reports at once, later ones are
 * counted, and the next report says how many calls it stands for (itself included). For warnings
 * that would otherwise come once a request while a backing service is away.
 */
export function throttled<T>(
  intervalMs: number,
  report: (value: T, calls: number) => void,
): (value: T) => void {
  let calls = 0;
  let reportedAt = Number.NEGATIVE_INFINITY;
  return (value) => {
    calls += 1;
    const now = performance.now();
    if (now - reportedAt < intervalMs) return;
    reportedAt = now;
    report(value, calls);
    calls = 0;
  };
}
