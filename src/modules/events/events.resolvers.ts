import { z } from 'zod';
import { closeForOutage, type GraphQLContext, parseArgs, requireScope } from '../../graphql/context.js';
import { graphqlErrorOf } from '../../graphql/errors.js';
import type { GraphqlModule } from '../../graphql/module.js';
import { AppError, ForbiddenScopeError } from '../../lib/errors.js';
import { outageError, serviceUnreachableError } from '../../lib/unreachable.js';
import { complaintNode } from '../complaints/complaints.resolvers.js';
import type { ComplaintsService } from '../complaints/complaints.service.js';
import { maskEvent, seesPersonalData } from '../personal-data/personal-fields.js';
import { hasScope, type Scope } from '../tenancy/scopes.js';
import type { TenancyService } from '../tenancy/tenancy.service.js';
import { eventCatalogueSdl } from './event-data-sdl.js';
import type { EventEnvelope } from './event-envelope.js';
import { eventPatternSchema } from './event-pattern.js';
import { eventTypeNames, matchesAnyEventPattern } from './event-types.js';
import { type LiveEventsLink, liveEventsOf } from './live-events.js';

/** How long a subscription starting while Redis reconnects waits for it before it is refused. */
const LINK_WAIT_MS = 2_000;

const typeDefs = /* GraphQL */ `
  ${eventCatalogueSdl()}

  "An event: the envelope (and id) webhooks deliver and GET /v1/events reads."
  type Event {
    "evt_…; the same in every delivery, the feed and subscriptions."
    id: ID!
    type: EventType!
    timestamp: DateTime!
    "The data of the event, typed per event type (the same fields as \`data\`); personal data masked without personal_data:read."
    payload: EventData!
    "The same data untyped, as webhooks and the feed carry it, masked alike; kept for clients written before \`payload\`."
    data: JSONObject!
    "For complaint events: the complaint as it stands now."
    complaint: Complaint @complexity(value: 5)
  }

  "A complaint went up a level: on a breach, as a major complaint, or by hand."
  type EscalationEvent {
    "The complaint.escalated event's id, as webhooks and the feed carry it."
    eventId: ID!
    timestamp: DateTime!
    escalation: Escalation!
    "The complaint as it was escalated; its deadlines, timeline and escalations are read now."
    complaint: Complaint!
    "The breached deadline, for breach escalations."
    deadline: Deadline
  }

  extend type Subscription {
    """
    The tenant's events as they commit (scope complaints:read): types, wildcards such as deadline.*,
    or * (all, the default). A subscriber hears what happens while it is connected; the feed
    (GET /v1/events) has everything.
    """
    events(types: [String!]): Event!
    "The tenant's escalations as they happen (scope complaints:read)."
    escalations: EscalationEvent!
  }
`;

const typesArg = z.array(eventPatternSchema).min(1).max(50);

/** Subscription errors skip the error formatter: they leave with their code already in place. */
function asGraphqlError(error: unknown): unknown {
  return error instanceof AppError ? graphqlErrorOf(error) : error;
}

