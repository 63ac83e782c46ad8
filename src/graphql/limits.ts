import { type DocumentNode, type GraphQLSchema, Kind } from 'graphql';
import { directiveEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { QueryTooCostlyError } from '../lib/errors.js';

const estimators = [directiveEstimator({ name: 'complexity' }), simpleEstimator({ defaultComplexity: 1 })];

/**
 * The cost of the costliest operation in a document, by the `@complexity` of its fields (page
 * sizes multiply what a page selects). Every operation is counted, since which one runs is only
 * known later.
 */
export function queryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> = {},
): number {
  let highest = 0;
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const cost = getComplexity({
      schema,
      query: document,
      variables,
      estimators,
      ...(definition.name ? { operationName: definition.name.value } : {}),
    });
    highest = Math.max(highest, cost);
  }
  return highest;
}

/** Refuses a document costlier than `maxCost` before anything runs. */
export function enforceCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  maxCost: number,
): void {
  const cost = queryCost(schema, document, variables);
  if (cost > maxCost) throw new QueryTooCostlyError(cost, maxCost);
}
