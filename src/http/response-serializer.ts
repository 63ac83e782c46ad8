import fastJsonStringify from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify/types/schema.js';
import { ResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { $ZodType, safeEncode } from 'zod/v4/core';

/** A route's response schema as Fastify hands it over: a zod type, or one under `properties`. */
type ResponseSchema = $ZodType | { properties: $ZodType };

function zodSchemaOf(schema: ResponseSchema, method: string, url: string): $ZodType {
  if (schema instanceof $ZodType) return schema;
  if (schema.properties instanceof $ZodType) return schema.properties;
  throw new TypeError(`${method} ${url}: a response schema is not a zod schema`);
}

/**
 * The JSON Schema fast-json-stringify writes a zod response schema's output by. The OpenAPI 3.0
 * dialect marks a field that may be null `nullable: true`, which fast-json-stringify writes
 * directly; the later dialects' `anyOf [X, null]` would make it try each branch with a validator.
 * An empty registry names no schema, so every part is inline and the schema stands alone.
 */
export function responseJsonSchema(schema: $ZodType): Record<string, unknown> {
  return discriminatedChains(
    z.toJSONSchema(schema, {
      io: 'output',
      target: 'openapi-3.0',
      unrepresentable: 'any',
      metadata: z.registry(),
    }),
  ) as Record<string, unknown>;
}

type JsonSchema = Record<string, unknown>;

/** The property every branch fixes to one value of its own (`type` of an event), if any. */
function discriminatorOf(branches: JsonSchema[]): string | undefined {
  const first = branches[0]?.properties as Record<string, JsonSchema> | undefined;
  return Object.keys(first ?? {}).find((name) =>
    branches.every((branch) => {
      const property = (branch.properties as Record<string, JsonSchema> | undefined)?.[name];
      return Array.isArray(property?.enum) && property.enum.length === 1;
    }),
  );
}

/**
 * A discriminated union (zod writes it as `oneOf`, as events are by `type`) as an if/then/else
 * chain on its discriminator. fast-json-stringify picks a `oneOf` branch by validating the whole
 * value against each branch with Ajv, which the OpenAPI 3.0 dialect's `nullable` defeats (no
 * branch matched a complaint with a null field) and which would cost a full validation per item;
 * the chain checks one property per branch. A value no branch names is written as it is.
 */
function discriminatedChains(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(discriminatedChains);
  if (!schema || typeof schema !== 'object') return schema;
  const node = Object.fromEntries(
    Object.entries(schema).map(([key, child]) => [key, discriminatedChains(child)]),
  ) as JsonSchema;
  const branches = node.oneOf as JsonSchema[] | undefined;
  const discriminator = Array.isArray(branches) ? discriminatorOf(branches) : undefined;
  if (!branches || !discriminator) return node;
  const { oneOf: _, ...rest } = node;
  const chain = branches.reduceRight<JsonSchema>((otherwise, branch) => {
    const value = ((branch.properties as Record<string, JsonSchema>)[discriminator]!.enum as unknown[])[0];
    return {
      if: { type: 'object', properties: { [discriminator]: { const: value } }, required: [discriminator] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else, never awaited
      then: branch,
      else: otherwise,
    };
  }, {});
  return { ...rest, ...chain };
}

/**
 * Writes each response body with fast-json-stringify, compiled once per route and status from
 * the route's zod response schema (which stays the contract: openapi.yaml is generated from it).
 * fastify-type-provider-zod's serializer instead checked every body against the schema with zod,
 * then wrote it with JSON.stringify: about a tenth of the API's CPU on a complaint read.
 *
 * With `validate`, each body is still checked and encoded by its zod schema first, and one that
 * does not match fails the request (ResponseSerializationError, a 500 that is logged) as before;
 * so does one that the writer writes otherwise than JSON.stringify did. Development and tests run
 * so: every answer the tests get goes through the writer production uses, held to the old one.
 * Without it (production), a body is written by the schema unchecked: a field of the wrong type
 * is converted to the schema's where it can be (a number where text is due) and fails the request
 * where it cannot, one the schema does not name is left out, and a missing required one fails.
 */
export function createResponseSerializerCompiler(options: {
  validate: boolean;
}): FastifySerializerCompiler<ResponseSchema> {
  return ({ schema, method, url }) => {
    const zodSchema = zodSchemaOf(schema, method, url);
    const write = fastJsonStringify(responseJsonSchema(zodSchema));
    if (!options.validate) return write;
    return (data) => {
      const result = safeEncode(zodSchema, data);
      if (result.error) throw new ResponseSerializationError(method, url, { cause: result.error });
      const written = write(result.data);
      // The answer as the zod serializer wrote it: every answer the tests get holds the writer to it.
      if (written !== JSON.stringify(result.data)) {
        throw new ResponseSerializationError(method, url, {
          cause: new z.ZodError([
            {
              code: 'custom',
              path: [],
              message: 'fast-json-stringify wrote it otherwise than JSON.stringify',
            },
          ]),
        });
      }
      return written;
    };
  };
}
