import { isUtf8 } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type FieldProblem, UnsupportedContentEncodingError, ValidationError } from '../../lib/errors.js';

/** The bodies Redress takes; JSON Merge Patch bodies are JSON, and PATCH callers may label them either way. */
const JSON_MEDIA_TYPES = ['application/json', 'application/merge-patch+json'];

/**
 * The Content-Encoding of a request's body when the body is coded, or null. Redress decodes no
 * content coding (Fastify does not either): a coded body would be parsed as if it were JSON, and a
 * label that lies would be believed. `identity` is no coding; a list with any other member is
 * coded. A request without a body (a GET that carries the header) has nothing coded: the framing
 * headers tell, as they tell Fastify whether there is a body to parse.
 */
function bodyContentEncoding(headers: IncomingHttpHeaders): string | null {
  const contentEncoding = headers['content-encoding'];
  if (contentEncoding === undefined) return null;
  const contentLength = headers['content-length'];
  const hasBody =
    headers['transfer-encoding'] !== undefined || (contentLength !== undefined && contentLength !== '0');
  if (!hasBody) return null;
  for (const member of contentEncoding.split(',')) {
    const coding = member.trim().toLowerCase();
    if (coding !== '' && coding !== 'identity') return contentEncoding;
  }
  return null;
}

/**
 * Why a JSON body's bytes are not text that can be taken, or null. Fastify's own parser decodes
 * leniently, so bytes that are not UTF-8 would be stored as U+FFFD and what the caller sent would
 * be lost without a word. isUtf8 (simdutf) refuses overlong forms and encoded surrogates too, at a
 * cost far below parsing. A leading byte order mark is valid UTF-8 and is ignored, as RFC 8259
 * §8.1 allows: some clients (.NET, PowerShell) send one by default.
 */
function undecodableJson(body: Buffer): string | null {
  return isUtf8(body) ? null : 'must be valid UTF-8 (it has bytes that are not UTF-8 text)';
}

/** JSON deeper than this is refused: no field Redress takes needs more, and deep nesting only costs stack. */
export const MAX_JSON_DEPTH = 32;

/**
 * Why a string cannot be stored, or null. PostgreSQL text and jsonb refuse NUL, and a lone UTF-16
 * surrogate is not text at all; both would otherwise surface as a database error after parsing.
 */
function textProblem(value: string): string | null {
  if (value.includes('\u0000')) return 'must not contain NUL characters';
  if (!value.isWellFormed()) return 'must be valid Unicode (it has an unpaired surrogate)';
  return null;
}

/** Every string and key of a parsed request part that cannot be stored, with its path. */
export function unstorableText(
  value: unknown,
  path: string,
  problems: FieldProblem[] = [],
  depth = 0,
): FieldProblem[] {
  if (problems.length >= 20) return problems;
  if (typeof value === 'string') {
    const problem = textProblem(value);
    if (problem) problems.push({ field: path, message: problem });
    return problems;
  }
  if (value === null || typeof value !== 'object') return problems;
  if (depth >= MAX_JSON_DEPTH) {
    problems.push({ field: path, message: `must not nest deeper than ${MAX_JSON_DEPTH} levels` });
    return problems;
  }
  const entries = Array.isArray(value) ? value.entries() : Object.entries(value);
  for (const [key, child] of entries) {
    const childPath = `${path}.${String(key)}`;
    if (typeof key === 'string') {
      const problem = textProblem(key);
      if (problem) problems.push({ field: childPath, message: `has a key that ${problem}` });
    }
    unstorableText(child, childPath, problems, depth + 1);
  }
  return problems;
}

/**
 * What request bodies Redress takes, and the refusal, before any route sees them, of values that
 * no column can store: a 400 naming the field instead of a database error or a silently changed
 * value. Registered before the routes and GraphQL, whose contexts copy these parsers.
 */
export const inputHygienePlugin = fp(
  async (app: FastifyInstance) => {
    // Callback style, like the hooks below: it runs on every request. Refused before the body is
    // read, so nothing of it is parsed, no Idempotency-Key is claimed and nothing is written.
    app.addHook('preParsing', (request, reply, payload, done) => {
      const contentEncoding = bodyContentEncoding(request.headers);
      if (contentEncoding === null) {
        done(null, payload);
        return;
      }
      // The body is left unread: the connection closes rather than read a body that is refused.
      reply.header('connection', 'close');
      done(new UnsupportedContentEncodingError(contentEncoding));
    });

    // The API speaks JSON only: a text/plain body is 415, not a confusing validation error.
    app.removeContentTypeParser(['application/json', 'text/plain']);
    // Fastify's own JSON parsing (secure-json-parse, refusing __proto__ and constructor.prototype
    // keys), fed text only once its bytes are known to be UTF-8.
    const parseJsonText = app.getDefaultJsonParser('error', 'error');
    app.addContentTypeParser(JSON_MEDIA_TYPES, { parseAs: 'buffer' }, (request, body: Buffer, done) => {
      const problem = undecodableJson(body);
      if (problem !== null) {
        done(new ValidationError([{ field: 'body', message: problem }]), undefined);
        return;
      }
      parseJsonText(request, body.toString('utf8'), done);
    });

    // Callback style: it runs on every request, and has nothing to wait for.
    app.addHook('preValidation', (request, _reply, done) => {
      const problems: FieldProblem[] = [];
      unstorableText(request.params, 'params', problems);
      unstorableText(request.query, 'query', problems);
      unstorableText(request.body, 'body', problems);
      done(problems.length > 0 ? new ValidationError(problems) : undefined);
    });
  },
  { name: 'redress-input-hygiene', dependencies: ['redress-errors'] },
);
