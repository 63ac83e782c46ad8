import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { type EventEnvelope, toEventEnvelope } from './event-envelope.js';
import type { EventsRepository } from './events.repository.js';
import type { FeedQuery } from './events.schemas.js';

// A feed cursor is the feed position of the last event read, alone in an array. Cursors handed
// out before migration 0051 are the (transaction id as decimal text, position) of that event;
// they stay good, read as the place the migration gave their event (feedPositionOfEvent).
const feedCursorShape = z.union([
  z.tuple([z.number().int().nonnegative()]).transform(([feedPosition]) => ({ feedPosition })),
  z
    .tuple([z.string().regex(/^\d{1,20}$/), z.number().int().nonnegative()])
    .transform(([, eventPosition]) => ({ eventPosition })),
]);

/** The pull feed: the same events webhooks carry, in an order a cursor can follow without gaps. */
export function createEventsService(deps: {
  events: Pick<EventsRepository, 'feedPage' | 'feedPositionOfEvent'>;
}) {
  return {
    async feed(tenantId: string, query: FeedQuery): Promise<{ data: EventEnvelope[]; nextCursor: string }> {
      const cursor = query.after ? decodeCursor(query.after, feedCursorShape) : { feedPosition: 0 };
      const from =
        'feedPosition' in cursor
          ? cursor.feedPosition
          : await deps.events.feedPositionOfEvent(tenantId, cursor.eventPosition);
      const types = query.types && !query.types.includes('*') ? query.types : null;
      const rows = await deps.events.feedPage(tenantId, { after: from, types, limit: query.limit });
      const reached = rows.at(-1)?.feedPosition ?? from;
      return { data: rows.map(toEventEnvelope), nextCursor: encodeCursor([reached]) };
    },
  };
}

export type EventsService = ReturnType<typeof createEventsService>;
