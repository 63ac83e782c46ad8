/**
 * The one error vocabulary of Redress. Every failure a caller can see is an AppError with a
 * stable `code`; the HTTP layer renders it as RFC 9457 problem+json and GraphQL puts the same
 * code in `extensions`. Codes are part of the public contract: never rename or reuse one.
 */

/**
 * Every `code` a caller can be sent, by status. The contract's `Problem.code` enum is made from
 * this list, and `AppError.code` may only be one of them, so a new code cannot go unlisted.
 */
export const ERROR_CODES = [
  // 400, 401, 403, 404, 405
  'validation_failed',
  'malformed_json',
  'invalid_cursor',
  'webhook_replay_range_invalid',
  'data_subject_invalid',
  'graphql_validation_failed',
  'query_too_deep',
  'query_too_costly',
  'unauthenticated',
  'invalid_token',
  'token_expired',
  'insufficient_scope',
  'on_behalf_of_not_allowed',
  'clear_personal_data_not_allowed',
  'not_found',
  'route_not_found',
  'method_not_allowed',
  // 409
  'already_owner',
  'calendar_in_use',
  'complaint_finished',
  'complaint_not_in_handling',
  'conflict_already_declared',
  'conflict_of_interest',
  'deadline_met_by_action',
  'deadline_not_open',
  'deadline_not_pending',
  'extension_limit_reached',
  'default_policy_fixed',
  'escalation_level_not_higher',
  'external_ref_conflict',
  'follow_up_not_pending',
  'desk_feedback_not_owed',
  'invalid_transition',
  'not_rejected_at_intake',
  'option_awaiting_approval',
  'option_not_awaiting_approval',
  'option_rejected',
  'pre_refund_already_verified',
  'promise_not_open',
  'survey_already_answered',
  'reply_template_exists',
  'identity_provider_exists',
  'resolution_already_open',
  'resolution_awaiting_approval',
  'resolution_choice_missing',
  'resolution_closed',
  'resolution_not_awaiting_approval',
  'webhook_inactive',
  'webhook_replay_in_progress',
  'idempotency_request_in_progress',
  // 412, 413, 415
  'precondition_failed',
  'payload_too_large',
  'unsupported_media_type',
  'unsupported_content_encoding',
  // 422
  'approval_limit_unreachable',
  'approver_is_proposer',
  'approver_not_authorised',
  'pre_refund_over_limit',
  'unknown_role',
  'template_variable_missing',
  'template_render_failed',
  'idempotency_key_reused',
  'webhook_url_refused',
  'calendar_has_no_open_time',
  'extension_not_allowed',
  // 428, 429, 500, 503
  'precondition_required',
  'rate_limited',
  'internal_error',
  'service_unavailable',
  'concurrent_change',
  'report_timed_out',
] as const;

/** A stable machine-readable error code. */
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface FieldProblem {
  /** JSON pointer-ish dotted path of the offending field, e.g. `body.customer.email`. */
  field: string;
  message: string;
}

export interface AppErrorOptions {
  detail: string;
  /** Extra members added to the problem document (e.g. `currentStatus`). */
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
  cause?: unknown;
}

export abstract class AppError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly status: number;
  abstract readonly title: string;
  readonly detail: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(options: AppErrorOptions) {
    super(options.detail, { cause: options.cause });
    this.detail = options.detail;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }
}

export class ValidationError extends AppError {
  readonly code = 'validation_failed';
  readonly status = 400;
  readonly title = 'Request validation failed';
  constructor(
    readonly errors: FieldProblem[],
    detail = 'The request has invalid fields; see `errors`.',
  ) {
    super({ detail, extensions: { errors } });
  }
}

export class MalformedJsonError extends AppError {
  readonly code = 'malformed_json';
  readonly status = 400;
  readonly title = 'Malformed JSON body';
}

export class InvalidCursorError extends AppError {
  readonly code = 'invalid_cursor';
  readonly status = 400;
  readonly title = 'Invalid pagination cursor';
  constructor(cursor: string) {
    super({
      detail: `Cursor '${truncate(cursor)}' is not one this API issued; start again without a cursor.`,
    });
  }
}

