import { announceChange, type InvalidatedCache, invalidatedCache } from '../../db/change-notifications.js';
import type { Db, Queryable } from '../../db/client.js';
import type { ActorRecord } from '../../db/schema/index.js';
import type { Clock } from '../../lib/clock.js';
import { NotFoundError, UnauthenticatedError, ValidationError } from '../../lib/errors.js';
import { isUuid, newId } from '../../lib/ids.js';
import { generateApiKey, hashApiKey, looksLikeApiKey } from './api-key-secret.js';
import type { Scope } from './scopes.js';
import type { ApiKeyRow, TenancyRepository, TenantRow } from './tenancy.repository.js';
import { tenantNameSchema } from './tenancy.schemas.js';

interface AuthBase {
  tenantId: string;
  scopes: readonly string[];
  /** Who is calling, as the timeline records it (before any X-On-Behalf-Of). */
  actor: ActorRecord;
  /** What rate limits count by: the key's id, or a hash of the provider and the person's subject. */
  callerId: string;
}

/** A call with an API key. */
export interface ApiKeyAuth extends AuthBase {
  kind: 'api_key';
  apiKeyId: string;
  apiKeyName: string;
  apiKeyPrefix: string;
}

/** A call by a person signed in with an OIDC access token from their tenant's identity provider. */
export interface AccessTokenAuth extends AuthBase {
  kind: 'access_token';
  identityProviderId: string;
}

/** Who is calling: resolved from the bearer credential on every authenticated request. */
export type AuthContext = ApiKeyAuth | AccessTokenAuth;

/** A compact JWS (header.payload.signature), the only form an access token takes here. */
const JWT_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface NewApiKey {
  name: string;
  scopes: Scope[];
  expiresAt?: Date | null;
}

/** The tenant `cli demo` makes for trying Redress on a local stack. */
export const DEMO_TENANT_NAME = 'Demo';

export interface DemoTenant {
  tenant: TenantRow;
  apiKey: ApiKeyRow;
  plaintextKey: string;
  /** True on the call that made the tenant. */
  created: boolean;
}

/** Why a key no longer authenticates (revoked, expired), or null while it does. */
function keyRefusal(key: ApiKeyRow, now: Date): string | null {
  if (key.revokedAt) return `The API key '${key.prefix}' has been revoked.`;
  if (key.expiresAt && key.expiresAt.getTime() <= now.getTime()) {
    return `The API key '${key.prefix}' has expired.`;
  }
  return null;
}

// last_used_at is informational; writing it on every request would turn each read into a write.
const LAST_USED_WRITE_INTERVAL_MS = 60_000;