/** Events over GraphQL: subscriptions fed by the outbox relay through Redis, one topic per tenant. */
export function eventsGraphql(deps: {
  complaints: ComplaintsService;
  tenancy: TenancyService;
  topicFor: (tenantId: string) => string;
  /** Whether the pub/sub reaches Redis; absent, it is taken to be always up. */
  link?: LiveEventsLink;
  /** Counts the subscriptions that are listening: up once Redis has subscribed, down as they end. */
  listening?: { inc(): void; dec(): void };
}): GraphqlModule {
  const { complaints, tenancy, link, listening } = deps;

  /**
   * The tenant's events from the moment of subscribing, those `keep` selects. The key is checked
   * again for each event (a cached look-up), so a revoked key stops hearing at once.
   *
   * While PostgreSQL (the key) or Redis (the events) cannot be reached, the subscription's
   * connection is closed with the reason (closeForOutage) rather than left open and deaf: a
   * subscriber then knows to reconnect and to read the feed for what it missed.
   */
  async function* tenantEvents(
    context: GraphQLContext,
    scope: Scope,
    keep: (event: EventEnvelope) => boolean,
  ): AsyncGenerator<EventEnvelope> {
    let stopWatching = () => {};
    let counted = false;
    try {
      const { tenantId } = requireScope(context, scope);
      if (!context.pubsub) throw new Error('subscriptions run over WebSocket only');
      if (link) {
        // A subscription made while Redis is away would never hear anything.
        if (!(await link.whenUp(LINK_WAIT_MS))) throw serviceUnreachableError('redis');
        // Events published while the connection is down are lost to this subscriber.
        stopWatching = link.onLost(() => closeForOutage(context, serviceUnreachableError('redis')));
      }
      // Each message is one relay batch of the tenant's events (LiveEventMessage).
      const queue = await context.pubsub.subscribe(deps.topicFor(tenantId));
      // Redis has subscribed the topic (connectLiveEvents): from here on, each event is heard.
      listening?.inc();
      counted = true;
      // Left without destroying the queue: Mercurius ends it when the subscription closes, and a
      // destroyed one reported each subscriber leaving as an error in the log.
      for await (const batch of queue.iterator({ destroyOnReturn: false }) as AsyncIterable<string>) {
        for (const event of liveEventsOf(batch)) {
          if (event.data.tenantId !== tenantId || !keep(event)) continue;
          const current = await tenancy.authenticate(context.authorization);
          if (current.tenantId !== tenantId) return;
          if (!hasScope(current.scopes, scope)) throw new ForbiddenScopeError(scope);
          // Masked by the scopes the key holds now, as the scope above is checked now.
          yield seesPersonalData(current.scopes) ? event : maskEvent(event);
        }
      }
    } catch (error) {
      const outage = outageError(error);
      if (outage && closeForOutage(context, outage)) return;
      throw asGraphqlError(error);
    } finally {
      stopWatching();
      if (counted) listening?.dec();
    }
  }

  return {
    typeDefs,
    resolvers: {
      Event: {
        type: (event: EventEnvelope) => eventTypeNames(event.type).enumValue,
        // graphql-js finds the union member by __typename.
        payload: (event: EventEnvelope) => ({ __typename: eventTypeNames(event.type).data, ...event.data }),
      },
      Subscription: {
        events: {
          subscribe: (_root: unknown, args: { types?: string[] | null }, context: GraphQLContext) => {
            const patterns = args.types ? parseTypes(args.types) : ['*'];
            return tenantEvents(context, 'complaints:read', (event) =>
              matchesAnyEventPattern(patterns, event.type),
            );
          },
          resolve: (event: EventEnvelope) => event,
        },
        escalations: {
          subscribe: (_root: unknown, _args: unknown, context: GraphQLContext) =>
            tenantEvents(context, 'complaints:read', (event) => event.type === 'complaint.escalated'),
          resolve: (event: EventEnvelope) => {
            const { data } = event as Extract<EventEnvelope, { type: 'complaint.escalated' }>;
            return {
              eventId: event.id,
              timestamp: event.timestamp,
              escalation: data.escalation,
              complaint: data.complaint,
              deadline: data.deadline ?? null,
            };
          },
        },
      },
    },
    loaders: {
      Event: {
        // The complaints of a batch of events in two queries.
        async complaint(queries, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          const ids = queries.map(({ obj }) => complaintIdOf(obj as EventEnvelope));
          const states = await complaints.getMany(
            tenantId,
            ids.filter((id): id is string => id !== undefined),
          );
          return ids.map((id) => {
            const state = id ? states.get(id) : undefined;
            return state ? complaintNode(state) : null;
          });
        },
      },
    },
  };
}

/** The complaint an event is about; none for the tenant's own events (webhook.*). */
const complaintIdOf = (event: EventEnvelope): string | undefined =>
  'complaintId' in event.data ? event.data.complaintId : undefined;

function parseTypes(types: string[]): string[] {
  try {
    return parseArgs(typesArg, types, 'types');
  } catch (error) {
    throw asGraphqlError(error);
  }
}
