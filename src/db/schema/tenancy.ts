import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { instant } from './columns.js';

export const tenants = pgTable('tenants', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: instant('created_at').notNull().defaultNow(),
});

/** The owning tenant of a row: every table but tenants has one, and rows go when their tenant does. */
export const tenantIdColumn = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' });

/**
 * A foreign key from one tenant table to another that names the tenant as well as the row
 * (src/db/distribution.ts): a row can refer only to its own tenant's rows, and a distributed
 * PostgreSQL checks it on the node that holds them both.
 */
export const tenantForeignKey = (
  name: string,
  columns: { tenantId: AnyPgColumn; column: AnyPgColumn },
  target: { tenantId: AnyPgColumn; id: AnyPgColumn },
) =>
  foreignKey({
    name,
    columns: [columns.tenantId, columns.column],
    foreignColumns: [target.tenantId, target.id],
  });

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey(),
    tenantId: tenantIdColumn(),
    name: text('name').notNull(),
    /** The visible start of the key (`rdk_AbCd1234`), shown in listings so people can tell keys apart. */
    prefix: text('prefix').notNull().unique(),
    /** SHA-256 of the whole key; the key itself is shown once and never stored. */
    secretHash: text('secret_hash').notNull().unique(),
    scopes: text('scopes').array().notNull().default(sql`'{}'::text[]`),
    createdAt: instant('created_at').notNull().defaultNow(),
    lastUsedAt: instant('last_used_at'),
    expiresAt: instant('expires_at'),
    revokedAt: instant('revoked_at'),
  },
  (table) => [index('api_keys_tenant_idx').on(table.tenantId, table.createdAt)],
);

/**
 * The Demo tenant's key, kept in clear so `cli demo --show` can print it again on a local stack.
 * This is the one exception to "keys are shown once and never stored": the Demo tenant exists only
 * for trying Redress, and `demo` is never run against a production database (README, CLI).
 */
export const demoTenantKeys = pgTable('demo_tenant_keys', {
  tenantId: uuid('tenant_id')
    .primaryKey()
    .references(() => tenants.id, { onDelete: 'cascade' }),
  apiKeyId: uuid('api_key_id')
    .notNull()
    .references(() => apiKeys.id, { onDelete: 'cascade' }),
  apiKey: text('api_key').notNull(),
  createdAt: instant('created_at').notNull().defaultNow(),
});

/**
 * A tenant's complaint-handling rules that are not deadlines: acceptance windows, what makes a
 * complaint major, follow-up attempts, the approval matrix. One JSON document per tenant, checked
 * by its zod schema (modules/settings), with the seed values as defaults for anything unset.
 */
export const workflowSettings = pgTable('workflow_settings', {
  tenantId: uuid('tenant_id')
    .primaryKey()
    .references(() => tenants.id, { onDelete: 'cascade' }),
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull(),
  version: integer('version').notNull().default(1),
  updatedAt: instant('updated_at').notNull().defaultNow(),
});

/**
 * An OpenID Connect provider whose access tokens a tenant's staff sign in with
 * (modules/identity): the issuer, the audience its tokens name Redress by, where its signing
 * keys are, and which claim values grant which scopes.
 */
export const identityProviders = pgTable(
  'identity_providers',
  {
    tenantId: tenantIdColumn(),
    id: uuid('id').notNull(),
    name: text('name').notNull(),
    issuer: text('issuer').notNull(),
    audience: text('audience').notNull(),
    /** Null: found in the issuer's /.well-known/openid-configuration. */
    jwksUri: text('jwks_uri'),
    /** The claim whose values map to scopes, a dotted path for nested ones (`realm_access.roles`). */
    scopeClaim: text('scope_claim').notNull(),
    scopeMap: jsonb('scope_map').$type<Record<string, string[]>>().notNull(),
    /** The claim that names the person on the timeline; the subject when the token has none. */
    nameClaim: text('name_claim').notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'identity_providers_pkey', columns: [table.tenantId, table.id] }),
    // A token says which tenant it is for only through its issuer and audience, so the pair names
    // one tenant across all of them: the one constraint here that does not lead with the tenant,
    // like an API key's hash.
    unique('identity_providers_issuer_audience_key').on(table.issuer, table.audience),
  ],
);
