import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ForbiddenScopeError, NotFoundError, ValidationError } from '../lib/errors.js';
import { extensionsOf, formatGraphqlErrors } from './errors.js';

const log = { warn: () => {}, error: () => {}, info: () => {} } as never;
const context = { app: { log } };
const located = (error: Error, path: Array<string | number>) =>
  new GraphQLError(error.message, { originalError: error, path });

describe('GraphQL error formatting', () => {
  it("carries REST's code, status and extras in extensions, naming GraphQL's input fields", () => {
    expect(extensionsOf(new ForbiddenScopeError('complaints:write'))).toEqual({
      code: 'insufficient_scope',
      status: 403,
      requiredScope: 'complaints:write',
    });
    expect(
      extensionsOf(
        new ValidationError([
          { field: 'body.receivedAt', message: 'must not be in the future' },
          { field: 'args.first', message: 'too big' },
          { field: 'querystring.date', message: 'must not be after today' },
        ]),
      ),
    ).toEqual({
      code: 'validation_failed',
      status: 400,
      errors: [
        { field: 'input.receivedAt', message: 'must not be in the future' },
        { field: 'args.first', message: 'too big' },
        { field: 'args.date', message: 'must not be after today' },
      ],
    });
  });

  it.each([
    ['data alongside the errors', { complaint: null }, 200],
    ['no data: the first error decides', null, 404],
  ])('answers HTTP status by %s', (_case, data, status) => {
    const formatted = formatGraphqlErrors(
      { data, errors: [located(new NotFoundError('Complaint', 'C-000001'), ['complaint'])] },
      context,
    );
    expect(formatted.statusCode).toBe(status);
    expect(formatted.response.errors).toEqual([
      {
        message: "Complaint 'C-000001' not found.",
        path: ['complaint'],
        extensions: { code: 'not_found', status: 404 },
      },
    ]);
  });

  it('answers 503 with Retry-After when a backing service left the operation with nothing', () => {
    const lost = new Error('Connection terminated unexpectedly');
    const headers: Record<string, string> = {};
    const reply = { request: { log }, header: (name: string, value: string) => (headers[name] = value) };
    const whole = formatGraphqlErrors(
      { data: { complaint: null, complaints: null }, errors: [located(lost, ['complaint'])] },
      { app: { log }, reply },
    );
    expect(whole.statusCode).toBe(503);
    expect(headers['retry-after']).toBe('5');
    expect(whole.response.errors[0]!.extensions).toEqual({
      code: 'service_unavailable',
      status: 503,
      service: 'postgres',
    });
    expect(whole.response.errors[0]!.message).toMatch(/^PostgreSQL cannot be reached/);
    // Part of the answer came back: GraphQL over HTTP's 200, with the error beside the data.
    const partial = formatGraphqlErrors(
      {
        data: { complaint: null, workflowSettings: { timeZone: 'UTC' } },
        errors: [located(lost, ['complaint'])],
      },
      context,
    );
    expect(partial.statusCode).toBe(200);
  });

  it('hides what a defect says, and never sends a stack', () => {
    const formatted = formatGraphqlErrors(
      { data: null, errors: [located(new TypeError('secret internals at db.ts:12'), ['complaints'])] },
      context,
    );
    expect(formatted.statusCode).toBe(500);
    expect(JSON.stringify(formatted.response)).not.toMatch(/secret|db\.ts|stack/);
    expect(formatted.response.errors[0]!.extensions).toEqual({ code: 'internal_error', status: 500 });
  });
});
