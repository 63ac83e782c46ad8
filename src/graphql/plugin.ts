import ajvCompiler from '@fastify/ajv-compiler';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import fp from 'fastify-plugin';
import { GraphQLError, type GraphQLFieldResolver, parse, specifiedRules, validate } from 'graphql';
import mercurius from 'mercurius';
import { toAppError } from '../http/plugins/errors.js';
import { AppError, GraphqlValidationError } from '../lib/errors.js';
import { calendarsGraphql } from '../modules/calendars/calendars.resolvers.js';
import { complaintsGraphql } from '../modules/complaints/complaints.resolvers.js';
import { dataSubjectsGraphql } from '../modules/data-subjects/data-subjects.resolvers.js';
import { deadlinesGraphql } from '../modules/deadlines/deadlines.resolvers.js';
import { escalationsGraphql } from '../modules/escalations/escalations.resolvers.js';
import { eventsGraphql } from '../modules/events/events.resolvers.js';
import type { LiveEvents, LiveEventsLink } from '../modules/events/live-events.js';
import { followUpsGraphql } from '../modules/follow-ups/follow-ups.resolvers.js';
import { identityGraphql } from '../modules/identity/identity.resolvers.js';
import { majorComplaintsGraphql } from '../modules/major-complaints/major-complaints.resolvers.js';
import { ownershipGraphql } from '../modules/ownership/ownership.resolvers.js';
import { personalDataGraphql } from '../modules/personal-data/personal-data.resolvers.js';
import { promisesGraphql } from '../modules/promises/promises.resolvers.js';
import { regulatoryRegimesGraphql } from '../modules/regulatory-regimes/regulatory-regimes.resolvers.js';
import { replyTemplatesGraphql } from '../modules/reply-templates/reply-templates.resolvers.js';
import { reportsGraphql } from '../modules/reports/reports.resolvers.js';
import { resolutionsGraphql } from '../modules/resolutions/resolutions.resolvers.js';
import { settingsGraphql } from '../modules/settings/settings.resolvers.js';
import { slaPoliciesGraphql } from '../modules/sla-policies/sla-policies.resolvers.js';
import { surveysGraphql } from '../modules/surveys/surveys.resolvers.js';
import { tenancyGraphql } from '../modules/tenancy/tenancy.resolvers.js';
import type { TenancyService } from '../modules/tenancy/tenancy.service.js';
import { timelineIntegrityGraphql } from '../modules/timeline-integrity/timeline-integrity.resolvers.js';
import { webhooksGraphql } from '../modules/webhooks/webhooks.resolvers.js';
import type { Services } from '../services.js';
import type { GraphQLContext } from './context.js';
import { extensionsOf, formatGraphqlErrors, graphqlErrorOf } from './errors.js';
import { enforceCost, enforceSubscriptionCost } from './limits.js';
import { mergeModules } from './schema.js';

export interface GraphqlOptions {
  services: Pick<
    Services,
    | 'complaints'
    | 'deadlines'
    | 'escalations'
    | 'webhooks'
    | 'webhookReplays'
    | 'settings'
    | 'idempotency'
    | 'tenancy'
    | 'identity'
    | 'policies'
    | 'calendars'
    | 'ownership'
    | 'majorComplaints'
    | 'timelineIntegrity'
    | 'dataSubjects'
    | 'regulatoryRegimes'
    | 'resolutions'
    | 'promises'
    | 'surveys'
    | 'followUps'
    | 'templates'
    | 'reports'
  >;
  /** Where relayed events arrive; the same Redis channels in every API process. */
  liveEvents: { emitter: LiveEvents; topicFor(tenantId: string): string; link: LiveEventsLink };
  /** Counts the subscriptions listening for live events, for /metrics. */
  liveSubscriptions?: { inc(): void; dec(): void };
  /** GraphiQL at /graphiql, outside production. */
  graphiql: boolean;
  maxDepth: number;
  maxCost: number;
}

