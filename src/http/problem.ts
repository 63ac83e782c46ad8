import { z } from 'zod';

/** RFC 9457 problem document, as every Redress error is rendered. */
export const problemSchema = z
  .object({
    type: z.string().describe('URI naming the problem type; stable per `code`.'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().describe('Stable machine-readable error code.'),
    requestId: z.string(),
    instance: z.string().optional(),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .describe('For validation errors: each bad field and what is wrong with it.'),
  })
  .catchall(z.unknown())
  .meta({ id: 'Problem' });

export type Problem = z.infer<typeof problemSchema>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Base of every problem `type` URI; the code is appended. */
export const PROBLEM_TYPE_BASE = 'https://redress.dev/problems/';

const descriptions: Record<number, string> = {
  400: 'Invalid request (validation_failed, malformed_json, invalid_cursor).',
  401: 'Missing, unknown, expired or revoked API key (unauthenticated); an access token that does not verify (invalid_token) or has expired (token_expired), with `WWW-Authenticate: Bearer error="invalid_token"`.',
  403: 'The API key or access token lacks the scope this operation needs (insufficient_scope; `actors:impersonate` for X-On-Behalf-Of), or an access token sent X-On-Behalf-Of (on_behalf_of_not_allowed).',
  404: 'No such resource for this tenant (not_found), or no such endpoint (route_not_found).',
  409: 'Conflict with the current state (see `code`).',
  412: 'If-Match does not match the current ETag (precondition_failed).',
  413: 'Request body too large (payload_too_large).',
  415: 'Unsupported Content-Type (unsupported_media_type), or a body in a Content-Encoding other than identity (unsupported_content_encoding; the answer carries Accept-Encoding: identity).',
  422: 'A well-formed request the rules refuse (see `code`): idempotency_key_reused, webhook_url_refused, template_variable_missing, unknown_role, approver_not_authorised, approval_limit_unreachable, pre_refund_over_limit, approver_is_proposer.',
  428: 'If-Match header required (precondition_required).',
  429: 'Rate limit exceeded; see Retry-After (rate_limited).',
  503: "Retry after Retry-After. service_unavailable: PostgreSQL or Redis cannot be reached (`service` names which), an identity provider's signing keys cannot be fetched, or the database is behind; a write answered so was committed whole or not at all, so send it again with the same Idempotency-Key. concurrent_change: nothing was written. report_timed_out: a report cut off at the time reports are given.",
};

/**
 * Response schemas for the error statuses a route can answer with, for the OpenAPI contract.
 * Every route with a key can answer 503: the key is looked up in PostgreSQL.
 */
export function problemResponses<const S extends number>(...statuses: S[]) {
  const all = [...new Set([400, 401, 403, 429, 503, ...statuses])].sort();
  return Object.fromEntries(
    all.map((status) => [
      status,
      {
        description: descriptions[status] ?? 'Error',
        content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } },
      },
    ]),
  ) as Record<
    400 | 401 | 403 | 429 | 503 | S,
    { description: string; content: { 'application/problem+json': { schema: typeof problemSchema } } }
  >;
}
