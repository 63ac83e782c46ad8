import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { idempotencyOf } from '../../http/plugins/idempotency.js';
import { problemResponses } from '../../http/problem.js';
import {
  actingContext,
  actingHeaders,
  bearerSecurity,
  idempotentWriteHeaders,
  resourceUrl,
} from '../../http/route-helpers.js';
import { complaintKeyParams } from '../complaints/complaints.schemas.js';
import { toPromiseView } from './promise-views.js';
import {
  keepPromiseBody,
  makePromiseBody,
  promiseListSchema,
  promiseParams,
  promiseSchema,
  withdrawPromiseBody,
} from './promises.schemas.js';
import type { PromisesService } from './promises.service.js';

const tags = ['promises'];

/** Promises to the customer: thin handlers over PromisesService. */
export const promisesRoutes: FastifyPluginAsyncZod<{
  promises: PromisesService;
  publicBaseUrl?: string;
}> = async (app, { promises, publicBaseUrl }) => {
  app.post(
    '/v1/complaints/:id/promises',
    {
      config: { scope: 'complaints:write', idempotent: true, sends: ['location'] },
      schema: {
        operationId: 'makePromise',
        summary: 'Record a promise made to the customer',
        description:
          'Every promise tracked (seeds 000, 002): what was promised and by when (`dueAt`, in the future). It ' +
          'becomes a `promise` deadline due then, listed in the work queue (`GET /v1/deadlines?kind=promise`): ' +
          'kept by `…/kept`, withdrawn with a reason by `…/withdrawal`, or broken when the worker finds it due unmet ' +
          '(`deadline.breached`, which escalates like any breach). A finished complaint takes no new promise ' +
          '(409 `complaint_finished`); one made before stays owed whatever becomes of the complaint.',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        headers: idempotentWriteHeaders,
        body: makePromiseBody,
        response: { 201: promiseSchema, ...problemResponses(404, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const made = await promises.make(
        actingContext(request),
        request.params.id,
        request.body,
        idempotencyOf(request),
      );
      return reply
        .code(201)
        .header(
          'location',
          resourceUrl(
            publicBaseUrl,
            `/v1/complaints/${made.promise.complaintId}/promises/${made.promise.id}`,
          ),
        )
        .send(toPromiseView(made));
    },
  );

  app.get(
    '/v1/complaints/:id/promises',
    {
      config: { scope: 'complaints:read' },
      schema: {
        operationId: 'listPromises',
        summary: 'The promises made to the customer of a complaint',
        description: 'Every promise of the complaint in the order made, open and settled, with its deadline.',
        tags,
        security: bearerSecurity,
        params: complaintKeyParams,
        response: { 200: promiseListSchema, ...problemResponses(404) },
      },
    },
    async (request) => ({
      data: (await promises.list(actingContext(request), request.params.id)).map(toPromiseView),
    }),
  );

  app.get(
    '/v1/complaints/:id/promises/:promiseId',
    {
      config: { scope: 'complaints:read' },
      schema: {
        operationId: 'getPromise',
        summary: 'A promise made to the customer',
        description: 'One promise of the complaint, with its status and deadline.',
        tags,
        security: bearerSecurity,
        params: promiseParams,
        response: { 200: promiseSchema, ...problemResponses(404) },
      },
    },
    async (request) =>
      toPromiseView(await promises.get(actingContext(request), request.params.id, request.params.promiseId)),
  );

  app.post(
    '/v1/complaints/:id/promises/:promiseId/kept',
    {
      config: { scope: 'complaints:write' },
      schema: {
        operationId: 'keepPromise',
        summary: 'Record that a promise was kept',
        description:
          'Meets the promise’s deadline. A broken promise may still be kept: it is met late and its breach still ' +
          'counts (`keptLate`). One kept or withdrawn already is 409 `promise_not_open`.',
        tags,
        security: bearerSecurity,
        params: promiseParams,
        headers: actingHeaders,
        body: keepPromiseBody,
        response: { 200: promiseSchema, ...problemResponses(404, 409, 413, 415) },
      },
    },
    async (request) =>
      toPromiseView(
        await promises.keep(
          actingContext(request),
          request.params.id,
          request.params.promiseId,
          request.body,
        ),
      ),
  );

  app.post(
    '/v1/complaints/:id/promises/:promiseId/withdrawal',
    {
      config: { scope: 'complaints:write' },
      schema: {
        operationId: 'withdrawPromise',
        summary: 'Withdraw a promise, with the reason',
        description:
          'Cancels the open promise’s deadline and records why. Only an open promise can be withdrawn: one kept, ' +
          'broken or withdrawn already is 409 `promise_not_open`.',
        tags,
        security: bearerSecurity,
        params: promiseParams,
        headers: actingHeaders,
        body: withdrawPromiseBody,
        response: { 200: promiseSchema, ...problemResponses(404, 409, 413, 415) },
      },
    },
    async (request) =>
      toPromiseView(
        await promises.withdraw(
          actingContext(request),
          request.params.id,
          request.params.promiseId,
          request.body,
        ),
      ),
  );
};
