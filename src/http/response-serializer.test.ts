import Fastify from 'fastify';
import { isResponseSerializationError, validatorCompiler } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ComplaintView, complaintSchema } from '../modules/complaints/complaints.schemas.js';
import { errorsPlugin } from './plugins/errors.js';
import { problemSchema } from './problem.js';
import { createResponseSerializerCompiler } from './response-serializer.js';

const route = { method: 'GET', url: '/v1/complaints/:id', httpStatus: '200' };
const compile = (schema: z.ZodType, validate: boolean) =>
  createResponseSerializerCompiler({ validate })({ schema, ...route });

/** A complaint answer with every field set, and text that JSON must escape. */
const complaint: ComplaintView = {
  id: '0b7c6f6e-8f4c-4c52-9d7e-2f0a3c1d5e6f',
  reference: 'C-000123',
  status: 'investigating',
  channel: 'web',
  severity: 'major',
  priority: 'urgent',
  category: 'billing',
  subject: 'Charged "twice" \\ for the bill',
  description: '王芳 wrote:\n\ttab, \u0007 bell, emoji 🧾, lone \ud800 surrogate, </script>',
  customer: {
    name: '王芳',
    phone: '+86 138 0013 8000',
    email: null,
    address: 'Lane 88\nBuilding 3',
    externalId: 'crm-1',
  },
  desiredOutcome: null,
  occurredAt: '2026-11-30T08:15:30.123Z',
  receivedAt: '2026-12-01T08:00:00.000Z',
  receivedBy: 'agent 7',
  assignee: null,
  escalationLevel: 2,
  externalRef: null,
  complainantRelation: 'representative',
  complainantAuthorised: true,
  rejection: null,
  acceptanceOverride: {
    rejectionCode: 'outside_acceptance_window',
    reason: 'Supervisor decided',
    supervisor: 'Li Lei',
    overriddenAt: '2026-12-02T00:00:00.000Z',
  },
  responsibility: 'upstream',
  upstreamParty: 'Lift manufacturer',
  needType: 'emotional',
  qualityClass: 'non_quality',
  cause: 'broken_promise',
  rootCauseNote: 'The callback was never booked.',
  liability: { finding: 'not_liable', reason: 'third_party', note: 'A contractor cut the power.' },
  majorReasons: ['media_exposure', 'repeat'],
  majorSince: '2026-12-01T08:00:00.000Z',
  mediaExposure: true,
  regulatorInvolved: false,
  premisesBlocked: true,
  highValueReturn: false,
  negativeMediaCoverage: false,
  incidentKey: 'outage-7',
  subjectStaff: ['Han Meimei'],
  tags: ['lift', 'quote"d'],
  metadata: { crm: { ticket: 4711, flags: [true, null, 1.5] }, note: 'ü ✓', empty: {}, list: [] },
  version: 7,
  nextDeadline: {
    id: '5d0c1e9a-3b2f-4a6d-8c7e-1f2a3b4c5d6e',
    kind: 'resolution',
    dueAt: '2026-12-05T00:00:00.000Z',
  },
  createdAt: '2026-12-01T08:00:00.000Z',
  updatedAt: '2026-12-03T10:00:00.000Z',
};

describe('response serialization', () => {
  it('writes exactly what the zod serializer wrote: JSON.stringify of the checked answer', () => {
    const zodWritten = JSON.stringify(z.encode(complaintSchema, complaint));
    for (const validate of [true, false]) {
      expect(compile(complaintSchema, validate)(complaint)).toBe(zodWritten);
      const declined: ComplaintView = {
        ...complaint,
        rejection: { code: 'not_a_stakeholder', detail: 'No authority' },
      };
      expect(compile(complaintSchema, validate)(declined)).toBe(
        JSON.stringify(z.encode(complaintSchema, declined)),
      );
    }
  });

  it('writes a problem with its extension members, and leaves out members that are undefined', () => {
    const problem = {
      type: 'https://redress.dev/problems/conflict',
      title: 'Conflict',
      status: 409,
      detail: 'Complaint is closed',
      code: 'invalid_transition' as const,
      requestId: 'r-1',
      instance: undefined,
      allowedTransitions: ['investigating' as const],
      currentStatus: 'closed',
    };
    const written = compile(problemSchema, true)(problem);
    expect(written).toBe(JSON.stringify(z.encode(problemSchema, problem)));
    expect(JSON.parse(written)).toEqual({ ...problem, instance: undefined });
  });

  it('fails an answer that does not match its schema while validating, as before', () => {
    const wrong = { ...complaint, version: 'seven', customer: { ...complaint.customer, name: 42 } };
    let failure: unknown;
    try {
      compile(complaintSchema, true)(wrong);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(Error);
    expect(isResponseSerializationError(failure as Error)).toBe(true);
    // Without validation (production) it is written by the schema where it can be, or fails.
    expect(() => compile(complaintSchema, false)(wrong)).toThrow(/seven/);
    const coerced = JSON.parse(compile(complaintSchema, false)({ ...wrong, version: 7, extra: 'x' }));
    expect(coerced.customer.name).toBe('42');
    expect(coerced).not.toHaveProperty('extra');
  });

  it('fails an answer that lacks a required field even without validating', () => {
    const { subject: _subject, ...missing } = complaint;
    expect(() => compile(complaintSchema, false)(missing)).toThrow(/subject/);
  });

  it('writes each member of a discriminated union by its own schema, nullable fields and all', () => {
    const union = z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('complaint'), complaint: complaintSchema, note: z.string().nullable() }),
      z.object({ kind: z.literal('count'), n: z.number().int(), at: z.string().nullable() }),
    ]);
    const page = z.object({ data: z.array(union) });
    const answer = {
      data: [
        { kind: 'count', n: 3, at: null },
        { kind: 'complaint', complaint, note: null },
        { kind: 'count', n: 4, at: '2026-12-01T08:00:00.000Z' },
      ],
    };
    for (const validate of [true, false]) {
      expect(compile(page, validate)(answer)).toBe(JSON.stringify(answer));
    }
    // Without validating, a member no branch names is written as it is (an event type since retired).
    const retired = { data: [{ kind: 'retired', anything: [1] }] };
    expect(compile(page, false)(retired)).toBe(JSON.stringify(retired));
  });

  it('answers 500 with a problem, and logs it, when a route answers off its schema while validating', async () => {
    const logged: string[] = [];
    const app = Fastify({
      logger: { level: 'error', stream: { write: (line: string) => logged.push(line) } },
    });
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(createResponseSerializerCompiler({ validate: true }));
    await app.register(errorsPlugin);
    app.get('/drifted', { schema: { response: { 200: complaintSchema } } }, async () => ({
      ...complaint,
      version: 'x',
    }));
    const res = await app.inject({ method: 'GET', url: '/drifted' });
    expect(res.statusCode).toBe(500);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'internal_error' });
    expect(logged.join('')).toContain('request failed');
    await app.close();
  });
});
