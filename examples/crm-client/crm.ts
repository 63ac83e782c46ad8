/**
 * What a CRM does with Redress, written against a client generated from openapi.yaml with
 * openapi-typescript's defaults (`npm run client:check` generates it into ./generated and
 * type-checks this file). It is never run in CI; it shows that the contract's types carry a real
 * integration: take a complaint in safely, list a work queue, edit with If-Match, move the status
 * on and record a call; and take its events, typed per event type.
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './generated/redress.js';

type Problem = components['schemas']['Problem'];

const redress = createClient<paths>({
  baseUrl: 'https://redress.example.com',
  headers: { authorization: 'Bearer rdk_example' },
});

/** Names a refusal by its stable code, the way a CRM maps errors to its own messages. */
function explain(problem: Problem): string {
  switch (problem.code) {
    case 'precondition_failed':
      return `Someone else changed it; the current ETag is ${problem.currentEtag ?? 'unknown'}.`;
    case 'invalid_transition':
      return `Allowed next: ${(problem.allowedTransitions ?? []).join(', ')}.`;
    case 'external_ref_conflict':
      return `Already taken in as ${problem.existingComplaint?.reference ?? 'another complaint'}.`;
    default:
      return problem.detail;
  }
}

export async function handleCall(ticketId: string, agent: string): Promise<void> {
  // 1. Take the complaint in. The key makes a retry after a timeout return the same complaint;
  //    severity, priority and the other defaulted fields may be left out.
  const created = await redress.POST('/v1/complaints', {
    params: { header: { 'idempotency-key': `crm-ticket-${ticketId}`, 'x-on-behalf-of': agent } },
    body: {
      channel: 'phone',
      subject: 'Lift stopped between floors',
      description: 'The customer was stuck for 40 minutes on Saturday.',
      customer: { name: 'Ada Lovelace', phone: '+44 20 7946 0000', externalId: `crm-${ticketId}` },
      externalRef: ticketId,
    },
  });
  if (created.error) throw new Error(explain(created.error));
  const complaint = created.data;
  let etag = created.response.headers.get('etag') ?? '';
  const replayed = created.response.headers.get('idempotent-replayed') === 'true';
  console.log(`${replayed ? 'Already had' : 'Took in'} ${complaint.reference} (${complaint.status})`);

  // 2. The agent's work queue: open complaints from the phone and the web, newest first.
  const queue = await redress.GET('/v1/complaints', {
    params: { query: { status: ['received', 'acknowledged'], channel: ['phone', 'web'], limit: 20 } },
  });
  if (queue.error) throw new Error(explain(queue.error));
  for (const item of queue.data.data) console.log(item.reference, item.status, item.nextDeadline?.dueAt);

  // 3. Edit with a JSON Merge Patch, guarded by the ETag last read: If-Match is required.
  const edited = await redress.PATCH('/v1/complaints/{id}', {
    params: { path: { id: complaint.id }, header: { 'if-match': etag } },
    headers: { 'content-type': 'application/merge-patch+json' },
    body: { priority: 'high', category: null },
  });
  if (edited.error) throw new Error(explain(edited.error));
  etag = edited.response.headers.get('etag') ?? etag;

  // 4. Move the status on.
  const moved = await redress.POST('/v1/complaints/{id}/transitions', {
    params: {
      path: { id: complaint.id },
      header: { 'idempotency-key': `crm-ticket-${ticketId}-investigate` },
    },
    body: { to: 'investigating' },
  });
  if (moved.error) throw new Error(explain(moved.error));

  // 5. Record the call back to the customer.
  const call = await redress.POST('/v1/complaints/{id}/communications', {
    params: { path: { id: complaint.id }, header: { 'idempotency-key': `crm-ticket-${ticketId}-call-1` } },
    body: {
      direction: 'outbound',
      channel: 'phone',
      body: 'Called back: an engineer visits on Monday.',
      contactMade: true,
    },
  });
  if (call.error) throw new Error(explain(call.error));

  // 6. Read it again only if it changed: 304 while the ETag still matches.
  const again = await redress.GET('/v1/complaints/{id}', {
    params: { path: { id: complaint.id }, header: { 'if-none-match': etag } },
  });
  console.log(again.response.status === 304 ? 'unchanged' : `now ${again.data?.status}`);
  console.log(`rate limit left: ${again.response.headers.get('x-ratelimit-remaining')}`);
}

type RedressEvent = components['schemas']['Event'];

/**
 * A webhook receiver's handler (after verifying the signature): each event type's `data` is typed
 * by openapi.yaml's per-type envelope, so narrowing on `type` is all a CRM needs.
 */
export function onEvent(event: RedressEvent): string {
  switch (event.type) {
    case 'deadline.breached':
      return `${event.data.reference}: the ${event.data.deadline.kind} deadline was due ${event.data.deadline.dueAt}`;
    case 'complaint.status_changed':
      return `${event.data.reference}: ${event.data.from} → ${event.data.to}`;
    case 'webhook.ping':
      return `ping for ${event.data.webhook.url}`;
    default:
      return event.type;
  }
}
