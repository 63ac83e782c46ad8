import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { actorOf, ON_BEHALF_OF_HEADER, requireAuth } from './plugins/auth.js';

/** OpenAPI security requirement of every API-key route. */
export const bearerSecurity = [{ apiKey: [] as string[] }];

/** Headers every authenticated write accepts; documented once here. */
export const actingHeaders = z.object({
  [ON_BEHALF_OF_HEADER]: z
    .string()
    .max(200)
    .optional()
    .describe('The person the calling system acts for (an agent), recorded as the actor on the timeline.'),
});

/** Tenant and actor of an authenticated request, as services take them. */
export function actingContext(request: FastifyRequest) {
  return { tenantId: requireAuth(request).tenantId, actor: actorOf(request) };
}

/** Absolute or root-relative URL of a resource, for Location headers. */
export function resourceUrl(publicBaseUrl: string | undefined, path: string): string {
  return publicBaseUrl ? new URL(path, publicBaseUrl).toString() : path;
}
