import { z } from 'zod';
import { ERROR_CODES } from '../lib/errors.js';
import { COMPLAINT_STATUSES } from '../modules/complaints/complaint-status.js';
import { SCOPES } from '../modules/tenancy/scopes.js';

const count = z.number().int().nonnegative();

/**
 * RFC 9457 problem document, as every Redress error is rendered. `code` is one of ERROR_CODES;
 * the members after `errors` are the extensions some codes add, each named in its description.
 */
export const problemSchema = z
  .object({
    type: z.string().describe('URI naming the problem type; stable per `code`.'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(ERROR_CODES).describe('Stable machine-readable error code.'),
    requestId: z.string(),
    instance: z.string().optional(),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .describe('For validation errors: each bad field and what is wrong with it.'),
    currentEtag: z.string().optional().describe('precondition_failed: the ETag the resource has now.'),
    currentStatus: z
      .string()
      .optional()
      .describe('The status of the complaint, resolution, follow-up or pre-refund that refused the change.'),
    allowedTransitions: z
      .array(z.enum(COMPLAINT_STATUSES))
      .optional()
      .describe('invalid_transition: the statuses the complaint may move to from `currentStatus`.'),
    existingComplaint: z
      .object({ id: z.uuid(), reference: z.string() })
      .nullable()
      .optional()
      .describe('external_ref_conflict: the complaint that already has this `externalRef`.'),
    requiredScope: z.enum(SCOPES).optional().describe('insufficient_scope: the scope the operation needs.'),
    allowedMethods: z
      .array(z.string())
      .optional()
      .describe('method_not_allowed: the methods the path answers.'),
    retryAfterSeconds: count.optional().describe('rate_limited: seconds until the key may call again.'),
    service: z
      .enum(['postgres', 'redis'])
      .optional()
      .describe('service_unavailable: the backing service that cannot be reached.'),
    reason: z.string().optional().describe('webhook_url_refused: why the URL is refused.'),
    calendarId: z.string().optional().describe('calendar_has_no_open_time: the calendar that is never open.'),
    variable: z.string().optional().describe('template_variable_missing: the variable that has no value.'),
    assignee: z.string().nullable().optional().describe('already_owner: the current owner.'),
    currentLevel: count.optional().describe('escalation_level_not_higher: the escalation level now.'),
    disabledReason: z
      .string()
      .nullable()
      .optional()
      .describe('webhook_inactive: why the webhook was disabled.'),
    replayId: z
      .string()
      .optional()
      .describe('webhook_replay_in_progress: the replay of this webhook still queued or running.'),
    since: z.string().optional().describe('webhook_replay_range_invalid: the start of the range asked for.'),
    until: z
      .string()
      .optional()
      .describe('webhook_replay_range_invalid: the end of the range, a time later than now taken as now.'),
    maxRangeDays: count
      .optional()
      .describe('webhook_replay_range_invalid: the longest range a replay may cover.'),
    resolutionId: z.string().optional().describe('The resolution in play that blocks the change.'),
    optionId: z.string().optional().describe('The resolution option concerned.'),
    optionIndex: count
      .optional()
      .describe('approval_limit_unreachable: the position of the option proposed.'),
    ceiling: z
      .number()
      .optional()
      .describe('approval_limit_unreachable: the most any role may grant in `currency` (0: none may).'),
    approval: z.string().optional().describe('The approval state of the option concerned.'),
    amount: z.number().optional().describe('The amount concerned, in `currency`.'),
    currency: z.string().optional().describe('ISO 4217 currency of `amount`.'),
    alreadyPreRefunded: z
      .number()
      .optional()
      .describe('pre_refund_over_limit: what was pre-refunded before.'),
    role: z.string().optional().describe('The role of the person concerned.'),
    roles: z.array(z.string()).optional().describe("unknown_role: the tenant's roles."),
    staff: z
      .string()
      .optional()
      .describe('conflict_of_interest: the staff member who may not handle the complaint.'),
    basis: z
      .enum(['subject_of_complaint', 'declared_conflict'])
      .optional()
      .describe('conflict_of_interest: why they may not.'),
  })
  .catchall(z.unknown())
  .meta({ id: 'Problem' });

export type Problem = z.infer<typeof problemSchema>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Base of every problem `type` URI; the code is appended. */
export const PROBLEM_TYPE_BASE = 'https://redress.dev/problems/';

const descriptions: Record<number, string> = {
  400: 'Invalid request (validation_failed, malformed_json, invalid_cursor, webhook_replay_range_invalid).',
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
