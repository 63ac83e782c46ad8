import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireAuth } from '../../http/plugins/auth.js';
import { problemResponses } from '../../http/problem.js';
import { bearerSecurity, resourceUrl } from '../../http/route-helpers.js';
import {
  apiKeyIdParams,
  apiKeyListSchema,
  apiKeySchema,
  createApiKeyBody,
  createdApiKeySchema,
  toApiKeyView,
} from './tenancy.schemas.js';
import type { TenancyService } from './tenancy.service.js';

const tags = ['api-keys'];

/** The calling tenant's API keys; every route needs the `admin` scope. */
export const tenancyRoutes: FastifyPluginAsyncZod<{
  tenancy: TenancyService;
  publicBaseUrl?: string;
}> = async (app, { tenancy, publicBaseUrl }) => {
  app.post(
    '/v1/api-keys',
    {
      config: { scope: 'admin', sends: ['location', 'cache-control'] },
      schema: {
        operationId: 'createApiKey',
        summary: 'Create an API key',
        description: 'The whole key is in this response only; Redress stores just its hash.',
        tags,
        security: bearerSecurity,
        body: createApiKeyBody,
        response: { 201: createdApiKeySchema, ...problemResponses(413, 415) },
      },
    },
    async (request, reply) => {
      const { tenantId } = requireAuth(request);
      const { apiKey, plaintextKey } = await tenancy.createApiKey(tenantId, {
        name: request.body.name,
        scopes: request.body.scopes,
        expiresAt: request.body.expiresAt ? new Date(request.body.expiresAt) : null,
      });
      return reply
        .code(201)
        .header('location', resourceUrl(publicBaseUrl, `/v1/api-keys/${apiKey.id}`))
        .header('cache-control', 'no-store')
        .send({ ...toApiKeyView(apiKey), key: plaintextKey });
    },
  );

  app.get(
    '/v1/api-keys',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'listApiKeys',
        summary: "List the tenant's API keys",
        description:
          "The tenant's API keys, revoked ones included, with their scopes. Secrets are never shown again after creation.",
        tags,
        security: bearerSecurity,
        response: { 200: apiKeyListSchema, ...problemResponses() },
      },
    },
    async (request) => ({
      data: (await tenancy.listApiKeys(requireAuth(request).tenantId)).map(toApiKeyView),
    }),
  );

  app.get(
    '/v1/api-keys/:id',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'getApiKey',
        summary: 'Get an API key',
        description:
          'One API key of the tenant, with its scopes, when it was last used and whether it is revoked. The secret is not shown.',
        tags,
        security: bearerSecurity,
        params: apiKeyIdParams,
        response: { 200: apiKeySchema, ...problemResponses(404) },
      },
    },
    async (request) =>
      toApiKeyView(await tenancy.getApiKey(requireAuth(request).tenantId, request.params.id)),
  );

  app.delete(
    '/v1/api-keys/:id',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'revokeApiKey',
        summary: 'Revoke an API key',
        description:
          'The key stops working at once. Revoking a revoked key changes nothing and answers 204 again.',
        tags,
        security: bearerSecurity,
        params: apiKeyIdParams,
        response: { 204: z.undefined().describe('Revoked'), ...problemResponses(404) },
      },
    },
    async (request, reply) => {
      await tenancy.revokeApiKey(requireAuth(request).tenantId, request.params.id);
      return reply.code(204).send();
    },
  );
};
