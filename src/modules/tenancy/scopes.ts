/** What an API key may do. `admin` includes every other scope. */
export const SCOPES = [
  'complaints:read',
  'complaints:write',
  'policies:manage',
  'webhooks:manage',
  'reports:read',
  'admin',
] as const;

export type Scope = (typeof SCOPES)[number];

/** True when a key holding `granted` may perform an operation that needs `required`. */
export function hasScope(granted: readonly string[], required: Scope): boolean {
  return granted.includes('admin') || granted.includes(required);
}