/** Every module's GraphQL: SDL, resolvers and loaders, merged. */
export function graphqlSchema(
  options: Pick<GraphqlOptions, 'services' | 'liveEvents' | 'liveSubscriptions'>,
) {
  const { services } = options;
  return mergeModules([
    complaintsGraphql({ complaints: services.complaints, idempotency: services.idempotency }),
    deadlinesGraphql({ deadlines: services.deadlines }),
    escalationsGraphql({ escalations: services.escalations, idempotency: services.idempotency }),
    resolutionsGraphql({
      resolutions: services.resolutions,
      complaints: services.complaints,
      idempotency: services.idempotency,
    }),
    promisesGraphql({ promises: services.promises, idempotency: services.idempotency }),
    surveysGraphql({ surveys: services.surveys, idempotency: services.idempotency }),
    eventsGraphql({
      complaints: services.complaints,
      tenancy: services.tenancy,
      topicFor: options.liveEvents.topicFor,
      link: options.liveEvents.link,
      listening: options.liveSubscriptions,
    }),
    webhooksGraphql({
      webhooks: services.webhooks,
      replays: services.webhookReplays,
      idempotency: services.idempotency,
    }),
    settingsGraphql({ settings: services.settings }),
    slaPoliciesGraphql({ policies: services.policies }),
    regulatoryRegimesGraphql({ regimes: services.regulatoryRegimes }),
    calendarsGraphql({ calendars: services.calendars }),
    tenancyGraphql({ tenancy: services.tenancy }),
    identityGraphql({ identity: services.identity }),
    ownershipGraphql({ ownership: services.ownership }),
    majorComplaintsGraphql({ majorComplaints: services.majorComplaints }),
    timelineIntegrityGraphql({ timelineIntegrity: services.timelineIntegrity }),
    dataSubjectsGraphql({ dataSubjects: services.dataSubjects }),
    followUpsGraphql({ followUps: services.followUps, idempotency: services.idempotency }),
    replyTemplatesGraphql({ templates: services.templates }),
    reportsGraphql({ reports: services.reports }),
    personalDataGraphql(),
  ]);
}

/**
 * The app compiles zod schemas; Mercurius's routes carry JSON Schema, so they get Fastify's own
 * default validator. Answers are plain JSON.stringify: its response schema would turn the numeric
 * indexes of an error's `path` into strings.
 */
const jsonSchemaValidator = ajvCompiler()(
  {},
  { customOptions: {} },
) as unknown as FastifySchemaCompiler<unknown>;
const plainJson = () => (data: unknown) => JSON.stringify(data);

/** The key a WebSocket connection sends in `connection_init`, checked as a REST request's header is. */
async function authenticateConnection(
  tenancy: TenancyService,
  payload: unknown,
): Promise<Pick<GraphQLContext, 'auth' | 'authError' | 'authorization'>> {
  const raw = (payload as { authorization?: unknown } | null | undefined)?.authorization;
  const authorization = typeof raw === 'string' && raw.length <= 1000 ? raw : undefined;
  try {
    return { auth: await tenancy.authenticate(authorization), authError: null, authorization };
  } catch (error) {
    // Acknowledged all the same, so each subscription learns why in an error with its code.
    return { auth: null, authError: toAppError(error), authorization };
  }
}

/**
 * Checks each subscription's cost as it starts, with its variables, before any event is heard:
 * a refusal reaches the subscriber as an error carrying `query_too_costly`.
 */
function pricedSubscriptions(resolvers: Record<string, unknown>, maxCost: number): void {
  const fields = (resolvers.Subscription ?? {}) as Record<
    string,
    { subscribe?: GraphQLFieldResolver<unknown, unknown> }
  >;
  for (const field of Object.values(fields)) {
    const subscribe = field.subscribe;
    if (!subscribe) continue;
    field.subscribe = (root, args, context, info) => {
      try {
        enforceSubscriptionCost(info, maxCost);
      } catch (error) {
        if (error instanceof AppError) throw graphqlErrorOf(error);
        throw error;
      }
      return subscribe(root, args, context, info);
    };
  }
}

/**
 * Mercurius reads a query that does not parse as GraphQL as a JSON syntax tree instead, so a query
 * that is JSON ("123", "null", a hand-made tree) reached validation as one and failed there with a
 * TypeError: a 500. Only GraphQL text is taken; anything else is refused as the syntax error it
 * is, in the shape Mercurius gives other refused documents. Valid JSON is never a GraphQL
 * document, and JSON.parse gives up on GraphQL text at its first token, so this costs nothing.
 */
