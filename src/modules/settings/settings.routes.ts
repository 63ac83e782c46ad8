import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireAuth } from '../../http/plugins/auth.js';
import { problemResponses } from '../../http/problem.js';
import { bearerSecurity } from '../../http/route-helpers.js';
import { etagForVersion } from '../../lib/etag.js';
import { workflowSettingsSchema } from './settings.schemas.js';
import type { SettingsService } from './settings.service.js';

const tags = ['settings'];

/** The tenant's workflow settings (scope `policies:manage`). */
export const settingsRoutes: FastifyPluginAsyncZod<{ settings: SettingsService }> = async (
  app,
  { settings },
) => {
  app.get(
    '/v1/settings/workflow',
    {
      config: { scope: 'policies:manage', sends: ['etag'] },
      schema: {
        operationId: 'getWorkflowSettings',
        summary: 'The workflow settings in force',
        description: 'Every field is present: those the tenant never set show their seed value.',
        tags,
        security: bearerSecurity,
        response: { 200: workflowSettingsSchema, ...problemResponses() },
      },
    },
    async (request, reply) => {
      const current = await settings.read(requireAuth(request).tenantId);
      return reply.header('etag', etagForVersion(current.version)).send(current.settings);
    },
  );

  app.put(
    '/v1/settings/workflow',
    {
      config: { scope: 'policies:manage', sends: ['etag'] },
      schema: {
        operationId: 'replaceWorkflowSettings',
        summary: 'Replace the workflow settings',
        description:
          'Send the whole document with `If-Match` (the ETag you read); fields left out go back to their seed value.',
        tags,
        security: bearerSecurity,
        headers: z.object({ 'if-match': z.string().max(200).optional() }),
        body: workflowSettingsSchema,
        response: { 200: workflowSettingsSchema, ...problemResponses(412, 413, 415, 428) },
      },
    },
    async (request, reply) => {
      const saved = await settings.replace(
        requireAuth(request).tenantId,
        request.headers['if-match'],
        request.body,
      );
      return reply.header('etag', etagForVersion(saved.version)).send(saved.settings);
    },
  );
};
