import { enumSdl, type GraphqlModule } from './module.js';
import { scalarResolvers, scalarTypeDefs } from './scalars.js';

/** Types every module shares, and the root types modules extend. */
const baseTypeDefs = /* GraphQL */ `
  """
  What a field costs toward the query cost limit: \`value\` plus its selection, times each named
  argument (a page size). Fields without it cost 1.
  """
  directive @complexity(value: Int!, multipliers: [String!]) on FIELD_DEFINITION

  ${scalarTypeDefs}

  type PageInfo {
    hasNextPage: Boolean!
    "Pass as \`after\` for the next page; null on the last."
    endCursor: String
  }

  ${enumSdl('ActorType', ['api_key', 'system', 'user'])}

  "Who did something: an API key (acting for \`onBehalfOf\`, from X-On-Behalf-Of), a signed-in person (\`user\`, \`id\` their subject) or Redress itself."
  type Actor {
    type: ActorType!
    id: String
    name: String!
    onBehalfOf: String
  }

  type Query
  type Mutation
  type Subscription
`;

/** The merged SDL, resolvers and loaders of every module: what Mercurius serves and schema.graphql holds. */
export function mergeModules(modules: GraphqlModule[]) {
  const resolvers: Record<string, Record<string, unknown>> = { ...scalarResolvers };
  const loaders: Record<string, Record<string, unknown>> = {};
  for (const module of modules) {
    for (const [type, fields] of Object.entries(module.resolvers)) {
      resolvers[type] = { ...resolvers[type], ...(fields as Record<string, unknown>) };
    }
    for (const [type, fields] of Object.entries(module.loaders ?? {})) {
      loaders[type] = { ...loaders[type], ...fields };
    }
  }
  return {
    typeDefs: [baseTypeDefs, ...modules.map((module) => module.typeDefs)].join('\n'),
    resolvers,
    loaders,
  };
}
