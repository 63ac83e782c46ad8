import pg from 'pg';
import type { Logger } from 'pino';

export interface PgListener {
  /** True while the connection is up and LISTENing. */
  readonly listening: boolean;
  close(): Promise<void>;
}

/**
 * LISTENs to PostgreSQL channels on a dedicated connection that reconnects with a growing delay.
 * `onGap` runs whenever notifications may have been missed (after a drop, and once connected),
 * so the caller can catch up from the table itself: NOTIFY is a wake-up call, never the data.
 */
export function listenOnChannels(options: {
  databaseUrl: string;
  channels: readonly string[];
  applicationName: string;
  log: Pick<Logger, 'warn'>;
  onNotification: (channel: string, payload: string | undefined) => void;
  onGap: () => void;
}): PgListener {
  let client: pg.Client | null = null;
  let closed = false;
  let retryMs = 250;
  let timer: NodeJS.Timeout | undefined;

  const retryLater = () => {
    if (closed) return;
    timer = setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10_000);
  };

  const connect = async () => {
    if (closed) return;
    const next = new pg.Client({
      connectionString: options.databaseUrl,
      application_name: options.applicationName,
    });
    next.on('notification', (message) => options.onNotification(message.channel, message.payload));
    next.on('error', () => {});
    next.on('end', () => {
      if (closed || client !== next) return;
      client = null;
      options.onGap();
      retryLater();
    });
    try {
      await next.connect();
      for (const channel of options.channels) await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      client = next;
      retryMs = 250;
      options.onGap();
    } catch (error) {
      options.log.warn({ err: error, channels: options.channels }, 'cannot LISTEN; retrying');
      await next.end().catch(() => {});
      retryLater();
    }
  };
  void connect();

  return {
    get listening() {
      return client !== null;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      const current = client;
      client = null;
      await current?.end().catch(() => {});
    },
  };
}
