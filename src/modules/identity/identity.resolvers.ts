import { parseArgs, requireScope, withoutNulls } from '../../graphql/context.js';
import type { GraphqlModule } from '../../graphql/module.js';
import {
  createIdentityProviderBody,
  identityProviderIdParams,
  toIdentityProviderView,
} from './identity.schemas.js';
import type { IdentityService } from './identity.service.js';

const typeDefs = /* GraphQL */ `
  "An OpenID Connect provider whose access tokens the tenant's staff sign in with, as GET /v1/identity-providers shows it."
  type IdentityProvider {
    id: ID!
    name: String!
    "The iss of its tokens."
    issuer: String!
    "The aud its tokens carry for Redress."
    audience: String!
    "Null: read from the issuer's discovery document."
    jwksUri: String
    "The claim whose values grant scopes."
    scopeClaim: String!
    "Claim value → the Redress scopes it grants."
    scopeMap: JSONObject!
    "The claim that names the person on the timeline."
    nameClaim: String!
    createdAt: DateTime!
  }

  "A provider to register, as POST /v1/identity-providers takes it."
  input IdentityProviderInput {
    name: String!
    issuer: String!
    audience: String!
    jwksUri: String
    scopeClaim: String
    scopeMap: JSONObject!
    nameClaim: String
  }

  extend type Query {
    "The tenant's identity providers (scope admin)."
    identityProviders: [IdentityProvider!]! @complexity(value: 20)
  }

  extend type Mutation {
    "Registers an identity provider (scope admin); its access tokens work at once."
    createIdentityProvider(input: IdentityProviderInput!): IdentityProvider!
    "Removes an identity provider (scope admin); its access tokens stop working at once."
    deleteIdentityProvider(id: ID!): Boolean!
  }
`;

/** The tenant's identity providers over GraphQL (scope admin): the same IdentityService calls as REST. */
export function identityGraphql(deps: { identity: IdentityService }): GraphqlModule {
  const { identity } = deps;
  return {
    typeDefs,
    resolvers: {
      Query: {
        async identityProviders(_root, _args, context) {
          const { tenantId } = requireScope(context, 'admin');
          return (await identity.listProviders(tenantId)).map(toIdentityProviderView);
        },
      },
      Mutation: {
        async createIdentityProvider(_root, args, context) {
          const { tenantId } = requireScope(context, 'admin');
          const input = parseArgs(createIdentityProviderBody, withoutNulls(args.input), 'input');
          return toIdentityProviderView(await identity.createProvider(tenantId, input));
        },
        async deleteIdentityProvider(_root, args, context) {
          const { tenantId } = requireScope(context, 'admin');
          const { id } = parseArgs(identityProviderIdParams, { id: args.id }, 'args');
          await identity.deleteProvider(tenantId, id);
          return true;
        },
      },
    },
  };
}
