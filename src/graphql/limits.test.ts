import { buildSchema, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { QueryTooCostlyError } from '../lib/errors.js';
import { enforceCost, queryCost } from './limits.js';

const schema = buildSchema(`
  directive @complexity(value: Int!, multipliers: [String!]) on FIELD_DEFINITION
  type Item { id: ID! name: String children(first: Int = 10): [Item!]! @complexity(value: 1, multipliers: ["first"]) }
  type Query { items(first: Int = 25): [Item!]! @complexity(value: 2, multipliers: ["first"]) }
`);

describe('query cost', () => {
  it.each([
    ['{ items(first: 10) { id } }', (2 + 1) * 10],
    ['{ items(first: 10) { id name } }', (2 + 2) * 10],
    ['{ items { id } }', (2 + 1) * 25],
    ['{ items(first: 10) { children(first: 5) { id } } }', (2 + (1 + 1) * 5) * 10],
  ])('%s costs %i', (query, cost) => {
    expect(queryCost(schema, parse(query))).toBe(cost);
  });

  it('prices page sizes as the resolvers serve them, so a negative one cancels nothing', () => {
    const document = parse('{ big: items(first: 100) { id } sly: items(first: -1000000) { id } }');
    expect(queryCost(schema, document)).toBe(3 * 100 + 3 * 1);
    expect(queryCost(schema, parse('{ items(first: 1000) { id } }'))).toBe(3 * 100);
    expect(queryCost(schema, parse('{ items(first: null) { id } }'))).toBe(3 * 100);
  });

  it('takes page sizes from variables', () => {
    const document = parse('query ($n: Int!) { items(first: $n) { id } }');
    expect(queryCost(schema, document, { n: 4 })).toBe(12);
  });

  it('counts the costliest operation of a document, whichever runs', () => {
    const document = parse('query Big { items(first: 100) { id } } query Small { items(first: 1) { id } }');
    expect(queryCost(schema, document)).toBe(300);
    expect(() => enforceCost(schema, document, undefined, 299)).toThrow(QueryTooCostlyError);
    expect(() => enforceCost(schema, document, undefined, 300)).not.toThrow();
  });
});
