import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ifNoneMatchMatches } from '../../lib/etag.js';

/**
 * Conditional GET (RFC 9110 §13.1.2) for every read that answers with an ETag: when the caller's
 * `If-None-Match` names it, the answer is 304 Not Modified with the ETag and no body, so a browser
 * app or a CRM polling a complaint does not download it again. The handler still reads the
 * resource (the ETag comes from it); what is saved is the transfer.
 */
export const conditionalGetPlugin = fp(
  async (app: FastifyInstance) => {
    // Callback style, as every answer passes here.
    app.addHook('onSend', (request, reply, payload, done) => {
      const ifNoneMatch = request.headers['if-none-match'];
      if (
        ifNoneMatch === undefined ||
        (request.method !== 'GET' && request.method !== 'HEAD') ||
        reply.statusCode !== 200
      ) {
        return done(null, payload);
      }
      const etag = reply.getHeader('etag');
      if (typeof etag !== 'string' || !ifNoneMatchMatches(ifNoneMatch, etag)) return done(null, payload);
      reply.code(304).removeHeader('content-type').removeHeader('content-length');
      done(null, '');
    });
  },
  { name: 'redress-conditional-get' },
);
