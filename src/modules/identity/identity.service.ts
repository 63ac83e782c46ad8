import { decodeJwt, type JWTPayload } from 'jose';
import { announceChange, type InvalidatedCache, invalidatedCache } from '../../db/change-notifications.js';
import type { Db } from '../../db/client.js';
import { sqlState } from '../../db/sql-errors.js';
import {
  ConflictError,
  InvalidTokenError,
  NotFoundError,
  truncate,
  ValidationError,
} from '../../lib/errors.js';
import { newId, sha256Hex } from '../../lib/ids.js';
import type { AccessTokenAuth } from '../tenancy/tenancy.service.js';
import { type HostResolver, systemResolver, urlRefusal } from '../webhooks/webhook-url-policy.js';
import { displayName, MAX_CLAIM_TEXT, scopesFromClaims } from './claim-scopes.js';
import type { IdentityProviderRow, IdentityRepository } from './identity.repository.js';
import type { NewIdentityProvider } from './identity.schemas.js';
import type { TokenVerifier } from './token-verifier.js';

const UNIQUE_VIOLATION = '23505';

/** The providers registered for one issuer, across tenants (cached whole, empty included). */
export interface IssuerProviders {
  rows: IdentityProviderRow[];
}

/**
 * Why Redress must not fetch from an identity provider's URL, or null when it may: https, and a
 * host that resolves to public addresses only. `allowPrivate` (OIDC_ALLOW_PRIVATE) lets anything
 * through, for development and tests; without the check a tenant admin could make the API fetch
 * from internal services.
 */
export function providerUrlPolicy(options: { allowPrivate: boolean; resolve?: HostResolver }) {
  const resolve = options.resolve ?? systemResolver;
  return async (raw: string): Promise<string | null> => {
    if (options.allowPrivate) return null;
    if (!raw.startsWith('https://')) return 'must use https';
    return urlRefusal(raw, resolve);
  };
}

/** The audiences a token names: `aud` is a string or an array of them (RFC 7519 §4.1.3). */
function audiencesOf(claims: JWTPayload): string[] {
  if (typeof claims.aud === 'string') return [claims.aud];
  return Array.isArray(claims.aud) ? claims.aud.filter((aud) => typeof aud === 'string') : [];
}

/**
 * The tenants' OpenID Connect providers: managed by a tenant's admins, and used to sign staff in
 * with the provider's access tokens instead of an API key.
 */
