import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { EVENT_CATALOGUE, type EventType, eventTypeNames } from '../../modules/events/event-types.js';
import { DELIVERY_HEADERS } from '../../modules/webhooks/webhook-signing.js';
import { completeOperations, type RouteFacts, tidySchemas } from '../openapi-contract.js';

export const API_VERSION = '0.1.0';

const SIGNATURE_HEADERS = DELIVERY_HEADERS.map(({ name, required, description }) => ({
  name,
  in: 'header' as const,
  required,
  description,
  schema: { type: 'string' as const },
}));

/**
 * The OpenAPI 3.1 `webhooks` section: one entry per event type of the catalogue, each its own
 * envelope (`ComplaintCreatedEvent` …, from event-data.ts) as webhooks, the feed and
 * subscriptions all carry it.
 */
type OpenApiDocument = Extract<NonNullable<FastifyDynamicSwaggerOptions['openapi']>, { webhooks?: unknown }>;
type OpenApiWebhooks = NonNullable<OpenApiDocument['webhooks']>;

function eventWebhooks(): OpenApiWebhooks {
  return Object.fromEntries(
    Object.entries(EVENT_CATALOGUE).map(([type, { summary, subject }]): [string, OpenApiWebhooks[string]] => [
      type,
      {
        post: {
          operationId: `event.${type}`,
          summary,
          // Authenticated by its signature (the webhook-* headers), not by a key of the receiver's.
          security: [],
          description:
            `Sent to subscriptions whose \`events\` select \`${type}\`. \`data.${subject}\` is the ${subject} ` +
            'as the REST API shows it. Answer 2xx within 15 s; anything else is retried on the Standard Webhooks ' +
            'schedule, 410 disables the subscription.',
          tags: ['webhooks'],
          parameters: SIGNATURE_HEADERS,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { $ref: `#/components/schemas/${eventTypeNames(type as EventType).envelope}` },
              },
            },
          },
          responses: { '200': { description: 'Received. Any 2xx answer counts as delivered.' } },
        },
      },
    ]),
  );
}

/** Builds the OpenAPI 3.1 document from the route schemas; serves /docs when enabled. */
export const openapiPlugin = fp(
  async (app: FastifyInstance, options: { docs: boolean }) => {
    // What each documented route does beyond its schema, gathered as routes are transformed and
    // read when the whole document is completed (openapi-contract.ts).
    const factsByOperation = new Map<string, RouteFacts>();
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Redress API',
          version: API_VERSION,
          contact: { name: 'Redress', url: 'https://redress.dev' },
          description:
            'Headless complaint handling for CRM and call-centre systems: intake from every channel, ' +
            'deadlines kept to the second, escalations that always arrive, and a complete record.\n\n' +
            'Every error is RFC 9457 `application/problem+json` with a stable `code` and the `requestId`. ' +
            "Another tenant's resources answer 404, exactly like ones that do not exist.",
        },
        servers: [{ url: '/', description: 'This server' }],
        tags: [
          {
            name: 'complaints',
            description: 'Complaint intake, updates, status changes, communications and timeline',
          },
          { name: 'deadlines', description: 'Response deadlines of complaints, and work queues across them' },
          {
            name: 'sla-policies',
            description: 'Versioned SLA targets that set deadlines (scope `policies:manage`)',
          },
          {
            name: 'calendars',
            description: 'Business calendars for business-hour clocks (scope `policies:manage`)',
          },
          {
            name: 'escalations',
            description: 'Escalation levels of complaints: on breach, for major complaints, and by hand',
          },
          {
            name: 'events',
            description: 'The event feed: every change, with the ids webhooks carry, for consumers that poll',
          },
          {
            name: 'webhooks',
            description:
              'Signed webhook subscriptions, their delivery log and redelivery (scope `webhooks:manage`)',
          },
          {
            name: 'resolutions',
            description:
              'Resolution options, approval by the approval matrix, the customer’s choice, execution, and pre-refunds',
          },
          {
            name: 'reply-templates',
            description: 'Shared reply wording per locale, rendered against a complaint (统一回复口径)',
          },
          {
            name: 'promises',
            description: 'Promises made to the customer, each a deadline kept, broken or withdrawn',
          },
          { name: 'surveys', description: 'Satisfaction surveys (满意度调查) and their answers' },
          { name: 'follow-ups', description: 'Follow-up visits after resolution and their outcomes (回访)' },
          {
            name: 'reports',
            description: 'The daily inventory and SLA compliance with satisfaction (scope `reports:read`)',
          },
          {
            name: 'settings',
            description: 'Workflow rules of the tenant: acceptance, major complaints, follow-ups, approvals',
          },
          {
            name: 'data-subjects',
            description:
              'Access exports of a data subject’s personal data (scopes `personal_data:export` and `personal_data:read`)',
          },
          { name: 'api-keys', description: 'API keys of the calling tenant (scope `admin`)' },
          {
            name: 'identity-providers',
            description: 'OpenID Connect providers whose access tokens staff sign in with (scope `admin`)',
          },
          { name: 'health', description: 'Liveness and readiness' },
        ],
        webhooks: eventWebhooks(),
        components: {
          securitySchemes: {
            apiKey: {
              type: 'http',
              scheme: 'bearer',
              description: 'An API key (`rdk_…`) sent as `Authorization: Bearer <key>`.',
            },
            accessToken: {
              type: 'http',
              scheme: 'bearer',
              bearerFormat: 'JWT',
              description:
                "A person's OpenID Connect access token from an identity provider the tenant registered (`/v1/identity-providers`); its claims map to scopes and its subject is the actor.",
            },
          },
        },
      },
      // GraphQL has its own contract, schema.graphql; its routes stay out of this one.
      transform: (input) => {
        if (/^\/graph(?:ql|iql)(?:\/|$)/.test(input.url)) return { schema: { hide: true }, url: input.url };
        const { route } = input;
        const operationId = (route.schema as { operationId?: string } | undefined)?.operationId;
        if (operationId) {
          const security = (route.schema as { security?: unknown[] }).security;
          factsByOperation.set(operationId, {
            method: String(route.method),
            secured: Array.isArray(security) && security.length > 0,
            idempotent: route.config?.idempotent === true,
            sends: route.config?.sends ?? [],
          });
        }
        return jsonSchemaTransform(input);
      },
      transformObject: (input) => {
        const document = jsonSchemaTransformObject(input) as unknown as Record<string, unknown>;
        completeOperations(document, factsByOperation);
        tidySchemas(document);
        return document as ReturnType<typeof jsonSchemaTransformObject>;
      },
    });
    if (options.docs) {
      await app.register(swaggerUi, { routePrefix: '/docs' });
    }
  },
  { name: 'redress-openapi' },
);
