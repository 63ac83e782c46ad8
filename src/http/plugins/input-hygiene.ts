import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type FieldProblem, ValidationError } from '../../lib/errors.js';

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
 * Refuses, before any route sees them, request values that no column can store, so they are a
 * 400 naming the field instead of a database error.
 */
export const inputHygienePlugin = fp(
  async (app: FastifyInstance) => {
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
