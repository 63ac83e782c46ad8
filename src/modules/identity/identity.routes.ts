import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireAuth } from '../../http/plugins/auth.js';
import { problemResponses } from '../../http/problem.js';
import { bearerSecurity, resourceUrl } from '../../http/route-helpers.js';
import {
  createIdentityProviderBody,
  identityProviderIdParams,
  identityProviderListSchema,
  identityProviderSchema,
  toIdentityProviderView,
} from './identity.schemas.js';
import type { IdentityService } from './identity.service.js';

const tags = ['identity-providers'];

/** The calling tenant's OIDC identity providers, for staff sign-in; every route needs `admin`. */
export const identityRoutes: FastifyPluginAsyncZod<{
  identity: IdentityService;
  publicBaseUrl?: string;
}> = async (app, { identity, publicBaseUrl }) => {
  app.post(
    '/v1/identity-providers',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'createIdentityProvider',
        summary: 'Register an identity provider',
        description:
          "Staff then call Redress with the provider's access tokens (`Authorization: Bearer <JWT>`); the claims in `scopeMap` give their scopes. 409 `identity_provider_exists` when the issuer and audience are registered already.",
        tags,
        security: bearerSecurity,
        body: createIdentityProviderBody,
        response: { 201: identityProviderSchema, ...problemResponses(409, 413, 415) },
      },
    },
    async (request, reply) => {
      const row = await identity.createProvider(requireAuth(request).tenantId, request.body);
      return reply
        .code(201)
        .header('location', resourceUrl(publicBaseUrl, `/v1/identity-providers/${row.id}`))
        .send(toIdentityProviderView(row));
    },
  );

  app.get(
    '/v1/identity-providers',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'listIdentityProviders',
        summary: "List the tenant's identity providers",
        description:
          'Every OIDC issuer and audience whose access tokens this tenant accepts, with how their claims map to scopes; oldest first.',
        tags,
        security: bearerSecurity,
        response: { 200: identityProviderListSchema, ...problemResponses() },
      },
    },
    async (request) => ({
      data: (await identity.listProviders(requireAuth(request).tenantId)).map(toIdentityProviderView),
    }),
  );

  app.get(
    '/v1/identity-providers/:id',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'getIdentityProvider',
        summary: 'Get an identity provider',
        description: 'One identity provider of the tenant: its issuer, audience, keys and claim mapping.',
        tags,
        security: bearerSecurity,
        params: identityProviderIdParams,
        response: { 200: identityProviderSchema, ...problemResponses(404) },
      },
    },
    async (request) =>
      toIdentityProviderView(await identity.getProvider(requireAuth(request).tenantId, request.params.id)),
  );

  app.delete(
    '/v1/identity-providers/:id',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'deleteIdentityProvider',
        summary: 'Remove an identity provider',
        description:
          'Its access tokens stop working at once. To change a provider, register the new one first, then remove the old.',
        tags,
        security: bearerSecurity,
        params: identityProviderIdParams,
        response: { 204: z.undefined().describe('Removed'), ...problemResponses(404) },
      },
    },
    async (request, reply) => {
      await identity.deleteProvider(requireAuth(request).tenantId, request.params.id);
      return reply.code(204).send();
    },
  );
};