/**
 * A data subject named by none of phone, email and external id, by more than one, or by one that
 * is malformed. The detail never quotes the value: it is personal data, and problems are logged.
 */
export class DataSubjectInvalidError extends AppError {
  readonly code = 'data_subject_invalid';
  readonly status = 400;
  readonly title = 'Invalid data subject';
  constructor(readonly errors: FieldProblem[]) {
    super({
      detail:
        'Name the data subject by exactly one of phone, email and externalId, well formed; see `errors`.',
      extensions: { errors },
    });
  }
}

/** A webhook replay's time range that is empty, inverted or longer than allowed. */
export class ReplayRangeError extends AppError {
  readonly code = 'webhook_replay_range_invalid';
  readonly status = 400;
  readonly title = 'Invalid replay range';
  constructor(detail: string, extensions: { since: string; until: string; maxRangeDays: number }) {
    super({ detail, extensions });
  }
}

/** A GraphQL document that does not parse or does not fit the schema. */
export class GraphqlValidationError extends AppError {
  readonly code = 'graphql_validation_failed';
  readonly status = 400;
  readonly title = 'GraphQL document invalid';
}

export class QueryTooDeepError extends AppError {
  readonly code = 'query_too_deep';
  readonly status = 400;
  readonly title = 'GraphQL query nests too deep';
  constructor(depth: number, maxDepth: number) {
    super({
      detail: `The query nests ${depth} levels deep; at most ${maxDepth} are allowed.`,
      extensions: { depth, maxDepth },
    });
  }
}

export class QueryTooCostlyError extends AppError {
  readonly code = 'query_too_costly';
  readonly status = 400;
  readonly title = 'GraphQL query too costly';
  constructor(cost: number, maxCost: number) {
    super({
      detail: `The query costs ${cost}, above the limit of ${maxCost}; ask for smaller pages (\`first\`) or fewer fields.`,
      extensions: { cost, maxCost },
    });
  }
}

export class UnauthenticatedError extends AppError {
  readonly code = 'unauthenticated';
  readonly status = 401;
  readonly title = 'Authentication required';
  constructor(detail: string) {
    super({ detail, headers: { 'www-authenticate': 'Bearer realm="redress"' } });
  }
}

/**
 * An access token (JWT) Redress does not accept: malformed, wrongly signed, for another audience,
 * from an issuer no tenant trusts, or not yet valid. RFC 6750 §3.1 names the error in the
 * WWW-Authenticate challenge, so an OAuth client knows to get a new token.
 */
export class InvalidTokenError extends AppError {
  readonly code: ErrorCode = 'invalid_token';
  readonly status = 401;
  readonly title: string = 'Access token invalid';
  constructor(detail: string, options: { cause?: unknown } = {}) {
    super({
      detail,
      headers: { 'www-authenticate': 'Bearer realm="redress", error="invalid_token"' },
      cause: options.cause,
    });
  }
}

/** An access token past its `exp` (beyond the clock skew allowed): sign in again or refresh it. */
export class TokenExpiredError extends InvalidTokenError {
  override readonly code = 'token_expired';
  override readonly title = 'Access token expired';
}

/**
 * X-On-Behalf-Of from a caller that may not name someone else: a signed-in person always acts as
 * themselves. (An API key without `actors:impersonate` gets insufficient_scope instead.)
 */
export class OnBehalfOfNotAllowedError extends AppError {
  readonly code = 'on_behalf_of_not_allowed';
  readonly status = 403;
  readonly title = 'X-On-Behalf-Of not allowed';
  constructor() {
    super({
      detail:
        'A person signed in with an access token acts as themselves; X-On-Behalf-Of is only for API keys holding the actors:impersonate scope.',
    });
  }
}

export class ForbiddenScopeError extends AppError {
  readonly code = 'insufficient_scope';
  readonly status = 403;
  readonly title = 'Caller lacks a required scope';
  constructor(requiredScope: string) {
    super({
      detail: `This operation needs the '${requiredScope}' scope, which the API key or access token does not have.`,
      extensions: { requiredScope },
    });
  }
}

