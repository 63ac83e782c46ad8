import { parseArgs, requireScope } from '../../graphql/context.js';
import type { GraphqlModule } from '../../graphql/module.js';
import { apiKeyIdParams, createApiKeyBody, toApiKeyView } from './tenancy.schemas.js';
import type { TenancyService } from './tenancy.service.js';

const typeDefs = /* GraphQL */ `
  "An API key of the tenant, as GET /v1/api-keys shows it: never the key itself."
  type ApiKey {
    id: ID!
    name: String!
    "The visible start of the key, to tell keys apart."
    prefix: String!
    "complaints:read, complaints:write, policies:manage, webhooks:manage, reports:read, actors:impersonate, personal_data:read, personal_data:export, admin."
    scopes: [String!]!
    createdAt: DateTime!
    "Updated at most once a minute."
    lastUsedAt: DateTime
    expiresAt: DateTime
    revokedAt: DateTime
  }

  "A new key: the whole key is in this answer only."
  type CreatedApiKey {
    apiKey: ApiKey!
    key: String!
  }

  extend type Query {
    "The tenant's API keys (scope admin)."
    apiKeys: [ApiKey!]! @complexity(value: 20)
  }

  extend type Mutation {
    "Issues an API key (scope admin); the answer holds the key this once."
    createApiKey(name: String!, scopes: [String!]!, expiresAt: DateTime): CreatedApiKey!
    "Revokes an API key at once; revoking a revoked key changes nothing."
    revokeApiKey(id: ID!): ApiKey!
  }
`;

/** The tenant's API keys over GraphQL (scope admin): the same TenancyService calls as REST. */
export function tenancyGraphql(deps: { tenancy: TenancyService }): GraphqlModule {
  const { tenancy } = deps;
  return {
    typeDefs,
    resolvers: {
      Query: {
        async apiKeys(_root, _args, context) {
          const { tenantId } = requireScope(context, 'admin');
          return (await tenancy.listApiKeys(tenantId)).map(toApiKeyView);
        },
      },
      Mutation: {
        async createApiKey(_root, args, context) {
          const { tenantId } = requireScope(context, 'admin');
          const input = parseArgs(
            createApiKeyBody,
            { name: args.name, scopes: args.scopes, expiresAt: args.expiresAt ?? undefined },
            'input',
          );
          const { apiKey, plaintextKey } = await tenancy.createApiKey(tenantId, {
            name: input.name,
            scopes: input.scopes,
            expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
          });
          return { apiKey: toApiKeyView(apiKey), key: plaintextKey };
        },
        async revokeApiKey(_root, args, context) {
          const { tenantId } = requireScope(context, 'admin');
          const { id } = parseArgs(apiKeyIdParams, { id: args.id }, 'args');
          return toApiKeyView(await tenancy.revokeApiKey(tenantId, id));
        },
      },
    },
  };
}
