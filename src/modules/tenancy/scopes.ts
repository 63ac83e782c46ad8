/**
 * What an API key or a signed-in person may do. `admin` includes every other scope.
 * `actors:impersonate` lets an API key name the person it acts for in `X-On-Behalf-Of`.
 * `personal_data:read` shows the customer's personal data in clear; without it, REST, GraphQL, the
 * feed and subscriptions show it masked (src/modules/personal-data/). `personal_data:export` exports
 * everything held on a data subject (src/modules/data-subjects/), a DPO's act: an export is in
 * clear, so it needs `personal_data:read` as well, and no key is given it without asking.
 */
export const SCOPES = [
  'complaints:read',
  'complaints:write',
  'policies:manage',
  'webhooks:manage',
  'reports:read',
  'actors:impersonate',
  'personal_data:read',
  'personal_data:export',
  'admin',
] as const;

export type Scope = (typeof SCOPES)[number];

/** True when a caller holding `granted` may perform an operation that needs `required`. */
export function hasScope(granted: readonly string[], required: Scope): boolean {
  return granted.includes('admin') || granted.includes(required);
}
