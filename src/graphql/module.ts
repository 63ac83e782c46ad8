import type { IResolvers, MercuriusLoaders } from 'mercurius';
import type { GraphQLContext } from './context.js';

/** What each domain module adds to the GraphQL API: its SDL, resolvers and batch loaders. */
export interface GraphqlModule {
  typeDefs: string;
  // biome-ignore lint/suspicious/noExplicitAny: resolver parents differ per type
  resolvers: IResolvers<any, GraphQLContext>;
  loaders?: MercuriusLoaders<GraphQLContext>;
}

/** `enum Name { a b c }` from the values the code and database already use, so they cannot drift. */
export function enumSdl(name: string, values: readonly string[], description?: string): string {
  const doc = description ? `"${description}"\n` : '';
  return `${doc}enum ${name} { ${values.join(' ')} }`;
}

/** A connection's page: REST's `nextCursor` is `endCursor`, present exactly when there is more. */
export function pageInfo(nextCursor: string | null) {
  return { hasNextPage: nextCursor !== null, endCursor: nextCursor };
}
