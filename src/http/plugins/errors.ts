import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { sqlState } from '../../db/sql-errors.js';
import {
  AppError,
  ConcurrentChangeError,
  type FieldProblem,
  InternalError,
  MalformedJsonError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  RouteNotFoundError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../../lib/errors.js';
import { outageError } from '../../lib/unreachable.js';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, type Problem } from '../problem.js';

/** Renders any AppError as an RFC 9457 problem document. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  const problem: Problem = {
    type: `${PROBLEM_TYPE_BASE}${error.code}`,
    title: error.title,
    status: error.status,
    detail: error.detail,
    code: error.code,
    requestId: String(request.id),
    instance: request.url.length <= 2048 ? request.url : undefined,
    ...error.extensions,
  };
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply.code(error.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** Translates what Fastify, its plugins and zod throw into the AppError vocabulary. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const part = error.validationContext ?? 'request';
    const errors: FieldProblem[] = error.validation.map((issue) => {
      const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
      return { field: path ? `${part}.${path}` : part, message: issue.message ?? 'is invalid' };
    });
    return new ValidationError(errors);
  }
  const fastifyError = error as Partial<FastifyError>;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLargeError({ detail: 'The request body is larger than this API accepts.' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeError({
        detail: 'Send request bodies as application/json.',
      });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new MalformedJsonError({ detail: 'The body is empty but Content-Type says application/json.' });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new MalformedJsonError({ detail: `The body is not valid JSON: ${fastifyError.message}` });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new MalformedJsonError({ detail: 'Content-Length does not match the body sent.' });
  }
  // secure-json-parse throws a SyntaxError (status 400) for unparsable JSON and for
  // __proto__ / constructor.prototype keys, which are refused as a prototype-pollution guard.
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return new MalformedJsonError({ detail: `The body is not valid JSON: ${error.message}` });
  }
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new ValidationError([], fastifyError.message ?? 'Bad request');
  }
  // PostgreSQL or Redis cannot be reached: a 503 the caller retries, never a 500.
  const outage = outageError(error);
  if (outage) return outage;
  const fromDatabase = databaseErrorToAppError(error);
  if (fromDatabase) return fromDatabase;
  return new InternalError({ detail: 'An unexpected error occurred; it has been logged.', cause: error });
}

/**
 * Database failures a caller can act on. A deadlock or serialization failure between concurrent
 * requests is transient: 503 with Retry-After, since the request changed nothing. Everything else
 * stays a 500: it is a defect to be fixed, not the caller's fault.
 */
function databaseErrorToAppError(error: unknown): AppError | undefined {
  switch (sqlState(error)) {
    case '40P01': // deadlock_detected
    case '40001': // serialization_failure
    case '55P03': // lock_not_available
    // A row the request refers to, checked before writing, was deleted by a concurrent request
    // that committed in between: retrying gets the answer for how things stand now.
    case '23503': // foreign_key_violation
      return new ConcurrentChangeError({
        detail: 'The request collided with a concurrent change and was rolled back; retry it.',
        headers: { 'retry-after': '1' },
      });
    default:
      return undefined;
  }
}

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * The methods some route answers at this path. A request that reaches the not-found handler with
 * a path that other methods serve gets 405 with `Allow` (RFC 9110), so a client that sent PUT
 * where PATCH is meant learns that, not that the endpoint is missing. The router is asked with
 * the concrete path, as it matches requests; nothing here depends on a tenant's data.
 */
function methodsAnswering(app: FastifyInstance, path: string): string[] {
  return HTTP_METHODS.filter((method) => {
    try {
      // The CORS preflight route answers OPTIONS on every path (`*`): it says nothing of this one.
      const route = app.findRoute({ method, url: path });
      return route !== null && !(method === 'OPTIONS' && route.params['*'] !== undefined);
    } catch {
      return false;
    }
  });
}

/** One place where errors become problem+json: 4xx logged at warn, 5xx at error. */
export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error, request, reply) => {
      const appError = isResponseSerializationError(error)
        ? new InternalError({
            detail: 'The response could not be produced; it has been logged.',
            cause: error,
          })
        : toAppError(error);
      if (appError.status >= 500) {
        request.log.error({ err: error, code: appError.code }, 'request failed');
      } else {
        // The code and status only: a detail may quote what the caller sent or what the
        // complaint holds (a customer's name in a template that failed to render), and logs are
        // read by people with no business seeing either. The caller has the detail.
        request.log.warn({ code: appError.code, status: appError.status }, 'request refused');
      }
      return sendProblem(request, reply, appError);
    });

    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0] ?? request.url;
      const allowed = methodsAnswering(app, path);
      const error =
        allowed.length > 0
          ? new MethodNotAllowedError(request.method, path, allowed)
          : new RouteNotFoundError(request.method, path);
      request.log.warn({ code: error.code }, 'no such route');
      return sendProblem(request, reply, error);
    });
  },
  { name: 'redress-errors' },
);
