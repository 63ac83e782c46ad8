import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireAuth } from '../../http/plugins/auth.js';
import { problemResponses } from '../../http/problem.js';
import { bearerSecurity, resourceUrl } from '../../http/route-helpers.js';
import { etagForVersion } from '../../lib/etag.js';
import { seesPersonalData } from '../personal-data/personal-fields.js';
import {
  createTemplateBody,
  listTemplatesQuery,
  renderedTemplateSchema,
  renderTemplateBody,
  templateIdParams,
  templateListSchema,
  templateSchema,
  toTemplateView,
  updateTemplateBody,
} from './reply-templates.schemas.js';
import type { ReplyTemplatesService } from './reply-templates.service.js';

const tags = ['reply-templates'];

/** Reply templates: managed with `policies:manage`, read and rendered by handlers with `complaints:read`. */
export const replyTemplatesRoutes: FastifyPluginAsyncZod<{
  templates: ReplyTemplatesService;
  publicBaseUrl?: string;
}> = async (app, { templates, publicBaseUrl }) => {
  app.post(
    '/v1/reply-templates',
    {
      config: { scope: 'policies:manage', sends: ['location', 'etag'] },
      schema: {
        operationId: 'createReplyTemplate',
        summary: 'Create a reply template',
        description:
          'One template per `key` and `locale` (409 `reply_template_exists` for a second). `subject` and `body` ' +
          'are Handlebars; a template that does not compile, or uses a helper other than if/unless/each/with, is 400.',
        tags,
        security: bearerSecurity,
        body: createTemplateBody,
        response: { 201: templateSchema, ...problemResponses(409, 413, 415) },
      },
    },
    async (request, reply) => {
      const row = await templates.create(requireAuth(request).tenantId, request.body);
      return reply
        .code(201)
        .header('location', resourceUrl(publicBaseUrl, `/v1/reply-templates/${row.id}`))
        .header('etag', etagForVersion(row.version))
        .send(toTemplateView(row));
    },
  );

  app.get(
    '/v1/reply-templates',
    {
      config: { scope: 'complaints:read' },
      schema: {
        operationId: 'listReplyTemplates',
        summary: 'List reply templates, by key and locale',
        description: "The tenant's reply templates, filtered by `key` and `locale`.",
        tags,
        security: bearerSecurity,
        querystring: listTemplatesQuery,
        response: { 200: templateListSchema, ...problemResponses() },
      },
    },
    async (request) => ({
      data: (await templates.list(requireAuth(request).tenantId, request.query)).map(toTemplateView),
    }),
  );

  app.get(
    '/v1/reply-templates/:id',
    {
      config: { scope: 'complaints:read', sends: ['etag'] },
      schema: {
        operationId: 'getReplyTemplate',
        summary: 'Get a reply template',
        description: 'One reply template with its `ETag`, for `If-Match` on changes.',
        tags,
        security: bearerSecurity,
        params: templateIdParams,
        response: { 200: templateSchema, ...problemResponses(404) },
      },
    },
    async (request, reply) => {
      const row = await templates.get(requireAuth(request).tenantId, request.params.id);
      return reply.header('etag', etagForVersion(row.version)).send(toTemplateView(row));
    },
  );

  app.patch(
    '/v1/reply-templates/:id',
    {
      config: { scope: 'policies:manage', sends: ['etag'] },
      schema: {
        operationId: 'updateReplyTemplate',
        summary: 'Change a reply template (a new version)',
        description: 'Requires `If-Match`. Communications keep the version they were written from.',
        tags,
        security: bearerSecurity,
        params: templateIdParams,
        headers: z.object({ 'if-match': z.string().max(1000).optional() }),
        body: updateTemplateBody,
        response: { 200: templateSchema, ...problemResponses(404, 412, 413, 415, 428) },
      },
    },
    async (request, reply) => {
      const row = await templates.update(
        requireAuth(request).tenantId,
        request.params.id,
        request.headers['if-match'],
        request.body,
      );
      return reply.header('etag', etagForVersion(row.version)).send(toTemplateView(row));
    },
  );

  app.delete(
    '/v1/reply-templates/:id',
    {
      config: { scope: 'policies:manage' },
      schema: {
        operationId: 'deleteReplyTemplate',
        summary: 'Delete a reply template',
        description: 'Deletes a reply template. Communications written from it keep their text.',
        tags,
        security: bearerSecurity,
        params: templateIdParams,
        response: { 204: z.undefined().describe('Deleted'), ...problemResponses(404) },
      },
    },
    async (request, reply) => {
      await templates.delete(requireAuth(request).tenantId, request.params.id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/v1/reply-templates/:id/render',
    {
      config: { scope: 'complaints:read' },
      schema: {
        operationId: 'renderReplyTemplate',
        summary: 'Render a reply template for a complaint',
        description:
          'Fills the template from the complaint (`reference`, `customer.*`, `nextDueAt` in the tenant time ' +
          'zone …) and `variables`. A variable with no value is 422 `template_variable_missing` naming it, never a blank. ' +
          'Without `personal_data:read`, the customer’s data and desired outcome are filled in masked.',
        tags,
        security: bearerSecurity,
        params: templateIdParams,
        body: renderTemplateBody,
        response: { 200: renderedTemplateSchema, ...problemResponses(404, 413, 415, 422) },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      return templates.render(auth.tenantId, request.params.id, request.body, seesPersonalData(auth.scopes));
    },
  );
};