export function createIdentityService(deps: {
  db: Db;
  repository: IdentityRepository;
  verifier: TokenVerifier;
  /** Why Redress must not fetch from a URL (providerUrlPolicy), or null when it may. */
  urlProblem: (url: string) => Promise<string | null>;
  cache?: InvalidatedCache<IssuerProviders>;
}) {
  const { db, repository, verifier } = deps;
  const cache =
    deps.cache ?? invalidatedCache<IssuerProviders>(null, { max: 1, ttlMs: 1, affected: () => true });

  /** The one provider a token is for: its issuer and one of its audiences name it. */
  async function providerFor(claims: JWTPayload): Promise<IdentityProviderRow> {
    const issuer = claims.iss;
    if (typeof issuer !== 'string' || issuer.length === 0 || issuer.length > 2048) {
      throw new InvalidTokenError('The access token names no issuer (`iss`).');
    }
    const found = await cache.load(issuer, async () => ({
      rows: await repository.findProvidersByIssuerAnyTenant(issuer),
    }));
    const registered = found?.rows ?? [];
    if (registered.length === 0) {
      throw new InvalidTokenError(`No tenant accepts access tokens from issuer '${truncate(issuer)}'.`);
    }
    const audiences = audiencesOf(claims);
    const matching = registered.filter((provider) => audiences.includes(provider.audience));
    if (matching.length === 0) {
      throw new InvalidTokenError(
        `No tenant accepts access tokens from issuer '${truncate(issuer)}' for audience '${truncate(audiences.join(' '))}'.`,
      );
    }
    // (issuer, audience) names one tenant; a token naming two of them would be for two tenants.
    if (matching.length > 1) {
      throw new InvalidTokenError(
        'The access token names audiences of more than one tenant; ask for a token with one.',
      );
    }
    return matching[0]!;
  }

  return {
    async createProvider(tenantId: string, input: NewIdentityProvider): Promise<IdentityProviderRow> {
      const problems = [];
      for (const field of ['issuer', 'jwksUri'] as const) {
        const raw = input[field];
        const problem = raw === undefined ? null : await deps.urlProblem(raw);
        if (problem) problems.push({ field: `body.${field}`, message: problem });
      }
      if (problems.length > 0) throw new ValidationError(problems);
      try {
        return await db.transaction(async (tx) => {
          const row = await repository.insertProvider(
            {
              tenantId,
              id: newId(),
              name: input.name,
              issuer: input.issuer,
              audience: input.audience,
              jwksUri: input.jwksUri ?? null,
              scopeClaim: input.scopeClaim,
              scopeMap: input.scopeMap,
              nameClaim: input.nameClaim,
            },
            tx,
          );
          await announceChange({ kind: 'identity_provider', issuer: row.issuer }, tx);
          return row;
        });
      } catch (error) {
        if (sqlState(error) !== UNIQUE_VIOLATION) throw error;
        throw new ConflictError('identity_provider_exists', 'Identity provider already registered', {
          detail: `Issuer '${truncate(input.issuer)}' with audience '${truncate(input.audience)}' is registered already, by this or another tenant; each tenant's tokens need an audience of their own.`,
        });
      } finally {
        cache.delete(input.issuer);
      }
    },

    listProviders: (tenantId: string) => repository.listProviders(tenantId),

    async getProvider(tenantId: string, id: string): Promise<IdentityProviderRow> {
      const row = await repository.findProvider(tenantId, id);
      if (!row) throw new NotFoundError('Identity provider', id);
      return row;
    },

    /** Removes a provider: its tokens stop working at once. */
    async deleteProvider(tenantId: string, id: string): Promise<void> {
      const row = await db.transaction(async (tx) => {
        const deleted = await repository.deleteProvider(tenantId, id, tx);
        if (deleted) await announceChange({ kind: 'identity_provider', issuer: deleted.issuer }, tx);
        return deleted;
      });
      if (!row) throw new NotFoundError('Identity provider', id);
      cache.delete(row.issuer);
    },

    /**
     * The signed-in person an access token stands for: the token must come from a provider a
     * tenant registered, verify against its keys, and name a subject. Its claims give the scopes.
     */
    async authenticate(token: string): Promise<AccessTokenAuth> {
      let unverified: JWTPayload;
      try {
        unverified = decodeJwt(token);
      } catch (error) {
        throw new InvalidTokenError('The bearer token is not a well-formed JWT.', { cause: error });
      }
      // The unverified issuer and audience only choose the provider; verify checks them again.
      const provider = await providerFor(unverified);
      const claims = await verifier.verify(token, provider);
      const subject = claims.sub;
      if (typeof subject !== 'string' || subject.length === 0 || subject.length > MAX_CLAIM_TEXT) {
        throw new InvalidTokenError(
          `The access token's subject (\`sub\`) must be 1 to ${MAX_CLAIM_TEXT} characters.`,
        );
      }
      return {
        kind: 'access_token',
        tenantId: provider.tenantId,
        identityProviderId: provider.id,
        scopes: scopesFromClaims(claims, provider.scopeClaim, provider.scopeMap),
        // Rate limits count per person; the subject itself stays out of Redis keys and logs.
        callerId: `user_${sha256Hex(`${provider.id}\n${subject}`).slice(0, 32)}`,
        actor: {
          type: 'user',
          id: subject,
          name: displayName(claims, provider.nameClaim, subject),
          onBehalfOf: null,
        },
      };
    },
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;