/**
 * A webhook subscription may receive personal data in clear (`personalData: "clear"`) only if the
 * key or person that creates or changes it may read it so (`personal_data:read`).
 */
export class ClearPersonalDataNotAllowedError extends AppError {
  readonly code = 'clear_personal_data_not_allowed';
  readonly status = 403;
  readonly title = 'Personal data in clear needs personal_data:read';
  constructor() {
    super({
      detail:
        "A webhook subscription with personalData 'clear' needs the 'personal_data:read' scope, which the API key or access token does not have; subscribe with personalData 'masked' instead.",
      extensions: { requiredScope: 'personal_data:read' },
    });
  }
}

export class NotFoundError extends AppError {
  readonly code = 'not_found';
  readonly status = 404;
  readonly title = 'Resource not found';
  constructor(resource: string, identifier: string) {
    super({ detail: `${resource} '${truncate(identifier)}' not found.` });
  }
}

export class RouteNotFoundError extends AppError {
  readonly code = 'route_not_found';
  readonly status = 404;
  readonly title = 'No such endpoint';
  constructor(method: string, url: string) {
    super({ detail: `No endpoint answers ${method} ${truncate(url)}.` });
  }
}

export class MethodNotAllowedError extends AppError {
  readonly code = 'method_not_allowed';
  readonly status = 405;
  readonly title = 'Method not allowed';
  constructor(method: string, url: string, allowedMethods: string[]) {
    super({
      detail: `${truncate(url)} answers ${allowedMethods.join(', ')}, not ${method}.`,
      headers: { allow: allowedMethods.join(', ') },
      extensions: { allowedMethods },
    });
  }
}

export class ConflictError extends AppError {
  readonly status = 409;
  readonly title: string;
  constructor(
    readonly code: ErrorCode,
    title: string,
    options: AppErrorOptions,
  ) {
    super(options);
    this.title = title;
  }
}

/** A well-formed request the current rules refuse (an approver above their limit, an unknown role). */
export class UnprocessableError extends AppError {
  readonly status = 422;
  readonly title: string;
  constructor(
    readonly code: ErrorCode,
    title: string,
    options: AppErrorOptions,
  ) {
    super(options);
    this.title = title;
  }
}

export class TemplateVariableMissingError extends AppError {
  readonly code = 'template_variable_missing';
  readonly status = 422;
  readonly title = 'Reply template variable missing';
  constructor(variable: string, template: string) {
    super({
      detail: `Template '${truncate(template)}' uses '{{${truncate(variable)}}}', which has no value here; supply it in \`variables\` or fix the template.`,
      extensions: { variable },
    });
  }
}

export class TemplateRenderFailedError extends AppError {
  readonly code = 'template_render_failed';
  readonly status = 422;
  readonly title = 'Reply template failed to render';
  constructor(template: string, reason: string) {
    super({
      detail: `Template '${truncate(template)}' compiles but cannot be rendered: ${truncate(reason)}. Fix the template.`,
    });
  }
}

export class IdempotencyKeyReusedError extends AppError {
  readonly code = 'idempotency_key_reused';
  readonly status = 422;
  readonly title = 'Idempotency-Key reused with a different request';
  constructor(key: string) {
    super({
      detail: `Idempotency-Key '${truncate(key)}' was first used with a different request; use a new key for a new request.`,
    });
  }
}

export class IdempotencyInProgressError extends AppError {
  readonly code = 'idempotency_request_in_progress';
  readonly status = 409;
  readonly title = 'A request with this Idempotency-Key is still running';
  constructor(key: string) {
    super({
      detail: `The first request with Idempotency-Key '${truncate(key)}' has not finished; retry shortly.`,
      headers: { 'retry-after': '1' },
    });
  }
}

export class WebhookUrlRefusedError extends AppError {
  readonly code = 'webhook_url_refused';
  readonly status = 422;
  readonly title = 'Webhook URL refused';
  constructor(url: string, reason: string) {
    super({
      detail: `Webhook URL '${truncate(url)}' is refused: ${reason}. Webhooks go to public addresses only.`,
      extensions: { reason },
    });
  }
}

