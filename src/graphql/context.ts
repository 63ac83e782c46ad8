import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { actorFor, ON_BEHALF_OF_HEADER } from '../http/plugins/auth.js';
import { unstorableText } from '../http/plugins/input-hygiene.js';
import { type AppError, ForbiddenScopeError, UnauthenticatedError, ValidationError } from '../lib/errors.js';
import { etagForVersion } from '../lib/etag.js';
import { unreachableMessage } from '../lib/unreachable.js';
import type { ActingContext } from '../modules/complaints/complaints.service.js';
import { hasScope, type Scope } from '../modules/tenancy/scopes.js';
import type { AuthContext } from '../modules/tenancy/tenancy.service.js';

/**
 * What every resolver and loader receives. Over HTTP the key was checked by the auth plugin as on
 * REST routes; over WebSocket it was checked in `connection_init` (`authError` says why not).
 */
export interface GraphQLContext {
  auth: AuthContext | null;
  /** Why a WebSocket connection has no key, reported on its first subscription. */
  authError?: AppError | null;
  /** The `Authorization` value a WebSocket connection sent, checked again for each event. */
  authorization?: string;
  /** The HTTP request (for a WebSocket, the upgrade request). */
  request?: FastifyRequest;
  reply?: FastifyReply;
  /** Mercurius's per-subscription pub/sub (subscriptions only). */
  pubsub?: { subscribe(topic: string): Promise<SubscriptionQueue> };
  /** The WebSocket a subscription runs on (subscriptions only). */
  socket?: { close(code: number, reason: string): void };
}

/**
 * WebSocket close code 1013, Try Again Later (IANA's WebSocket close code registry): a
 * graphql-ws client takes it as a reason to reconnect, not as a refusal.
 */
export const TRY_AGAIN_LATER = 1013;

/**
 * Ends a subscription's WebSocket because a service it needs cannot be reached: a clean close
 * with code 1013 and the reason, `service_unavailable: Redis cannot be reached`. Every
 * subscription of the connection ends with it; once reconnected, a client reads what it missed
 * from the feed. False when the operation has no socket: the caller throws the error instead.
 */
export function closeForOutage(context: GraphQLContext, error: AppError): boolean {
  if (!context.socket) return false;
  const service = error.extensions.service;
  const reason =
    service === 'postgres' || service === 'redis'
      ? `${error.code}: ${unreachableMessage(service)}`
      : error.code;
  context.socket.close(TRY_AGAIN_LATER, reason);
  return true;
}

/** What Mercurius's pub/sub hands a subscription to read its topic from: a readable stream. */
export interface SubscriptionQueue {
  iterator(options: { destroyOnReturn: boolean }): AsyncIterable<unknown>;
}

/** The caller's key, if it holds `scope`; throws unauthenticated or insufficient_scope as REST does. */
export function requireScope(context: GraphQLContext, scope: Scope): AuthContext {
  if (!context.auth) {
    throw (
      context.authError ??
      new UnauthenticatedError('Send your API key or access token as `Authorization: Bearer <key or token>`.')
    );
  }
  if (!hasScope(context.auth.scopes, scope)) throw new ForbiddenScopeError(scope);
  return context.auth;
}

/** Tenant and actor of a write, as services take them: the person, or the key acting for `X-On-Behalf-Of` if sent. */
export function actingContextOf(context: GraphQLContext, scope: Scope): ActingContext {
  const auth = requireScope(context, scope);
  // Over HTTP the auth plugin refused an X-On-Behalf-Of this caller may not send.
  return { tenantId: auth.tenantId, actor: actorFor(auth, context.request?.headers[ON_BEHALF_OF_HEADER]) };
}

/**
 * Parses resolver arguments with the same zod schema the REST route uses. Problems are
 * validation_failed naming the argument path (`input.customer.email`), like REST names `body.…`.
 */
export function parseArgs<S extends z.ZodType>(schema: S, value: unknown, name: string): z.output<S> {
  const unstorable = unstorableText(value, name);
  if (unstorable.length > 0) throw new ValidationError(unstorable);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ValidationError(
      parsed.error.issues.map((issue) => ({
        field: [name, ...issue.path.map(String)].join('.'),
        message: issue.message,
      })),
    );
  }
  return parsed.data;
}

/** The ETag a `version` argument stands for, for services that take If-Match. */
export const etagOfVersion = (version: number | null | undefined): string | undefined =>
  version === null || version === undefined ? undefined : etagForVersion(version);

/**
 * An input with every null left out, for documents where null means "not given" (a replaced
 * calendar, a preview), so the REST schema's defaults apply as when REST leaves a field out.
 */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, child]) => child !== null)
      .map(([key, child]) => [key, withoutNulls(child)]),
  );
}

/**
 * An input object with its null fields left out, one level deep: for inputs whose nested values
 * are free JSON (template variables, metadata) that must reach the REST schema unchanged.
 */
export function withoutNullFields(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, child]) => child !== null));
}
