/**
 * What the route schemas alone do not say about the HTTP exchange, added to the generated OpenAPI
 * document in one place: the response headers each answer carries, which conditional headers are
 * required, the media types a body is taken in, and `security` on every operation. Each rule is
 * keyed by what a route does (its scope, `idempotent`, the headers it `sends`, its method and
 * statuses), so a new route is described correctly without copying anything.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Headers the route's handler sets on its successful answers, declared in the contract. */
    sends?: readonly SentHeader[];
  }
}

/** Headers a handler may set itself; the rest are set by plugins for every route alike. */
export type SentHeader = 'etag' | 'location' | 'cache-control' | 'content-disposition';

type Json = Record<string, unknown>;

const header = (description: string, schema: Json): Json => ({ description, schema });

/** Every response header Redress sends, as `components.headers`; operations refer to these. */
export const RESPONSE_HEADERS = {
  'X-Request-Id': header(
    'The id of this request, also in problem documents and logs: the caller’s own `X-Request-Id` when it sent a sane one.',
    { type: 'string', maxLength: 128 },
  ),
  ETag: header(
    'Strong entity tag of the resource as answered. Send it back in `If-Match` to change the resource, or in `If-None-Match` to read it again only if it changed.',
    { type: 'string', maxLength: 100 },
  ),
  Location: header('URL of the resource the request created (201), or of the operation it started (202).', {
    type: 'string',
    format: 'uri-reference',
  }),
  'Idempotent-Replayed': header(
    'Present (`true`) when this is the stored answer of an earlier request with the same `Idempotency-Key`.',
    { type: 'string', enum: ['true'] },
  ),
  'Retry-After': header('Seconds to wait before retrying.', { type: 'integer', minimum: 0 }),
  'X-RateLimit-Limit': header('Requests the API key may make in the current window.', {
    type: 'integer',
    minimum: 0,
  }),
  'X-RateLimit-Remaining': header('Requests the API key has left in the current window.', {
    type: 'integer',
    minimum: 0,
  }),
  'X-RateLimit-Reset': header('Seconds until the current window ends and the budget is renewed.', {
    type: 'integer',
    minimum: 0,
  }),
  'WWW-Authenticate': header('The authentication scheme to use: `Bearer realm="redress"`.', {
    type: 'string',
  }),
  'Accept-Encoding': header('The content codings a request body may have: only `identity`.', {
    type: 'string',
  }),
  'Cache-Control': header('`no-store`: the answer holds a secret or changes with every read.', {
    type: 'string',
  }),
  'Content-Disposition': header('Names the file the answer is meant to be saved as.', { type: 'string' }),
} as const;

type HeaderName = keyof typeof RESPONSE_HEADERS;

const SENT_HEADER_NAMES: Record<SentHeader, HeaderName> = {
  etag: 'ETag',
  location: 'Location',
  'cache-control': 'Cache-Control',
  'content-disposition': 'Content-Disposition',
};

/** What the contract needs to know about a route beyond its schema. */
export interface RouteFacts {
  method: string;
  secured: boolean;
  idempotent: boolean;
  sends: readonly SentHeader[];
}

/** Statuses whose answers an `Idempotency-Key` stores and replays (after the key is claimed). */
const REPLAYABLE = /^(2\d\d|404|409|412|422|428)$/;

