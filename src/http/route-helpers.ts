import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { actorOf, ON_BEHALF_OF_HEADER, requireAuth } from './plugins/auth.js';

/** OpenAPI security requirement of every authenticated route: an API key or an access token. */
export const bearerSecurity: Array<Record<string, string[]>> = [{ apiKey: [] }, { accessToken: [] }];

/** Headers every authenticated write accepts; documented once here. */
export const actingHeaders = z.object({
  [ON_BEHALF_OF_HEADER]: z
    .string()
    .max(200)
    .optional()
    .describe(
      'The person the calling system acts for (an agent), recorded as the actor on the timeline. API keys only, with the `actors:impersonate` scope (403 otherwise).',
    ),
});

/**
 * Headers of a write that honours `Idempotency-Key` (route config `idempotent: true`): the same
 * key and body replay the first answer, another body is 422, a retry while the first runs is 409.
 */
export const idempotentWriteHeaders = actingHeaders.extend({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe('Makes the request safe to retry: the same key and body replay the first answer; kept ≥ 24 h.'),
});

/** Tenant and actor of an authenticated request, as services take them. */
export function actingContext(request: FastifyRequest) {
  return { tenantId: requireAuth(request).tenantId, actor: actorOf(request) };
}

/** Absolute or root-relative URL of a resource, for Location headers. */
export function resourceUrl(publicBaseUrl: string | undefined, path: string): string {
  return publicBaseUrl ? new URL(path, publicBaseUrl).toString() : path;
}
