import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

export const API_VERSION = '0.1.0';

/** Builds the OpenAPI 3.1 document from the route schemas; serves /docs when enabled. */
export const openapiPlugin = fp(
  async (app: FastifyInstance, options: { docs: boolean }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Redress API',
          version: API_VERSION,
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
          { name: 'api-keys', description: 'API keys of the calling tenant (scope `admin`)' },
          { name: 'health', description: 'Liveness and readiness' },
        ],
        components: {
          securitySchemes: {
            apiKey: {
              type: 'http',
              scheme: 'bearer',
              description: 'An API key (`rdk_…`) sent as `Authorization: Bearer <key>`.',
            },
          },
        },
      },
      transform: jsonSchemaTransform,
      transformObject: jsonSchemaTransformObject,
    });
    if (options.docs) {
      await app.register(swaggerUi, { routePrefix: '/docs' });
    }
  },
  { name: 'redress-openapi' },
);