/** The response headers of one answer of an operation. */
function headersOf(facts: RouteFacts, status: string): HeaderName[] {
  const names: HeaderName[] = ['X-Request-Id'];
  const success = /^2\d\d$/.test(status) || status === '304';
  // @fastify/rate-limit counts every request that carries a valid key, refused ones too.
  if (facts.secured && status !== '401') {
    names.push('X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset');
  }
  if (status === '429' || status === '503' || (status === '409' && facts.idempotent))
    names.push('Retry-After');
  if (status === '401') names.push('WWW-Authenticate');
  if (status === '415') names.push('Accept-Encoding');
  if (facts.idempotent && REPLAYABLE.test(status)) names.push('Idempotent-Replayed');
  if (success) {
    for (const sent of facts.sends) {
      // Location names what a 201 created, or where to follow what a 202 started.
      if (sent === 'location' && status !== '201' && status !== '202') continue;
      if (sent !== 'etag' && status === '304') continue;
      names.push(SENT_HEADER_NAMES[sent]);
    }
  }
  return names;
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

interface Operation {
  operationId?: string;
  description?: string;
  parameters?: Json[];
  requestBody?: { content?: Record<string, unknown> };
  responses?: Record<string, Json>;
  security?: unknown[];
}

/** Adds headers, conditional requests, media types and `security` to every operation. */
export function completeOperations(document: Json, factsByOperation: ReadonlyMap<string, RouteFacts>): void {
  document.components = {
    ...(document.components as Json),
    headers: Object.fromEntries(Object.entries(RESPONSE_HEADERS)),
  };
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const pathItem of Object.values(paths)) {
    for (const [method, operation] of Object.entries(pathItem)) {
      if (!HTTP_METHODS.has(method)) continue;
      const facts = (operation.operationId && factsByOperation.get(operation.operationId)) || {
        method: method.toUpperCase(),
        secured: false,
        idempotent: false,
        sends: [],
      };
      // Public routes (health, metrics) say so, rather than leaving it to a reader to guess.
      operation.security ??= [];
      operation.responses ??= {};
      const responses = operation.responses;
      if (method === 'get' && facts.sends.includes('etag')) {
        operation.parameters = [
          ...(operation.parameters ?? []),
          {
            name: 'if-none-match',
            in: 'header',
            required: false,
            description:
              'An ETag read earlier (or several, comma-separated, or `*`): when it still matches, the answer is 304 with no body.',
            schema: { type: 'string', maxLength: 1000 },
          },
        ];
        responses['304'] = { description: 'Not modified: `If-None-Match` matches the current ETag.' };
      }
      if (responses['428']) {
        for (const parameter of operation.parameters ?? []) {
          if (parameter.in === 'header' && parameter.name === 'if-match') {
            parameter.required = true;
            parameter.description =
              'The ETag last read (`*` for any): 428 without it, 412 when the resource changed since.';
          }
        }
      }
      const content = operation.requestBody?.content;
      const json = content?.['application/json'];
      if (method === 'patch' && content && json) content['application/merge-patch+json'] = json;
      for (const [status, response] of Object.entries(responses)) {
        response.headers = {
          ...(response.headers as Json | undefined),
          ...Object.fromEntries(
            headersOf(facts, status).map((name) => [name, { $ref: `#/components/headers/${name}` }]),
          ),
        };
      }
    }
  }
}

const SCHEMA_REF = '#/components/schemas/';

/** Every `$ref` to a schema component in a value, by component name. */
function schemaRefs(value: unknown, found: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) schemaRefs(item, found);
  } else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string' && child.startsWith(SCHEMA_REF)) {
        found.add(child.slice(SCHEMA_REF.length));
      } else {
        schemaRefs(child, found);
      }
    }
  }
  return found;
}

/** A copy of a value with schema `$ref`s renamed. */
function renameRefs(value: unknown, rename: (name: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => renameRefs(item, rename));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) =>
        key === '$ref' && typeof child === 'string' && child.startsWith(SCHEMA_REF)
          ? [key, `${SCHEMA_REF}${rename(child.slice(SCHEMA_REF.length))}`]
          : [key, renameRefs(child, rename)],
      ),
    );
  }
  return value;
}

const INPUT_SUFFIX = 'Input';

/**
 * A request schema whose optional fields state their default in words instead of `default`.
 * openapi-typescript (at its defaults) makes every property with a `default` required in a
 * component, as answers always carry it; in a request such a field may be left out, and the
 * server fills it in.
 */
