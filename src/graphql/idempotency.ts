import { IDEMPOTENCY_KEY_PATTERN } from '../http/plugins/idempotency.js';
import { AppError, type ErrorCode, ValidationError } from '../lib/errors.js';
import { type IdempotencyService, requestFingerprint } from '../modules/idempotency/idempotency.service.js';
import type { IdempotencyBinding } from '../modules/idempotency/idempotency-binding.js';

/** A refusal the first attempt answered, given again to a retry with the same key. */
class ReplayedError extends AppError {
  readonly title = 'Replayed answer of the first attempt';
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    detail: string,
    extensions: Record<string, unknown>,
  ) {
    super({ detail, extensions });
  }
}

/**
 * A GraphQL mutation made safe to retry with an idempotency key, as the REST plugin does for
 * `Idempotency-Key`: the first attempt runs and its answer (or its 4xx refusal) is kept; the same
 * key and input give that answer again; another input is 422; a retry while the first runs is
 * 409. Without a key the mutation simply runs.
 */
export async function idempotentMutation<T>(
  idempotency: IdempotencyService,
  request: { tenantId: string; key: string | null | undefined; operation: string; input: unknown },
  run: (binding: IdempotencyBinding | null) => Promise<T>,
): Promise<T> {
  const { tenantId, key } = request;
  if (key === null || key === undefined) return run(null);
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new ValidationError([
      { field: 'idempotencyKey', message: 'must be 1 to 255 visible ASCII characters' },
    ]);
  }
  // The operation is part of the fingerprint, so a key first used on REST is not replayed here.
  const fingerprint = requestFingerprint('GRAPHQL', request.operation, null, request.input);
  const outcome = await idempotency.begin(tenantId, key, fingerprint);
  if (outcome.kind === 'replay') {
    const stored = JSON.parse(outcome.body) as { result?: T; error?: StoredRefusal };
    if (stored.error) {
      const { code, status, detail, extensions } = stored.error;
      throw new ReplayedError(code, status, detail, extensions);
    }
    return stored.result as T;
  }
  try {
    const result = await run({
      key,
      recoveredResourceId: outcome.kind === 'recover' ? outcome.resourceId : null,
    });
    await idempotency.complete(tenantId, key, { status: 200, headers: {}, body: JSON.stringify({ result }) });
    return result;
  } catch (error) {
    if (error instanceof AppError && error.status < 500) {
      const refusal: StoredRefusal = {
        code: error.code,
        status: error.status,
        detail: error.detail,
        extensions: error instanceof ValidationError ? { errors: error.errors } : error.extensions,
      };
      await idempotency.complete(tenantId, key, {
        status: error.status,
        headers: {},
        body: JSON.stringify({ error: refusal }),
      });
    } else {
      await idempotency.release(tenantId, key);
    }
    throw error;
  }
}

interface StoredRefusal {
  code: ErrorCode;
  status: number;
  detail: string;
  extensions: Record<string, unknown>;
}