async function onlyGraphqlText(request: FastifyRequest): Promise<void> {
  const carrier = (request.method === 'GET' ? request.query : request.body) as { query?: unknown } | null;
  const source = carrier?.query;
  if (source === undefined || source === null) return;
  const refusal = refusalOfQuery(source);
  if (refusal === null) return;
  throw Object.assign(new Error('refused document'), {
    errors: [new GraphQLError(refusal)],
    statusCode: 400,
  });
}

/** Why a query is no GraphQL text, or null when it may be (Mercurius parses it then). */
function refusalOfQuery(source: unknown): string | null {
  if (typeof source !== 'string') return 'The query must be a string of GraphQL.';
  try {
    JSON.parse(source);
  } catch {
    return null;
  }
  try {
    parse(source);
  } catch (error) {
    if (error instanceof GraphQLError) return error.message;
  }
  return 'The query is not GraphQL.';
}

/**
 * `/graphql` (HTTP and graphql-ws WebSocket) on Mercurius: the same keys, scopes and services as
 * REST, errors with REST's codes, loaders against N+1, depth and cost limits, JIT.
 */
export const graphqlPlugin = fp(
  async (app: FastifyInstance, options: GraphqlOptions) => {
    const { typeDefs, resolvers, loaders } = graphqlSchema(options);
    pricedSubscriptions(resolvers as Record<string, unknown>, options.maxCost);
    await app.register(mercurius, {
      schema: typeDefs,
      resolvers: resolvers as never,
      loaders: loaders as never,
      graphiql: options.graphiql,
      // Compiled after a query's first run; the parsed and validated document is cached too.
      jit: 1,
      queryDepth: options.maxDepth,
      errorFormatter: formatGraphqlErrors as never,
      context: (request: FastifyRequest, reply: FastifyReply): GraphQLContext => ({
        auth: request.auth,
        request,
        reply,
      }),
      // The auth plugin checks the key over HTTP; each field checks the scope it needs.
      additionalRouteOptions: {
        config: { scopePerOperation: true },
        preValidation: onlyGraphqlText,
        // Answers are one caller's data, and some carry a secret shown once (createApiKey,
        // createWebhook, rotateWebhookSecret): no cache may keep them, as REST says for those.
        onSend: (
          _request: FastifyRequest,
          reply: FastifyReply,
          payload: unknown,
          done: (err: null, payload: unknown) => void,
        ) => {
          reply.header('cache-control', 'no-store');
          done(null, payload);
        },
        validatorCompiler: jsonSchemaValidator,
        serializerCompiler: plainJson,
      },
      subscription: {
        emitter: options.liveEvents.emitter,
        keepAlive: 25_000,
        // The socket, so a subscription can end its connection when a backing service is lost.
        context: (socket: GraphQLContext['socket'], request: FastifyRequest) => ({ request, socket }),
        onConnect: async (message: { payload?: unknown }) =>
          authenticateConnection(options.services.tenancy, message.payload),
      },
    });

    app.graphql.addHook('preExecution', async (schema, document, _context, variables) => {
      enforceCost(schema, document, variables as Record<string, unknown> | undefined, options.maxCost);
    });

    // graphql-js does not validate subscription documents by itself, and subscription errors skip
    // the formatter: check here and throw errors that already carry their code.
    app.graphql.addHook('preSubscriptionExecution', async (schema, document) => {
      const [problem] = validate(schema, document, specifiedRules);
      if (problem) {
        const refusal = new GraphqlValidationError({ detail: problem.message });
        throw new GraphQLError(problem.message, {
          nodes: problem.nodes,
          originalError: refusal,
          extensions: extensionsOf(refusal),
        });
      }
      // The cost is checked in each subscribe resolver (pricedSubscriptions), where the
      // variables are known: Mercurius does not hand them to this hook.
    });
  },
  { name: 'redress-graphql', dependencies: ['redress-auth'] },
);
