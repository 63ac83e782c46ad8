import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../src/db/client.js';
import { systemClock } from '../src/lib/clock.js';
import { startWebhookDispatcher } from '../src/modules/webhooks/webhook-dispatcher.js';
import { createWebhookMetrics } from '../src/modules/webhooks/webhook-metrics.js';
import { createWebhookSender } from '../src/modules/webhooks/webhook-sender.js';
import { createWebhookOutcomes } from '../src/modules/webhooks/webhooks.service.js';
import { createServices } from '../src/services.js';
import { createIsolatedDatabase, type IsolatedDatabase } from './isolated-database.js';
import { sleep } from './worker-process.js';

/**
 * The dispatcher in-process over a database of its own that holds nothing to send: what an idle
 * worker asks PostgreSQL. Every worker runs one, all day, mostly with nothing to do.
 */
let isolated: IsolatedDatabase;
let database: Database;

beforeAll(async () => {
  isolated = await createIsolatedDatabase('webhook_idle');
  database = createDatabase({ url: isolated.url, poolMax: 2, applicationName: 'redress-test' });
});
afterAll(async () => {
  await database?.close();
  await isolated?.drop();
});

describe('an idle webhook dispatcher', () => {
  it('looks for due deliveries once per poll, not in a loop', async () => {
    const services = createServices({ db: database.db, clock: systemClock, scheduler: null });
    const webhooks = services.repositories.webhooks;
    let passes = 0;
    const dispatcher = startWebhookDispatcher({
      repository: {
        claimDue: (options) => {
          passes += 1;
          return webhooks.claimDue(options);
        },
        msUntilNextDue: webhooks.msUntilNextDue,
        releaseLeases: webhooks.releaseLeases,
      },
      outcomes: createWebhookOutcomes({
        db: database.db,
        webhooks,
        events: services.repositories.events,
        clock: systemClock,
        disableAfterMs: 3_600_000,
      }),
      sender: createWebhookSender({ allowPrivate: false, timeoutMs: 1_000 }),
      databaseUrl: isolated.url,
      clock: systemClock,
      log: pino({ level: 'silent' }),
      metrics: createWebhookMetrics(new Registry()),
      settings: { concurrency: 4, perEndpoint: 2, timeoutMs: 1_000, schedule: [0, 1] },
      pollIntervalMs: 500,
    });
    try {
      await sleep(2_000);
    } finally {
      await dispatcher.stop();
    }
    // A pass at start, one when the listener connects and one per poll: about six in 2 s. When
    // "nothing waiting" read as "due now", a timer woke it every 10 ms: well over a hundred.
    expect(passes).toBeGreaterThanOrEqual(3);
    expect(passes).toBeLessThanOrEqual(8);
  });
});
