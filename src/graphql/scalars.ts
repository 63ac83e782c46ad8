import { GraphQLJSON, GraphQLJSONObject } from 'graphql-scalars';

/** SDL of the scalars every module's types use. */
export const scalarTypeDefs = /* GraphQL */ `
  """
  An RFC 3339 date-time with a zone offset, as the REST API writes and reads them
  (2026-11-25T08:00:00.000Z). Inputs are checked like REST's: a bad one is \`validation_failed\`.
  """
  scalar DateTime @specifiedBy(url: "https://scalars.graphql.org/andimarek/date-time")
  "Any JSON value."
  scalar JSON
  "A JSON object."
  scalar JSONObject
`;

const passString = (value: unknown): string => {
  if (typeof value !== 'string') throw new TypeError('DateTime must be a string');
  return value;
};

/**
 * DateTime travels as the ISO string the views already hold; inputs stay strings for the same
 * zod check (`instantSchema`) the REST routes run, so a bad date names its field like REST does.
 */
export const scalarResolvers = {
  DateTime: {
    serialize: passString,
    parseValue: passString,
    parseLiteral: (ast: { kind: string; value?: string }) => {
      if (ast.kind !== 'StringValue' || ast.value === undefined)
        throw new TypeError('DateTime must be a string');
      return ast.value;
    },
  },
  JSON: coercionOf(GraphQLJSON),
  JSONObject: coercionOf(GraphQLJSONObject),
};

/** The coercion functions of a library scalar, leaving the SDL's own name and description. */
function coercionOf(scalar: typeof GraphQLJSON) {
  return {
    serialize: scalar.serialize.bind(scalar),
    parseValue: scalar.parseValue.bind(scalar),
    parseLiteral: scalar.parseLiteral.bind(scalar),
  };
}
