import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  communicationListSchema,
  communicationSchema,
  complaintPageSchema,
  complaintSchema,
  type TimelineEntryView,
  timelinePageSchema,
} from '../../modules/complaints/complaints.schemas.js';
import type { EventEnvelope } from '../../modules/events/event-envelope.js';
import { feedPageSchema } from '../../modules/events/events.schemas.js';
import {
  maskCommunication,
  maskComplaint,
  maskEvent,
  maskTimelineEntry,
  seesPersonalData,
} from '../../modules/personal-data/personal-fields.js';

type Masker = (body: unknown) => unknown;

/** A page of records (`{ data: [...] }`) with each record masked. */
const pageOf =
  (mask: Masker): Masker =>
  (body) => {
    const page = body as { data?: unknown };
    return Array.isArray(page.data) ? { ...page, data: page.data.map(mask) } : body;
  };

/**
 * The answers that carry personal data, known by their response schema, and how each is masked:
 * a route that answers with one of these schemas is masked without saying so.
 */
const MASKERS = new Map<unknown, Masker>([
  [complaintSchema, maskComplaint],
  [complaintPageSchema, pageOf(maskComplaint)],
  [communicationSchema, maskCommunication],
  [communicationListSchema, pageOf(maskCommunication)],
  [timelinePageSchema, pageOf((entry) => maskTimelineEntry(entry as TimelineEntryView))],
  [feedPageSchema, pageOf((event) => maskEvent(event as EventEnvelope))],
]);

/** A route's hooks of one kind as a list, however the route declared them. */
function hookList<T>(hooks: T | T[] | undefined): T[] {
  if (hooks === undefined) return [];
  return Array.isArray(hooks) ? hooks : [hooks];
}

/**
 * Masks the personal data of answers to callers without `personal_data:read`
 * (src/modules/personal-data/). It works on the serialised answer, after the idempotency plugin
 * has stored it: a stored answer stays whole, and each replay is masked for the caller that gets
 * it, so a retry by a key without the scope never reads what the first caller could. Registered
 * after the idempotency plugin, so its hook runs after the one that stores the answer.
 */
export const personalDataPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRoute', (route) => {
      const responses = (route.schema?.response ?? {}) as Record<string, unknown>;
      const maskers = new Map<number, Masker>();
      for (const [status, schema] of Object.entries(responses)) {
        const masker = MASKERS.get(schema);
        if (masker) maskers.set(Number(status), masker);
      }
      if (maskers.size === 0) return;
      const mask = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
        // Masked unless the caller is known to hold the scope.
        if (request.auth && seesPersonalData(request.auth.scopes)) return payload;
        const masker = maskers.get(reply.statusCode);
        if (!masker || typeof payload !== 'string' || payload === '') return payload;
        return JSON.stringify(masker(JSON.parse(payload)));
      };
      route.onSend = [...hookList(route.onSend), mask];
    });
  },
  { name: 'redress-personal-data', dependencies: ['redress-auth', 'redress-idempotency'] },
);