export class CalendarClosedError extends AppError {
  readonly code = 'calendar_has_no_open_time';
  readonly status = 422;
  readonly title = 'The business calendar has no open time left';
  constructor(calendarId: string) {
    super({
      detail: `Calendar '${calendarId}' is never open again, so no business-hours deadline can be set on it; give it working hours.`,
      extensions: { calendarId },
    });
  }
}

export class PreconditionRequiredError extends AppError {
  readonly code = 'precondition_required';
  readonly status = 428;
  readonly title = 'If-Match header required';
  constructor(resource: string) {
    super({
      detail: `Updating a ${resource} requires an If-Match header with the ETag you last read, so concurrent edits are not lost.`,
    });
  }
}

export class PreconditionFailedError extends AppError {
  readonly code = 'precondition_failed';
  readonly status = 412;
  readonly title = 'The resource changed since you read it';
  constructor(resource: string, identifier: string, currentEtag: string) {
    super({
      detail: `${resource} '${identifier}' has changed since the ETag in If-Match; read it again and reapply your change.`,
      extensions: { currentEtag },
    });
  }
}

export class PayloadTooLargeError extends AppError {
  readonly code = 'payload_too_large';
  readonly status = 413;
  readonly title = 'Request body too large';
}

export class UnsupportedMediaTypeError extends AppError {
  readonly code = 'unsupported_media_type';
  readonly status = 415;
  readonly title = 'Unsupported Content-Type';
}

/**
 * A request body in a content coding (gzip, br …). Redress takes bodies only as sent, so a coded
 * body is refused whole rather than parsed as if it were JSON; RFC 9110 §15.5.16 asks for
 * Accept-Encoding on the answer, naming what is taken.
 */
export class UnsupportedContentEncodingError extends AppError {
  readonly code = 'unsupported_content_encoding';
  readonly status = 415;
  readonly title = 'Unsupported Content-Encoding';
  constructor(contentEncoding: string) {
    super({
      detail: `Content-Encoding '${truncate(contentEncoding)}' is not accepted; send the body uncompressed, without Content-Encoding.`,
      headers: { 'accept-encoding': 'identity' },
    });
  }
}

export class RateLimitedError extends AppError {
  readonly code = 'rate_limited';
  readonly status = 429;
  readonly title = 'Too many requests';
  constructor(retryAfterSeconds: number, limit: number) {
    super({
      detail: `This API key exceeded ${limit} requests in its window; retry after ${retryAfterSeconds} s.`,
      headers: { 'retry-after': String(retryAfterSeconds) },
      extensions: { retryAfterSeconds },
    });
  }
}

/**
 * The request needs something that is not there now: a backing service that cannot be reached
 * (lib/unreachable.ts), or a database too far behind to answer in time. A retry may succeed.
 */
export class ServiceUnavailableError extends AppError {
  readonly code = 'service_unavailable';
  readonly status = 503;
  readonly title = 'Service unavailable';
}

export class ConcurrentChangeError extends AppError {
  readonly code = 'concurrent_change';
  readonly status = 503;
  readonly title = 'Rolled back by a concurrent change';
}

/**
 * A report PostgreSQL cut off at the reports' statement timeout (or, on a read replica, cancelled
 * to let replication go on). Nothing was changed, and a shorter period or a quieter moment may do.
 */
export class ReportTimedOutError extends AppError {
  readonly code = 'report_timed_out';
  readonly status = 503;
  readonly title = 'Report timed out';
  constructor(options: { cause?: unknown } = {}) {
    super({
      detail:
        'The report did not finish within the time reports are given; ask for a shorter period, or try again later.',
      headers: { 'retry-after': '30' },
      cause: options.cause,
    });
  }
}

export class InternalError extends AppError {
  readonly code = 'internal_error';
  readonly status = 500;
  readonly title = 'Internal server error';
}

/** An error and the causes it wraps (drizzle wraps the driver's), outermost first, four at most. */
export function* causeChain(error: unknown): Generator<unknown> {
  for (let current = error, depth = 0; current && depth < 4; depth += 1) {
    yield current;
    current = (current as { cause?: unknown }).cause;
  }
}

/** Shortens caller-supplied values quoted back in messages so a huge value cannot bloat an error. */
export function truncate(value: string, max = 120): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