function defaultsAsWords(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(defaultsAsWords);
  if (!schema || typeof schema !== 'object') return schema;
  const copy = Object.fromEntries(
    Object.entries(schema).map(([key, child]) => [key, defaultsAsWords(child)]),
  ) as Json;
  const properties = copy.properties as Record<string, Json> | undefined;
  if (properties && typeof properties === 'object') {
    const required = new Set((copy.required as string[] | undefined) ?? []);
    for (const [name, property] of Object.entries(properties)) {
      if (required.has(name) || !property || typeof property !== 'object' || !('default' in property))
        continue;
      const { default: value, ...rest } = property;
      const words = `Defaults to \`${JSON.stringify(value)}\`.`;
      properties[name] = { ...rest, description: rest.description ? `${rest.description} ${words}` : words };
    }
  }
  return copy;
}

/**
 * One schema component per shape, each used. fastify-type-provider-zod registers every named zod
 * schema twice, as the request body reads it (`FooInput`) and as answers show it (`Foo`). Where
 * the two are the same they become one `Foo`; where only one is used it keeps the plain name; where
 * both are used and differ (defaults make request fields optional) both stay, the request one
 * named `FooInput`. Unused components are dropped, so nobody picks a schema no operation has.
 */
export function tidySchemas(document: Json): void {
  const components = document.components as Json | undefined;
  let schemas = (components?.schemas ?? {}) as Record<string, unknown>;
  const merged = new Map<string, string>();
  // Merging a nested twin can make its parents identical too: repeat until nothing changes.
  for (let changed = true; changed; ) {
    changed = false;
    for (const name of Object.keys(schemas)) {
      if (!name.endsWith(INPUT_SUFFIX)) continue;
      const plain = name.slice(0, -INPUT_SUFFIX.length);
      if (!(plain in schemas)) continue;
      const rename = (ref: string) => (merged.has(ref) ? (merged.get(ref) as string) : ref);
      const asInput = JSON.stringify(renameRefs(schemas[name], (ref) => rename(ref)));
      const asOutput = JSON.stringify(renameRefs(schemas[plain], (ref) => rename(ref)));
      if (asInput !== asOutput) continue;
      merged.set(name, plain);
      delete schemas[name];
      changed = true;
    }
    if (changed) {
      const rename = (ref: string) => merged.get(ref) ?? ref;
      schemas = renameRefs(schemas, rename) as Record<string, unknown>;
      for (const key of ['paths', 'webhooks'] as const) {
        if (document[key]) document[key] = renameRefs(document[key], rename);
      }
    }
  }
  // Keep what operations and webhooks reach, following references between schemas.
  const used = new Set<string>();
  const pending = [...schemaRefs(document.paths), ...schemaRefs(document.webhooks)];
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (used.has(name)) continue;
    used.add(name);
    pending.push(...schemaRefs(schemas[name]));
  }
  schemas = Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name)));
  const plainNames = new Map<string, string>();
  for (const name of Object.keys(schemas)) {
    if (!name.endsWith(INPUT_SUFFIX)) continue;
    const plain = name.slice(0, -INPUT_SUFFIX.length);
    schemas[name] = defaultsAsWords(schemas[name]);
    if (plain in schemas) {
      const schema = schemas[name] as Json;
      schema.description ??= `The ${plain} as a request sends it: fields with a default may be left out.`;
    } else {
      // A request schema with no answer twin left takes the plain name.
      plainNames.set(name, plain);
    }
  }
  if (plainNames.size > 0) {
    const rename = (ref: string) => plainNames.get(ref) ?? ref;
    schemas = Object.fromEntries(
      Object.entries(renameRefs(schemas, rename) as Record<string, unknown>).map(([name, schema]) => [
        rename(name),
        schema,
      ]),
    );
    for (const key of ['paths', 'webhooks'] as const) {
      if (document[key]) document[key] = renameRefs(document[key], rename);
    }
  }
  if (components) components.schemas = schemas;
}