export function createTenancyService(deps: {
  db: Db;
  repository: TenancyRepository;
  clock: Clock;
  /** Runs inside the tenant-creation transaction, e.g. to give the tenant its default SLA policy. */
  onTenantCreated?: (tenantId: string, tx: Queryable) => Promise<unknown>;
  onBackgroundError?: (error: unknown) => void;
  /** Keys recently looked up, dropped the moment any process revokes one. */
  keyCache?: InvalidatedCache<ApiKeyRow>;
  /** Signs people in with OIDC access tokens (modules/identity); without it only keys are taken. */
  accessTokens?: { authenticate(token: string): Promise<AccessTokenAuth> };
}) {
  const { db, repository, clock } = deps;
  const keyCache =
    deps.keyCache ?? invalidatedCache<ApiKeyRow>(null, { max: 1, ttlMs: 1, affected: () => true });
  const lastUsedWrites = new Map<string, number>();

  async function issueKey(tenantId: string, input: NewApiKey, tx: Queryable) {
    const generated = generateApiKey();
    const row = await repository.insertApiKey(
      {
        id: newId(),
        tenantId,
        name: input.name,
        prefix: generated.prefix,
        secretHash: generated.secretHash,
        scopes: [...new Set(input.scopes)],
        expiresAt: input.expiresAt ?? null,
      },
      tx,
    );
    return { row, plaintext: generated.plaintext };
  }

  async function insertTenant(name: string, tx: Queryable) {
    const tenant = await repository.insertTenant({ id: newId(), name }, tx);
    await deps.onTenantCreated?.(tenant.id, tx);
    const { row, plaintext } = await issueKey(tenant.id, { name: 'admin', scopes: ['admin'] }, tx);
    return { tenant, apiKey: row, plaintextKey: plaintext };
  }

  return {
    /** Creates a tenant with one admin key; the key's plaintext is returned once and never stored. */
    async createTenant(
      name: string,
    ): Promise<{ tenant: TenantRow; apiKey: ApiKeyRow; plaintextKey: string }> {
      const parsed = tenantNameSchema.safeParse(name);
      if (!parsed.success) {
        const message = parsed.error.issues[0]?.message ?? 'is invalid';
        throw new ValidationError([{ field: 'name', message }], `The tenant name ${message}.`);
      }
      return db.transaction((tx) => insertTenant(parsed.data, tx));
    },

    /**
     * The Demo tenant and its key, made on the first call. The key is kept (demo_tenant_keys), so
     * every later call answers the same key; a kept key that was revoked or has expired is
     * replaced. With `create: false` nothing is made: undefined when there is no usable key.
     */
    async demoTenant(options: { create: boolean }): Promise<DemoTenant | undefined> {
      return db.transaction(async (tx) => {
        await repository.lockDemoTenant(tx);
        const existing = await repository.findTenantByName(DEMO_TENANT_NAME, tx);
        if (!existing) {
          if (!options.create) return undefined;
          const { tenant, apiKey, plaintextKey } = await insertTenant(DEMO_TENANT_NAME, tx);
          await repository.keepDemoKey(tenant.id, apiKey.id, plaintextKey, tx);
          return { tenant, apiKey, plaintextKey, created: true };
        }
        const kept = await repository.findDemoKey(existing.id, tx);
        if (kept && keyRefusal(kept.apiKey, clock.now()) === null) {
          return { tenant: existing, apiKey: kept.apiKey, plaintextKey: kept.plaintext, created: false };
        }
        if (!options.create) return undefined;
        // A Demo tenant made before keys were kept, or whose kept key was revoked: a fresh one.
        const { row, plaintext } = await issueKey(existing.id, { name: 'demo', scopes: ['admin'] }, tx);
        await repository.keepDemoKey(existing.id, row.id, plaintext, tx);
        return { tenant: existing, apiKey: row, plaintextKey: plaintext, created: false };
      });
    },

    async createApiKey(
      tenantId: string,
      input: NewApiKey,
    ): Promise<{ apiKey: ApiKeyRow; plaintextKey: string }> {
      if (input.expiresAt && input.expiresAt.getTime() <= clock.now().getTime()) {
        throw new ValidationError([{ field: 'body.expiresAt', message: 'must be in the future' }]);
      }
      // Not a UUID: no such tenant (rather than a query PostgreSQL refuses).
      const tenant = isUuid(tenantId) ? await repository.findTenantById(tenantId) : undefined;
      if (!tenant) throw new NotFoundError('Tenant', tenantId);
      const { row, plaintext } = await issueKey(tenantId, input, db);
      return { apiKey: row, plaintextKey: plaintext };
    },

    listApiKeys: (tenantId: string) => repository.listApiKeys(tenantId),

    async getApiKey(tenantId: string, keyId: string): Promise<ApiKeyRow> {
      const row = await repository.findApiKey(tenantId, keyId);
      if (!row) throw new NotFoundError('API key', keyId);
      return row;
    },

    async revokeApiKey(tenantId: string, keyId: string): Promise<ApiKeyRow> {
      const row = await db.transaction(async (tx) => {
        const revoked = await repository.revokeApiKey(tenantId, keyId, clock.now(), tx);
        if (revoked) await announceChange({ kind: 'api_key', keyId }, tx);
        return revoked;
      });
      if (!row) throw new NotFoundError('API key', keyId);
      keyCache.delete(row.secretHash);
      return row;
    },

    /** Revokes by id or visible prefix without a tenant (the admin CLI, run by an operator). */
    async revokeApiKeyAnyTenant(idOrPrefix: string): Promise<ApiKeyRow> {
      const found = idOrPrefix.startsWith('rdk_')
        ? await repository.findApiKeyByPrefix(idOrPrefix)
        : isUuid(idOrPrefix)
          ? await repository.findApiKeyByIdAnyTenant(idOrPrefix)
          : undefined;
      if (!found) throw new NotFoundError('API key', idOrPrefix);
      return this.revokeApiKey(found.tenantId, found.id);
    },

    /**
     * Resolves an `Authorization` header to the caller, an API key or a person's access token,
     * or explains why it cannot.
     */
    async authenticate(authorization: string | undefined): Promise<AuthContext> {
      if (!authorization) {
        throw new UnauthenticatedError(
          'Send your API key or access token as `Authorization: Bearer <key or token>`.',
        );
      }
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!match?.[1]) {
        throw new UnauthenticatedError('The Authorization header must be `Bearer <key or token>`.');
      }
      const plaintext = match[1];
      if (!looksLikeApiKey(plaintext)) {
        if (deps.accessTokens && JWT_PATTERN.test(plaintext))
          return deps.accessTokens.authenticate(plaintext);
        throw new UnauthenticatedError(
          'The bearer token is neither a Redress API key nor an access token (JWT).',
        );
      }
      const secretHash = hashApiKey(plaintext);
      const key = await keyCache.load(secretHash, () => repository.findApiKeyByHash(secretHash));
      if (!key) throw new UnauthenticatedError('The API key is not recognised.');
      const now = clock.now();
      const refusal = keyRefusal(key, now);
      if (refusal) throw new UnauthenticatedError(refusal);
      const lastWrite = lastUsedWrites.get(key.id) ?? 0;
      if (now.getTime() - lastWrite >= LAST_USED_WRITE_INTERVAL_MS) {
        lastUsedWrites.set(key.id, now.getTime());
        repository.touchApiKey(key.id, now).catch((error) => deps.onBackgroundError?.(error));
      }
      return {
        kind: 'api_key',
        tenantId: key.tenantId,
        apiKeyId: key.id,
        apiKeyName: key.name,
        apiKeyPrefix: key.prefix,
        scopes: key.scopes,
        callerId: key.id,
        actor: { type: 'api_key', id: key.id, name: key.name, onBehalfOf: null },
      };
    },
  };
}

export type TenancyService = ReturnType<typeof createTenancyService>;
