import { type DocumentNode, type GraphQLResolveInfo, type GraphQLSchema, Kind } from 'graphql';
import {
  type ComplexityEstimator,
  directiveEstimator,
  getComplexity,
  simpleEstimator,
} from 'graphql-query-complexity';
import { QueryTooCostlyError } from '../lib/errors.js';

/** The largest page any connection serves (`first`). */
const MAX_PAGE_SIZE = 100;

/**
 * The `@complexity` estimator, with page sizes taken as the resolvers will take them: within
 * 1–100, and 100 when null. The estimator multiplies by the raw argument, and the library clamps
 * a selection's total at zero, so one sibling field with `first: -1000000` cancelled the cost of
 * every other field beside it; the resolvers refuse that page size only once the rest has run.
 */
const complexityDirective = directiveEstimator({ name: 'complexity' });
const pageSizesAsServed: ComplexityEstimator = (options) =>
  complexityDirective({
    ...options,
    args: Object.fromEntries(
      Object.entries(options.args).map(([name, value]) => [
        name,
        value === null
          ? MAX_PAGE_SIZE
          : typeof value === 'number'
            ? Math.min(MAX_PAGE_SIZE, Math.max(1, value))
            : value,
      ]),
    ),
  });

const estimators = [pageSizesAsServed, simpleEstimator({ defaultComplexity: 1 })];

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

/**
 * Refuses a subscription costlier than `maxCost`, from inside its `subscribe` resolver: Mercurius
 * gives the hooks before it no variables, and a page size passed as a variable went unpriced
 * there, so five hundred aliased timelines went out as a 104 MB message for every event.
 */
export function enforceSubscriptionCost(info: GraphQLResolveInfo, maxCost: number): void {
  const document: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [info.operation, ...Object.values(info.fragments)],
  };
  enforceCost(info.schema, document, info.variableValues, maxCost);
}
