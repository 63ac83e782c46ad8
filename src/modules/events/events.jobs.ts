import type { Logger } from 'pino';
import { purgeInBatches } from '../../jobs/maintenance.js';
import type { Clock } from '../../lib/clock.js';
import type { EventsRepository } from './events.repository.js';

const DAY_MS = 86_400_000;

/**
 * Deletes events older than the retention period, with their webhook deliveries. Events not yet
 * relayed are kept whatever their age: nothing leaves the outbox undelivered.
 */
export async function purgeOldEvents(deps: {
  repository: Pick<EventsRepository, 'purgeOlderThan'>;
  retentionDays: number;
  clock: Clock;
  log: Logger;
}) {
  const before = new Date(deps.clock.now().getTime() - deps.retentionDays * DAY_MS);
  const total = await purgeInBatches((batch) => deps.repository.purgeOlderThan(before, batch));
  if (total > 0) deps.log.info({ deleted: total, before }, 'purged events past retention');
  return total;
}
