/** The longest a receiver's Retry-After may push the next attempt out. */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/**
 * The delay a `Retry-After` header asks for, in milliseconds (RFC 9110 §10.2.3: whole seconds
 * or an HTTP date), clamped to 0…24 h; null when absent or unreadable.
 */
export function parseRetryAfter(header: string | undefined, now: Date): number | null {
  if (header === undefined) return null;
  const value = header.trim();
  if (value === '') return null;
  let ms: number;
  if (/^\d+$/.test(value)) {
    ms = Number(value) * 1000;
  } else {
    // An HTTP date always names a day or month; without letters, Date.parse reads '-5' as a year.
    if (!/[A-Za-z]/.test(value)) return null;
    const at = Date.parse(value);
    if (Number.isNaN(at)) return null;
    ms = at - now.getTime();
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/** What becomes of a delivery after an attempt. */
export type NextStep =
  | { kind: 'succeeded' }
  | { kind: 'retry'; at: Date; delayMs: number }
  | { kind: 'failed' };

/** True for the answers that count as delivered. */
export const isSuccessStatus = (status: number | null): boolean =>
  status !== null && status >= 200 && status <= 299;

/**
 * Decides the next step after attempt number `attempt` (1-based). `schedule[i]` is the delay in
 * seconds before attempt i + 1, so a schedule of n entries allows n attempts. On 429 and 503 a
 * readable Retry-After replaces the scheduled delay: the receiver knows when it can take more.
 */
export function nextStep(input: {
  attempt: number;
  schedule: readonly number[];
  status: number | null;
  retryAfter: string | undefined;
  now: Date;
}): NextStep {
  if (isSuccessStatus(input.status)) return { kind: 'succeeded' };
  if (input.attempt >= input.schedule.length) return { kind: 'failed' };
  const asked =
    input.status === 429 || input.status === 503 ? parseRetryAfter(input.retryAfter, input.now) : null;
  const delayMs = asked ?? input.schedule[input.attempt]! * 1000;
  return { kind: 'retry', at: new Date(input.now.getTime() + delayMs), delayMs };
}
