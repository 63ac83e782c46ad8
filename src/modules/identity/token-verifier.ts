import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../../lib/clock.js';
import {
  AppError,
  InvalidTokenError,
  ServiceUnavailableError,
  TokenExpiredError,
  truncate,
} from '../../lib/errors.js';

/**
 * Signature algorithms an access token may use: asymmetric ones only. With a symmetric one (HS256)
 * anyone holding the provider's public JWK could sign tokens, the classic "alg confusion".
 */
export const ACCEPTED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/** What a token is checked against: one identity provider of one tenant. */
export interface TokenIssuer {
  issuer: string;
  audience: string;
  /** Null: looked up in the issuer's discovery document. */
  jwksUri: string | null;
}

export interface TokenVerifierOptions {
  clock: Clock;
  /** Seconds a token's exp, nbf and iat may be off by: the provider's clock and ours differ. */
  clockToleranceSeconds: number;
  /**
   * Least time between two fetches of a JWKS for a key id it does not hold (jose's cooldown): a
   * rotated key is picked up at once, a flood of made-up key ids costs one fetch per period.
   */
  jwksCooldownMs: number;
  /** How long a fetch of a discovery document or a JWKS may take. */
  fetchTimeoutMs: number;
  /** How long a discovery document (where the JWKS is) is kept. */
  discoveryTtlMs?: number;
  /**
   * Why a JWKS URI a discovery document names must not be fetched, or null: the same check the
   * URIs a tenant admin registers get, so a provider cannot point Redress at internal services.
   */
  urlProblem?: (url: string) => Promise<string | null>;
}

const DEFAULT_DISCOVERY_TTL_MS = 60 * 60_000;

/** The issuer's signing keys cannot be had now: a retry may succeed. */
function providerUnavailable(issuer: string, reason: string, cause?: unknown): ServiceUnavailableError {
  return new ServiceUnavailableError({
    detail: `The signing keys of issuer '${truncate(issuer)}' cannot be fetched (${reason}); try again later.`,
    headers: { 'retry-after': '30' },
    cause,
  });
}

/** Whether a JWKS error is about the token (its key id is unknown) rather than about the JWKS. */
const isKeySelectionError = (error: unknown) =>
  error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys;

/**
 * Verifies OIDC access tokens with jose: signature against the issuer's JWKS, `iss`, `aud`,
 * `exp` and `nbf`. One remote JWKS is kept per issuer and JWKS URI, so every tenant trusting the
 * same provider shares its cached keys.
 */
export function createTokenVerifier(options: TokenVerifierOptions) {
  const discoveryTtlMs = options.discoveryTtlMs ?? DEFAULT_DISCOVERY_TTL_MS;
  const discovered = new LRUCache<string, Promise<string>>({ max: 1000, ttl: discoveryTtlMs });
  const keySets = new LRUCache<string, ReturnType<typeof createRemoteJWKSet>>({ max: 1000 });

  async function fetchJwksUri(issuer: string): Promise<string> {
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let document: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const response = await fetch(url, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(options.fetchTimeoutMs),
      });
      if (!response.ok) throw new Error(`${url} answered ${response.status}`);
      document = (await response.json()) as typeof document;
    } catch (error) {
      throw providerUnavailable(issuer, 'its discovery document cannot be read', error);
    }
    // OpenID Connect Discovery §4.3: the document must name the issuer it was asked for.
    if (document.issuer !== issuer || typeof document.jwks_uri !== 'string') {
      throw providerUnavailable(issuer, 'its discovery document names another issuer or no jwks_uri');
    }
    const problem = await options.urlProblem?.(document.jwks_uri);
    if (problem) throw providerUnavailable(issuer, `its jwks_uri ${problem}`);
    return document.jwks_uri;
  }

  /** The JWKS URI of an issuer, from its discovery document; a failed look-up is not kept. */
  function jwksUriOf(issuer: string): Promise<string> {
    let pending = discovered.get(issuer);
    if (!pending) {
      pending = fetchJwksUri(issuer);
      discovered.set(issuer, pending);
      pending.catch(() => discovered.delete(issuer));
    }
    return pending;
  }

  function keySetFor(issuer: string, jwksUri: string): JWTVerifyGetKey {
    const cacheKey = `${issuer} ${jwksUri}`;
    let keySet = keySets.get(cacheKey);
    if (!keySet) {
      keySet = createRemoteJWKSet(new URL(jwksUri), {
        cooldownDuration: options.jwksCooldownMs,
        timeoutDuration: options.fetchTimeoutMs,
      });
      keySets.set(cacheKey, keySet);
    }
    const remote = keySet;
    return async (header, token) => {
      try {
        return await remote(header, token);
      } catch (error) {
        if (isKeySelectionError(error)) throw error;
        throw providerUnavailable(issuer, 'its JWKS cannot be read', error);
      }
    };
  }

  return {
    /** The token's claims once it checks out; invalid_token, token_expired or service_unavailable otherwise. */
    async verify(token: string, provider: TokenIssuer): Promise<JWTPayload> {
      const jwksUri = provider.jwksUri ?? (await jwksUriOf(provider.issuer));
      try {
        const { payload } = await jwtVerify(token, keySetFor(provider.issuer, jwksUri), {
          issuer: provider.issuer,
          audience: provider.audience,
          algorithms: ACCEPTED_ALGORITHMS,
          clockTolerance: options.clockToleranceSeconds,
          currentDate: options.clock.now(),
          requiredClaims: ['sub', 'exp'],
        });
        return payload;
      } catch (error) {
        if (error instanceof AppError) throw error;
        if (error instanceof errors.JWTExpired) {
          throw new TokenExpiredError('The access token has expired; sign in again.', { cause: error });
        }
        if (isKeySelectionError(error)) {
          throw new InvalidTokenError(
            `The access token is signed with a key issuer '${truncate(provider.issuer)}' does not publish.`,
            { cause: error },
          );
        }
        if (error instanceof errors.JWTClaimValidationFailed) {
          throw new InvalidTokenError(
            `The access token's '${error.claim}' claim is not accepted: ${error.reason}.`,
            {
              cause: error,
            },
          );
        }
        if (error instanceof errors.JOSEError) {
          throw new InvalidTokenError(`The access token is not accepted: ${error.message}.`, {
            cause: error,
          });
        }
        throw error;
      }
    },
  };
}

export type TokenVerifier = ReturnType<typeof createTokenVerifier>;
