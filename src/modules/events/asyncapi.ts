import { stringify } from 'yaml';
import { z } from 'zod';
import { API_VERSION } from '../../http/plugins/openapi.js';
import { DELIVERY_HEADERS } from '../webhooks/webhook-signing.js';
import { eventEnvelopeSchema } from './event-envelope.js';
import { EVENT_CATALOGUE, EVENT_TYPES, type EventType, eventTypeNames } from './event-types.js';

type Json = Record<string, unknown>;

const SCHEMAS = '#/components/schemas/';

/**
 * Every named schema the events reach, as JSON Schema draft 7 (the AsyncAPI schema format's
 * base), from the same zod schemas as openapi.yaml: each event type's envelope and data and the
 * subjects they hold (Complaint, Deadline …).
 */
function eventSchemas(): Record<string, unknown> {
  const { definitions } = z.toJSONSchema(eventEnvelopeSchema, {
    target: 'draft-7',
    io: 'output',
    unrepresentable: 'any',
  }) as unknown as { definitions: Record<string, unknown> };
  const text = JSON.stringify(definitions).replaceAll('"#/definitions/', `"${SCHEMAS}`);
  const schemas = JSON.parse(text) as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(schemas)
      .sort()
      .map((name) => [name, schemas[name]]),
  );
}

/** The headers of a webhook delivery as one schema (AsyncAPI's message `headers`). */
const deliveryHeadersSchema = {
  type: 'object',
  properties: Object.fromEntries(
    DELIVERY_HEADERS.map(({ name, description }) => [name, { type: 'string', description }]),
  ),
  required: DELIVERY_HEADERS.filter((header) => header.required).map((header) => header.name),
};

/**
 * What a graphql-ws `next` message of `subscription { events { id type timestamp payload { … } } }`
 * holds for one event type; the fields chosen decide the rest, as always in GraphQL.
 */
const subscriptionPayload = (type: EventType) => {
  const { data, enumValue } = eventTypeNames(type);
  return {
    type: 'object',
    properties: {
      data: {
        type: 'object',
        properties: {
          events: {
            type: 'object',
            description: `The Event, \`type\` ${enumValue}; \`payload\` is a ${data} and \`data\` the same untyped.`,
            properties: {
              id: { type: 'string' },
              type: { const: enumValue },
              timestamp: { type: 'string', format: 'date-time' },
              payload: { $ref: `${SCHEMAS}${data}` },
              data: { $ref: `${SCHEMAS}${data}` },
            },
          },
        },
      },
    },
  };
};

/** One message per event type and way of leaving: webhook, feed entry, subscription. */
function messages(): Json {
  const all: Json = {};
  for (const type of EVENT_TYPES) {
    const { pascal, envelope } = eventTypeNames(type);
    const { summary } = EVENT_CATALOGUE[type];
    const common = { name: type, summary, contentType: 'application/json' };
    all[`${pascal}Webhook`] = {
      ...common,
      title: `${type} (webhook)`,
      headers: deliveryHeadersSchema,
      payload: { $ref: `${SCHEMAS}${envelope}` },
      bindings: { http: { bindingVersion: '0.3.0' } },
    };
    all[`${pascal}FeedEntry`] = {
      ...common,
      title: `${type} (feed)`,
      payload: { $ref: `${SCHEMAS}${envelope}` },
    };
    all[`${pascal}Subscription`] = {
      ...common,
      title: `${type} (GraphQL subscription)`,
      payload: subscriptionPayload(type),
    };
  }
  return all;
}

/** A channel's messages: each event type's message of that kind. */
const channelMessages = (kind: 'Webhook' | 'FeedEntry' | 'Subscription') =>
  Object.fromEntries(
    EVENT_TYPES.map((type) => {
      const { pascal } = eventTypeNames(type);
      return [pascal, { $ref: `#/components/messages/${pascal}${kind}` }];
    }),
  );

const operationMessages = (channel: string) =>
  EVENT_TYPES.map((type) => ({ $ref: `#/channels/${channel}/messages/${eventTypeNames(type).pascal}` }));

/** The AsyncAPI 3.0 document of Redress's events: webhooks, the pull feed and GraphQL subscriptions. */
export function buildAsyncApi(): Json {
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Redress events',
      version: API_VERSION,
      description:
        'Every change Redress makes leaves as an event of one of the types below, the same envelope ' +
        '(`id`, `type`, `timestamp`, `data`) whichever way it leaves: signed webhooks (Standard Webhooks), ' +
        'the pull feed `GET /v1/events`, and the GraphQL subscription `events`. Each type’s `data` has ' +
        'its own schema, generated from the zod schemas the API answers with (openapi.yaml names them ' +
        'alike).',
    },
    defaultContentType: 'application/json',
    servers: {
      receiver: {
        host: '{receiver}',
        protocol: 'https',
        description: 'A webhook subscription’s endpoint: Redress POSTs each event to its `url`.',
        variables: { receiver: { description: 'The host (and port) of the subscription’s `url`.' } },
      },
      api: {
        host: '{api}',
        protocol: 'https',
        description: 'The Redress API, for the feed.',
        variables: { api: { description: 'Where Redress runs.' } },
      },
      graphql: {
        host: '{api}',
        pathname: '/graphql',
        protocol: 'wss',
        description:
          'GraphQL over WebSocket (graphql-ws), authenticated with `connectionParams.authorization`.',
        variables: { api: { description: 'Where Redress runs.' } },
      },
    },
    channels: {
      webhook: {
        address: null,
        title: 'Webhook deliveries',
        description:
          'The `url` of each subscription whose `events` select the type. Answer 2xx within 15 s; anything ' +
          'else is retried on the Standard Webhooks schedule, and 410 disables the subscription.',
        servers: [{ $ref: '#/servers/receiver' }],
        messages: channelMessages('Webhook'),
      },
      feed: {
        address: '/v1/events',
        title: 'The event feed',
        description:
          'Pages of events, oldest first (`data`, with `nextCursor` to pass as `after`), scope complaints:read.',
        servers: [{ $ref: '#/servers/api' }],
        messages: channelMessages('FeedEntry'),
      },
      graphqlEvents: {
        address: 'events',
        title: 'GraphQL subscription `events`',
        description:
          'subscription { events(types: ["deadline.*"]) { … } }: the tenant’s events as they commit, while connected.',
        servers: [{ $ref: '#/servers/graphql' }],
        messages: channelMessages('Subscription'),
      },
    },
    operations: {
      deliverWebhook: {
        action: 'send',
        channel: { $ref: '#/channels/webhook' },
        summary: 'Redress POSTs each event to the subscriptions that select it, signed.',
        bindings: { http: { method: 'POST', bindingVersion: '0.3.0' } },
        messages: operationMessages('webhook'),
      },
      listEvents: {
        action: 'send',
        channel: { $ref: '#/channels/feed' },
        summary: 'GET /v1/events answers pages of events, with the ids webhooks carry.',
        bindings: { http: { method: 'GET', bindingVersion: '0.3.0' } },
        messages: operationMessages('feed'),
      },
      subscribeEvents: {
        action: 'send',
        channel: { $ref: '#/channels/graphqlEvents' },
        summary: 'Each event a subscription selects, as a graphql-ws `next` message.',
        messages: operationMessages('graphqlEvents'),
      },
    },
    components: { schemas: eventSchemas(), messages: messages() },
  };
}

/** asyncapi.yaml exactly as committed. */
export const renderAsyncApi = (): string =>
  stringify(buildAsyncApi(), { aliasDuplicateObjects: false, lineWidth: 0 });
