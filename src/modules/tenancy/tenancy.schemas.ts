import { z } from 'zod';
import { instantSchema } from '../../http/instant.js';
import { SCOPES } from './scopes.js';
import type { ApiKeyRow } from './tenancy.repository.js';

export const scopeSchema = z.enum(SCOPES).meta({ id: 'Scope' });

/** A tenant's name, wherever a tenant is created (the CLI, the demo tenant, benchmarks, tests). */
export const tenantNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .refine((name) => !name.includes('\u0000') && name.isWellFormed(), 'must be text without NUL characters');

/** An API key's name: what it is for, e.g. "CRM production". */
export const apiKeyNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters');

export const createApiKeyBody = z
  .strictObject({
    name: apiKeyNameSchema.describe('What the key is for, e.g. "CRM production".'),
    scopes: z
      .array(scopeSchema)
      .min(1)
      .max(SCOPES.length)
      .describe('What the key may do; `admin` includes every other scope.'),
    expiresAt: instantSchema.optional().describe('The key stops working at this instant.'),
  })
  .meta({ id: 'ApiKeyCreate' });

export const apiKeyIdParams = z.object({ id: z.uuid() });

export const apiKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().describe('The visible start of the key, to tell keys apart.'),
    scopes: z.array(scopeSchema),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable().describe('Updated at most once a minute.'),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiKey' });

export const createdApiKeySchema = apiKeySchema
  .extend({ key: z.string().describe('The whole key. Shown only in this response; store it now.') })
  .meta({ id: 'ApiKeyWithSecret' });

export const apiKeyListSchema = z.object({ data: z.array(apiKeySchema) }).meta({ id: 'ApiKeyList' });

export function toApiKeyView(row: ApiKeyRow): z.output<typeof apiKeySchema> {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes.filter((scope): scope is (typeof SCOPES)[number] =>
      (SCOPES as readonly string[]).includes(scope),
    ),
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}
