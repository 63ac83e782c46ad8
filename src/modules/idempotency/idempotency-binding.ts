import type { Queryable } from '../../db/client.js';
import { IdempotencyInProgressError } from '../../lib/errors.js';
import type { IdempotencyRepository } from './idempotency.repository.js';

/**
 * The caller's idempotency key as a write sees it (REST `Idempotency-Key`, GraphQL
 * `idempotencyKey`). Lives here, apart from the HTTP plugin and the services, so both import it.
 */
export interface IdempotencyBinding {
  key: string;
  /** Set when an earlier attempt with this key committed this resource but died before answering. */
  recoveredResourceId: string | null;
}

/**
 * Points the caller's key at the resource a write made, inside the write's own transaction, so
 * the binding commits exactly when the write does and a retry after a crash answers from it. A
 * key another attempt already bound or answered (a retry that took over the lease while the first
 * still ran) refuses, rolling this write back so it happens once.
 */
export async function bindToKey(
  keys: Pick<IdempotencyRepository, 'bindResource'>,
  tenantId: string,
  binding: IdempotencyBinding | null,
  resourceId: string,
  tx: Queryable,
): Promise<void> {
  if (!binding) return;
  if (!(await keys.bindResource(tenantId, binding.key, resourceId, tx))) {
    throw new IdempotencyInProgressError(binding.key);
  }
}
