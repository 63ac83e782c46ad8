import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import type { ActorRecord } from '../../db/schema/index.js';
import {
  ForbiddenScopeError,
  OnBehalfOfNotAllowedError,
  UnauthenticatedError,
  ValidationError,
} from '../../lib/errors.js';
import { hasScope, type Scope } from '../../modules/tenancy/scopes.js';
import type { AuthContext, TenancyService } from '../../modules/tenancy/tenancy.service.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs. Routes without one (health, docs) are public. */
    scope?: Scope;
    /**
     * The route needs an API key but checks scopes per operation itself (GraphQL). A WebSocket
     * upgrade to it carries the key in its first message (graphql-ws `connection_init`) instead.
     */
    scopePerOperation?: boolean;
  }
  interface FastifyRequest {
    /** The caller (API key or access token); set on every route that declares a scope or checks scopes per operation. */
    auth: AuthContext | null;
  }
}

/**
 * Header naming the person a calling system acts for (an agent in the CRM); recorded as the actor.
 * Only API keys holding `actors:impersonate` may send it (onBehalfOfRefusal).
 */
export const ON_BEHALF_OF_HEADER = 'x-on-behalf-of';

/** The authenticated caller of a scoped route; throws if called on a public route. */
export function requireAuth(request: FastifyRequest): AuthContext {
  if (!request.auth) throw new UnauthenticatedError('This operation requires an API key or access token.');
  return request.auth;
}

/** The X-On-Behalf-Of value sent, trimmed, or null when none (or only blanks) was. */
function onBehalfOfValue(header: unknown): string | null {
  return typeof header === 'string' && header.trim() !== '' ? header.trim() : null;
}

/**
 * Why this caller may not send this X-On-Behalf-Of, or null when it may: a person signed in with
 * a token always acts as themselves, and a key names someone else only with `actors:impersonate`.
 */
export function onBehalfOfRefusal(auth: AuthContext, header: unknown): Error | null {
  if (onBehalfOfValue(header) === null) return null;
  if (auth.kind === 'access_token') return new OnBehalfOfNotAllowedError();
  return hasScope(auth.scopes, 'actors:impersonate') ? null : new ForbiddenScopeError('actors:impersonate');
}

/** The actor of what a caller does: a person as themselves, a key acting for X-On-Behalf-Of if sent. */
export function actorFor(auth: AuthContext, header: unknown): ActorRecord {
  if (auth.kind === 'access_token') return auth.actor;
  return { ...auth.actor, onBehalfOf: onBehalfOfValue(header) };
}

/** The actor recorded on the timeline for what this request does. */
export function actorOf(request: FastifyRequest): ActorRecord {
  return actorFor(requireAuth(request), request.headers[ON_BEHALF_OF_HEADER]);
}

/**
 * Authenticates `Authorization: Bearer` API keys and access tokens, and enforces each route's
 * scope and who may send X-On-Behalf-Of, before anything else runs.
 */
export const authPlugin = fp(
  async (app: FastifyInstance, options: { tenancy: TenancyService }) => {
    app.decorateRequest('auth', null);
    app.addHook('onRequest', async (request) => {
      const { scope: required, scopePerOperation } = request.routeOptions.config;
      if (!required && !scopePerOperation) return;
      // Node marks a request `upgrade` only on its upgrade path; the WebSocket GET route answers it
      // with a socket or not at all, never with the HTTP handler. Resolvers check the key anyway.
      if (scopePerOperation && request.method === 'GET' && (request.raw as { upgrade?: boolean }).upgrade)
        return;
      const auth = await options.tenancy.authenticate(request.headers.authorization);
      request.auth = auth;
      // The request's own logger (reply.log is the same one), so every later line names the
      // caller; adding bindings costs half of what a further child logger would.
      (request.log as Logger).setBindings(
        auth.kind === 'api_key'
          ? { tenantId: auth.tenantId, keyPrefix: auth.apiKeyPrefix }
          : { tenantId: auth.tenantId, identityProviderId: auth.identityProviderId },
      );
      if (required && !hasScope(auth.scopes, required)) throw new ForbiddenScopeError(required);
      const onBehalfOf = request.headers[ON_BEHALF_OF_HEADER];
      if (onBehalfOf !== undefined && (typeof onBehalfOf !== 'string' || onBehalfOf.length > 200)) {
        throw new ValidationError([
          {
            field: `headers.${ON_BEHALF_OF_HEADER}`,
            message: 'must be a single value of at most 200 characters',
          },
        ]);
      }
      const refusal = onBehalfOfRefusal(auth, onBehalfOf);
      if (refusal) throw refusal;
    });
  },
  { name: 'redress-auth', dependencies: ['redress-errors'] },
);
