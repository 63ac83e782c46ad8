import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { type EventEnvelope, toEventEnvelope } from './event-envelope.js';
import type { EventsRepository, FeedPosition } from './events.repository.js';
import type { FeedQuery } from './events.schemas.js';

// A feed cursor is the (transaction id, position) of the last event read; txids are decimal text
// because they outgrow the numbers JSON can carry exactly.
const feedCursorShape = z.tuple([z.string().regex(/^\d{1,20}$/), z.number().int().nonnegative()]);
const START: FeedPosition = { txid: '0', position: 0 };

/** The pull feed: the same events webhooks carry, in an order a cursor can follow without gaps. */
export function createEventsService(deps: { events: Pick<EventsRepository, 'feedPage'> }) {
  return {
    async feed(tenantId: string, query: FeedQuery): Promise<{ data: EventEnvelope[]; nextCursor: string }> {
      const after = query.after ? decodeCursor(query.after, feedCursorShape) : null;
      const from: FeedPosition | null = after ? { txid: after[0], position: after[1] } : null;
      const types = query.types && !query.types.includes('*') ? query.types : null;
      const rows = await deps.events.feedPage(tenantId, { after: from, types, limit: query.limit });
      const last = rows.at(-1);
      const reached = last ? { txid: last.txid, position: last.position } : (from ?? START);
      return { data: rows.map(toEventEnvelope), nextCursor: encodeCursor([reached.txid, reached.position]) };
    },
  };
}

export type EventsService = ReturnType<typeof createEventsService>;
