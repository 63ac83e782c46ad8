import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireAuth } from '../../http/plugins/auth.js';
import { problemResponses } from '../../http/problem.js';
import { bearerSecurity, resourceUrl } from '../../http/route-helpers.js';
import { etagForVersion } from '../../lib/etag.js';
import {
  createPolicyBody,
  policyFromRegimeBody,
  policyIdParams,
  policyListSchema,
  policySchema,
  previewBody,
  previewSchema,
  toPolicyView,
  updatePolicyBody,
} from './sla-policies.schemas.js';
import type { SlaPoliciesService } from './sla-policies.service.js';

const tags = ['sla-policies'];

/** SLA policies (scope `policies:manage`): versioned targets that set each complaint's deadlines. */
export const slaPoliciesRoutes: FastifyPluginAsyncZod<{
  policies: SlaPoliciesService;
  publicBaseUrl?: string;
}> = async (app, { policies, publicBaseUrl }) => {
  app.post(
    '/v1/sla-policies',
    {
      config: { scope: 'policies:manage', sends: ['location', 'etag'] },
      schema: {
        operationId: 'createSlaPolicy',
        summary: 'Create an SLA policy',
        description:
          'Among active policies whose `match` fits a complaint, the lowest `priority` wins; the default ' +
          'policy applies when none does. Targets left out take the defaults.',
        tags,
        security: bearerSecurity,
        body: createPolicyBody,
        response: { 201: policySchema, ...problemResponses(413, 415) },
      },
    },
    async (request, reply) => {
      const row = await policies.create(requireAuth(request).tenantId, request.body);
      return reply
        .code(201)
        .header('location', resourceUrl(publicBaseUrl, `/v1/sla-policies/${row.id}`))
        .header('etag', etagForVersion(row.version))
        .send(toPolicyView(row));
    },
  );

  app.post(
    '/v1/sla-policies/from-regime',
    {
      config: { scope: 'policies:manage', sends: ['location', 'etag'] },
      schema: {
        operationId: 'createSlaPolicyFromRegime',
        summary: 'Apply a regulatory template',
        description:
          'Creates an SLA policy whose targets are the clocks of a regime of GET /v1/regulatory-regimes, for the ' +
          'categories or channels of `match`; the policy remembers the regime, which says how its deadlines may be ' +
          'extended. A regime counting business or working days needs `calendarId`.',
        tags,
        security: bearerSecurity,
        body: policyFromRegimeBody,
        response: { 201: policySchema, ...problemResponses(413, 415) },
      },
    },
    async (request, reply) => {
      const row = await policies.createFromRegime(requireAuth(request).tenantId, request.body);
      return reply
        .code(201)
        .header('location', resourceUrl(publicBaseUrl, `/v1/sla-policies/${row.id}`))
        .header('etag', etagForVersion(row.version))
        .send(toPolicyView(row));
    },
  );

  app.get(
    '/v1/sla-policies',
    {
      config: { scope: 'policies:manage' },
      schema: {
        operationId: 'listSlaPolicies',
        summary: 'List SLA policies',
        description: "The tenant's SLA policies in their current versions.",
        tags,
        security: bearerSecurity,
        response: { 200: policyListSchema, ...problemResponses() },
      },
    },
    async (request) => ({ data: (await policies.list(requireAuth(request).tenantId)).map(toPolicyView) }),
  );

  app.get(
    '/v1/sla-policies/:id',
    {
      config: { scope: 'policies:manage', sends: ['etag'] },
      schema: {
        operationId: 'getSlaPolicy',
        summary: 'Get an SLA policy (its current version)',
        description: 'The current version of an SLA policy, with its `ETag` for `If-Match` on changes.',
        tags,
        security: bearerSecurity,
        params: policyIdParams,
        response: { 200: policySchema, ...problemResponses(404) },
      },
    },
    async (request, reply) => {
      const row = await policies.get(requireAuth(request).tenantId, request.params.id);
      return reply.header('etag', etagForVersion(row.version)).send(toPolicyView(row));
    },
  );

  app.patch(
    '/v1/sla-policies/:id',
    {
      config: { scope: 'policies:manage', sends: ['etag'] },
      schema: {
        operationId: 'updateSlaPolicy',
        summary: 'Change an SLA policy (writes a new version)',
        description:
          'Requires If-Match. The change applies to deadlines created afterwards; each deadline keeps the policy ' +
          'id and version it came from.',
        tags,
        security: bearerSecurity,
        params: policyIdParams,
        headers: z.object({ 'if-match': z.string().max(1000).optional() }),
        body: updatePolicyBody,
        response: { 200: policySchema, ...problemResponses(404, 409, 412, 413, 415, 428) },
      },
    },
    async (request, reply) => {
      const row = await policies.update(
        requireAuth(request).tenantId,
        request.params.id,
        request.headers['if-match'],
        request.body,
      );
      return reply.header('etag', etagForVersion(row.version)).send(toPolicyView(row));
    },
  );

  app.post(
    '/v1/sla-policies/:id/preview',
    {
      config: { scope: 'policies:manage' },
      schema: {
        operationId: 'previewSlaPolicy',
        summary: 'The deadlines this policy would set',
        description: 'Lets a CRM show due times before it creates anything.',
        tags,
        security: bearerSecurity,
        params: policyIdParams,
        body: previewBody,
        response: { 200: previewSchema, ...problemResponses(404, 413, 415) },
      },
    },
    async (request) => {
      const { policy, planned } = await policies.preview(
        requireAuth(request).tenantId,
        request.params.id,
        request.body,
      );
      return {
        policyId: policy.id,
        policyVersion: policy.version,
        deadlines: planned.map((deadline) => ({
          kind: deadline.kind,
          clock: deadline.clock,
          duration: deadline.duration,
          startsAt: deadline.startsAt.toISOString(),
          dueAt: deadline.dueAt.toISOString(),
          warnAts: deadline.warnAts.map((date) => date.toISOString()),
        })),
      };
    },
  );
};
