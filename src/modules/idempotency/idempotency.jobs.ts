import type { Logger } from 'pino';
import { purgeInBatches } from '../../jobs/maintenance.js';
import type { Clock } from '../../lib/clock.js';
import type { IdempotencyRepository } from './idempotency.repository.js';

/** Deletes idempotency keys past retention. */
export async function purgeExpiredKeys(deps: {
  repository: IdempotencyRepository;
  clock: Clock;
  log: Logger;
}) {
  const now = deps.clock.now();
  const total = await purgeInBatches((batch) => deps.repository.purgeExpired(now, batch));
  if (total > 0) deps.log.info({ deleted: total }, 'purged expired idempotency keys');
  return total;
}
