import type { FastifyBaseLogger } from 'fastify';
import { GraphQLError } from 'graphql';
import { toAppError } from '../http/plugins/errors.js';
import {
  AppError,
  type FieldProblem,
  GraphqlValidationError,
  QueryTooDeepError,
  ValidationError,
} from '../lib/errors.js';

/** What a GraphQL error carries in `extensions`: the REST `code`, its HTTP status and the problem's extras. */
export interface ErrorExtensions {
  code: string;
  status: number;
  [extra: string]: unknown;
}

/**
 * Field names as a GraphQL caller sent them: services name REST's `body.x`, GraphQL calls it
 * `input.x`; REST's query string (`querystring.x`, as reports name theirs) is GraphQL's `args.x`.
 */
function graphqlField(problem: FieldProblem): FieldProblem {
  const field = problem.field.replace(/^body(?=\.|$)/, 'input').replace(/^querystring(?=\.|$)/, 'args');
  return { ...problem, field };
}

/** The `extensions` of an AppError: the same code and extras as its problem+json document. */
export function extensionsOf(error: AppError): ErrorExtensions {
  const extras =
    error instanceof ValidationError ? { errors: error.errors.map(graphqlField) } : error.extensions;
  return { ...extras, code: error.code, status: error.status };
}

/**
 * A GraphQL error for an AppError. Resolvers may throw AppErrors as REST handlers do; paths that
 * skip the error formatter (subscriptions) throw this instead so the code still reaches the caller.
 */
export function graphqlErrorOf(error: AppError): GraphQLError {
  return new GraphQLError(error.detail, { originalError: error, extensions: extensionsOf(error) });
}

const DEPTH_MESSAGE = /depth \((\d+)\) exceeds the query depth limit of (\d+)/;

/**
 * The AppError behind a GraphQL error: what a resolver threw, a document Mercurius refused, or
 * anything else (a defect), which becomes internal_error and keeps its message to the log.
 */
function appErrorBehind(error: GraphQLError | Error): AppError {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth += 1) {
    if (current instanceof AppError) return current;
    const code = (current as { code?: unknown }).code;
    if (code === 'MER_ERR_GQL_QUERY_DEPTH') {
      const [, depthFound, max] = DEPTH_MESSAGE.exec((current as Error).message) ?? [];
      return new QueryTooDeepError(Number(depthFound), Number(max));
    }
    // A GraphQLError with no original error is the document's fault: syntax, unknown field, bad variable.
    if (current instanceof GraphQLError && !current.originalError) {
      return new GraphqlValidationError({ detail: current.message });
    }
    if (code === 'MER_ERR_GQL_VALIDATION' || code === 'MER_ERR_METHOD_NOT_ALLOWED') {
      return new GraphqlValidationError({ detail: (current as Error).message });
    }
    current = (current as { originalError?: unknown; cause?: unknown }).originalError;
  }
  return toAppError(error instanceof GraphQLError ? (error.originalError ?? error) : error);
}

/** One GraphQL error as the caller sees it: message, location, path, and `extensions` with the code. */
function formatOne(error: GraphQLError | Error, context: FormatterContext, refusedDocument: boolean) {
  const log = context.reply?.request.log ?? context.app.log;
  const behind = appErrorBehind(error);
  // Whatever Mercurius reports as its refusal of the document is the document's fault.
  const appError =
    refusedDocument && behind.status >= 500 ? new GraphqlValidationError({ detail: error.message }) : behind;
  // Retry-After and WWW-Authenticate mean the same here as on REST answers.
  for (const [name, value] of Object.entries(appError.headers)) context.reply?.header?.(name, value);
  if (appError.status >= 500) {
    log.error({ err: error, code: appError.code }, 'graphql operation failed');
  } else {
    // The code and status only, as on REST: graphql-js quotes refused input values in its messages.
    log.warn({ code: appError.code, status: appError.status }, 'graphql refused');
  }
  const located = error instanceof GraphQLError ? error : undefined;
  return {
    message: appError.detail,
    ...(located?.locations ? { locations: located.locations } : {}),
    ...(located?.path ? { path: located.path } : {}),
    extensions: extensionsOf(appError),
  };
}

interface FormatterContext {
  reply?: { request: { log: FastifyBaseLogger }; header?(name: string, value: string): unknown };
  app: { log: FastifyBaseLogger };
}

/**
 * Mercurius's error formatter: every error carries the REST `code` and status in `extensions`,
 * never a stack. The HTTP status is 200 when there is data to go with the errors (GraphQL over
 * HTTP), otherwise the status of the first error: 401 without a key, 400 for a bad document. An
 * operation that got nothing because a backing service cannot be reached (every top-level field
 * null, an error `service_unavailable`) answers 503 with Retry-After, as REST does, so clients
 * and proxies that retry on 503 retry it.
 */
export function formatGraphqlErrors(
  execution: { data?: unknown; errors?: ReadonlyArray<GraphQLError | Error> },
  context: FormatterContext,
) {
  const errors = (execution.errors ?? []).flatMap((error) => {
    // Mercurius wraps every refusal of the document (syntax, validation, depth) in one error.
    const nested = (error as GraphQLError).originalError as { errors?: unknown } | undefined;
    const refusedDocument = !!nested && !(nested instanceof AppError) && Array.isArray(nested.errors);
    const inner = refusedDocument ? (nested.errors as Array<GraphQLError | Error>) : [error];
    return inner.map((one) => formatOne(one, context, refusedDocument));
  });
  const data = execution.data ?? null;
  const outage = errors.find((error) => error.extensions.code === 'service_unavailable');
  const statusCode =
    outage && nothingIn(data)
      ? outage.extensions.status
      : data !== null
        ? 200
        : (errors[0]?.extensions.status ?? 500);
  return { statusCode, response: { data, errors } };
}

/** Whether an operation's `data` holds no answer at all: null, or null in every top-level field. */
function nothingIn(data: unknown): boolean {
  return data === null || (typeof data === 'object' && Object.values(data).every((field) => field === null));
}
