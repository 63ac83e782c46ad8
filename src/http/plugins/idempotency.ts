import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ValidationError } from '../../lib/errors.js';
import { unreachableService } from '../../lib/unreachable.js';
import {
  type IdempotencyService,
  requestFingerprint,
} from '../../modules/idempotency/idempotency.service.js';
import type { IdempotencyBinding } from '../../modules/idempotency/idempotency-binding.js';
import { requireAuth } from './auth.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route honours `Idempotency-Key`. */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    /** Set when the request carries an Idempotency-Key this request now holds. */
    idempotency: IdempotencyClaim | null;
  }
}

/** The key this request holds, and the resource an earlier attempt committed, if one did. */
export interface IdempotencyClaim extends IdempotencyBinding {
  tenantId: string;
}

/** What an Idempotency-Key may be: 1 to 255 visible ASCII characters. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
// Headers worth replaying with the stored body; the rest (date, request id…) belong to each answer.
const REPLAYED_HEADERS = ['content-type', 'location', 'etag'];

/** What a service needs to tie its transaction to the caller's Idempotency-Key. */
export function idempotencyOf(request: FastifyRequest): IdempotencyClaim | null {
  return request.idempotency;
}

/** A route's hooks of one kind as a list, however the route declared them. */
function hookList<T>(hooks: T | T[] | undefined): T[] {
  if (hooks === undefined) return [];
  return Array.isArray(hooks) ? hooks : [hooks];
}

/**
 * Idempotency-Key handling for the routes that opt in: the first request runs and its answer is
 * stored; the same key and body replays that answer; a different body is 422; a retry while the
 * first still runs is 409. Runs after validation, so refused bodies never claim a key.
 */
export const idempotencyPlugin = fp(
  async (app: FastifyInstance, options: { idempotency: IdempotencyService }) => {
    const service = options.idempotency;
    app.decorateRequest('idempotency', null);

    const claimKey = async (request: FastifyRequest, reply: FastifyReply) => {
      const header = request.headers['idempotency-key'];
      if (header === undefined) return;
      if (typeof header !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(header)) {
        throw new ValidationError([
          { field: 'headers.idempotency-key', message: 'must be 1 to 255 visible ASCII characters' },
        ]);
      }
      const { tenantId } = requireAuth(request);
      const fingerprint = requestFingerprint(
        request.method,
        request.routeOptions.url ?? request.url,
        request.params,
        request.body,
      );
      const outcome = await service.begin(tenantId, header, fingerprint);
      if (outcome.kind === 'replay') {
        reply.headers(outcome.headers).header('idempotent-replayed', 'true').code(outcome.status);
        return reply.serializer((payload: unknown) => String(payload)).send(outcome.body);
      }
      request.idempotency = {
        tenantId,
        key: header,
        recoveredResourceId: outcome.kind === 'recover' ? outcome.resourceId : null,
      };
    };

    const recordAnswer = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      const claim = request.idempotency;
      if (!claim) return payload;
      request.idempotency = null;
      // PostgreSQL may go away between the request's work and this: the answer stands all the
      // same, for what was done is done. The claim keeps its lease, which runs out, and a retry
      // then takes the key over, finding what the request bound to it (idempotency.service.ts).
      const leaseRunsOut = (error: unknown) => {
        if (!unreachableService(error)) throw error;
        request.log.warn({ err: error }, 'Idempotency-Key answer not stored; its lease will run out');
      };
      if (reply.statusCode >= 500) {
        await service.release(claim.tenantId, claim.key).catch(leaseRunsOut);
        return payload;
      }
      const headers: Record<string, string> = {};
      for (const name of REPLAYED_HEADERS) {
        const value = reply.getHeader(name);
        if (value !== undefined) headers[name] = String(value);
      }
      await service
        .complete(claim.tenantId, claim.key, {
          status: reply.statusCode,
          headers,
          body:
            typeof payload === 'string'
              ? payload
              : payload === null || payload === undefined
                ? ''
                : String(payload),
        })
        .catch(leaseRunsOut);
      return payload;
    };

    // Only routes that take an Idempotency-Key carry the hooks: every other request skips them.
    app.addHook('onRoute', (route) => {
      if (!route.config?.idempotent) return;
      route.preHandler = [...hookList(route.preHandler), claimKey];
      route.onSend = [...hookList(route.onSend), recordAnswer];
    });
  },
  { name: 'redress-idempotency', dependencies: ['redress-auth'] },
);
