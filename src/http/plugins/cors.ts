import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { RESPONSE_HEADERS } from '../openapi-contract.js';

/** How long a browser may keep a preflight answer before asking again. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * CORS for browser partner apps, on an allow-list of origins per deployment (CORS_ALLOWED_ORIGINS).
 * Without origins nothing is registered, and cross-origin pages get no access. Preflights are
 * answered without a key (a browser sends none), and never allow credentials: the API takes its
 * keys in `Authorization`, which a page sends itself, and no cookie may act for a signed-in user.
 * Every header the contract declares on answers is exposed, so an app can read ETag, Location or
 * the rate-limit budget. The list is per deployment, not per tenant: a preflight carries no key,
 * so the tenant is unknown when it must be answered.
 */
export const corsPlugin = fp(
  async (app: FastifyInstance, options: { allowedOrigins: readonly string[] }) => {
    if (options.allowedOrigins.length === 0) return;
    await app.register(cors, {
      origin: [...options.allowedOrigins],
      credentials: false,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      exposedHeaders: Object.keys(RESPONSE_HEADERS),
      maxAge: PREFLIGHT_MAX_AGE_SECONDS,
      strictPreflight: true,
    });
  },
  { name: 'redress-cors', dependencies: ['redress-errors'] },
);
