import { z } from 'zod';
import { SCOPES } from '../tenancy/scopes.js';
import { scopeSchema } from '../tenancy/tenancy.schemas.js';
import type { IdentityProviderRow } from './identity.repository.js';

const URL_MAX_LENGTH = 2048;

/** An absolute http(s) URL without credentials; whether http and private hosts pass is the service's call. */
const providerUrl = z
  .string()
  .max(URL_MAX_LENGTH)
  .refine((raw) => {
    try {
      const url = new URL(raw);
      return (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password;
    } catch {
      return false;
    }
  }, 'must be an absolute https URL without user name or password');

/** A claim name, or a dotted path to a nested one. */
const claimPath = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^.\s]+(\.[^.\s]+)*$/, 'must be a claim name or a dotted path such as realm_access.roles');

export const createIdentityProviderBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100).describe('What the provider is, e.g. "Entra ID (staff)".'),
    issuer: providerUrl.describe('The `iss` of its tokens, exactly as they carry it.'),
    audience: z
      .string()
      .min(1)
      .max(500)
      .describe(
        'The `aud` its tokens carry for Redress. A token is for the one tenant that registered its issuer and audience.',
      ),
    jwksUri: providerUrl
      .optional()
      .describe(
        "Where its signing keys are; left out, read from the issuer's /.well-known/openid-configuration.",
      ),
    scopeClaim: claimPath
      .default('scope')
      .describe(
        'The claim whose values grant scopes: `scope` (space-separated), `roles`, `groups` or a dotted path.',
      ),
    scopeMap: z
      .record(z.string().min(1).max(200), z.array(scopeSchema).min(1).max(SCOPES.length))
      .refine((map) => Object.keys(map).length <= 100, 'must map at most 100 claim values')
      .describe(
        'Claim value → the Redress scopes it grants, e.g. `{"redress.agent": ["complaints:read", "complaints:write"]}`.',
      ),
    nameClaim: claimPath
      .default('name')
      .describe(
        'The claim that names the person on the timeline (`name`, `preferred_username`); the subject when missing.',
      ),
  })
  .meta({ id: 'IdentityProviderCreate' });

export const identityProviderIdParams = z.object({ id: z.uuid() });

export const identityProviderSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    issuer: z.string(),
    audience: z.string(),
    jwksUri: z.string().nullable(),
    scopeClaim: z.string(),
    scopeMap: z.record(z.string(), z.array(z.string())),
    nameClaim: z.string(),
    createdAt: z.string(),
  })
  .meta({ id: 'IdentityProvider' });

export const identityProviderListSchema = z
  .object({ data: z.array(identityProviderSchema) })
  .meta({ id: 'IdentityProviderList' });

export type NewIdentityProvider = z.output<typeof createIdentityProviderBody>;

export function toIdentityProviderView(row: IdentityProviderRow): z.output<typeof identityProviderSchema> {
  return {
    id: row.id,
    name: row.name,
    issuer: row.issuer,
    audience: row.audience,
    jwksUri: row.jwksUri,
    scopeClaim: row.scopeClaim,
    scopeMap: row.scopeMap,
    nameClaim: row.nameClaim,
    createdAt: row.createdAt.toISOString(),
  };
}
