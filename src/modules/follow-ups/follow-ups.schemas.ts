import { z } from 'zod';
import { followUpOutcome, followUpStatus } from '../../db/schema/index.js';
import { instantSchema } from '../../http/instant.js';
import { commaSeparatedEnum } from '../../http/query-params.js';
import { actorSchema } from '../complaints/complaints.schemas.js';
import type { FollowUpListRow } from './follow-ups.repository.js';

export const followUpStatusSchema = z.enum(followUpStatus.enumValues);
export const followUpOutcomeSchema = z.enum(followUpOutcome.enumValues).meta({ id: 'FollowUpOutcome' });

export const followUpSchema = z
  .object({
    id: z.uuid(),
    complaintId: z.uuid(),
    reference: z.string(),
    assignee: z.string().nullable().describe("The complaint's handler, who makes the visit."),
    resolutionId: z.uuid().nullable(),
    deadlineId: z.uuid().describe('The `follow_up` deadline this attempt is due by.'),
    attempt: z
      .number()
      .int()
      .min(1)
      .describe('1 for the first visit; one more for each unreachable attempt.'),
    status: followUpStatusSchema,
    dueAt: z.string(),
    overdue: z.boolean().describe('Pending and past its due time.'),
    outcome: followUpOutcomeSchema.nullable(),
    score: z.number().int().min(1).max(5).nullable(),
    comment: z.string().nullable(),
    contactedBy: z.string().nullable(),
    completedAt: z.string().nullable(),
    recordedBy: actorSchema.nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'FollowUp' });

export const followUpPageSchema = z
  .object({ data: z.array(followUpSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'FollowUpPage' });

export const listFollowUpsQuery = z.strictObject({
  status: commaSeparatedEnum(followUpStatus.enumValues, 'status')
    .optional()
    .describe('Comma-separated; defaults to `pending` (the visits still to make).'),
  overdue: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional()
    .describe('`true`: only pending visits past their due time.'),
  dueBefore: instantSchema.optional().describe('Due before this instant (e.g. the end of today).'),
  assignee: z.string().trim().min(1).max(200).optional().describe("The complaint's handler."),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().min(1).max(500).optional(),
});

/** GraphQL's `followUps(filter, first, after)`, checked as REST checks its query, to the same query. */
export const followUpsArgs = z
  .strictObject({
    filter: z
      .strictObject({
        status: z.array(followUpStatusSchema).max(followUpStatus.enumValues.length).nullish(),
        overdue: z.boolean().nullish(),
        dueBefore: listFollowUpsQuery.shape.dueBefore.unwrap().nullish(),
        assignee: listFollowUpsQuery.shape.assignee.unwrap().nullish(),
      })
      .nullish(),
    first: z.number().int().min(1).max(100),
    after: listFollowUpsQuery.shape.cursor.unwrap().nullish(),
  })
  .transform(
    ({ filter, first, after }): ListFollowUpsQuery => ({
      status: filter?.status?.length ? filter.status : undefined,
      overdue: filter?.overdue ?? undefined,
      dueBefore: filter?.dueBefore ?? undefined,
      assignee: filter?.assignee ?? undefined,
      limit: first,
      cursor: after ?? undefined,
    }),
  );

export const followUpIdParams = z.object({ id: z.uuid() });

export const followUpOutcomeBody = z
  .strictObject({
    outcome: followUpOutcomeSchema.describe(
      '`satisfied` closes the complaint; `unsatisfied` reopens and escalates it; `unreachable` schedules ' +
        'another attempt (up to followUpMaxAttempts); `declined` remembers that the customer wants no visits.',
    ),
    score: z.number().int().min(1).max(5).optional().describe('Satisfaction 1 (worst) to 5 (best).'),
    comment: z.string().trim().min(1).max(2_000).optional(),
    contactedBy: z.string().trim().min(1).max(200).optional().describe('Who made the visit or call.'),
  })
  .superRefine((body, ctx) => {
    if (body.score !== undefined && (body.outcome === 'unreachable' || body.outcome === 'declined')) {
      ctx.addIssue({
        code: 'custom',
        path: ['score'],
        message: `a customer who was ${body.outcome} gave no score`,
      });
    }
  })
  .meta({ id: 'FollowUpOutcomeCreate' });

export const followUpOutcomeResultSchema = z
  .object({
    followUp: followUpSchema,
    nextAttempt: followUpSchema.nullable().describe('The next attempt, after an unreachable one.'),
    attemptsExhausted: z.boolean().describe('Unreachable on the last attempt allowed: no more visits.'),
  })
  .meta({ id: 'FollowUpOutcomeResult' });

export type FollowUpView = z.output<typeof followUpSchema>;
export type FollowUpOutcomeResultView = z.output<typeof followUpOutcomeResultSchema>;
export type FollowUpOutcomeInput = z.output<typeof followUpOutcomeBody>;
export type ListFollowUpsQuery = z.output<typeof listFollowUpsQuery>;

const isoOrNull = (date: Date | null) => (date ? date.toISOString() : null);

/** The follow-up as the REST API and events show it; `now` decides whether it is overdue. */
export function toFollowUpView(row: FollowUpListRow, now: Date): FollowUpView {
  return {
    id: row.id,
    complaintId: row.complaintId,
    reference: row.reference,
    assignee: row.assignee,
    resolutionId: row.resolutionId,
    deadlineId: row.deadlineId,
    attempt: row.attempt,
    status: row.status,
    dueAt: row.dueAt.toISOString(),
    overdue: row.status === 'pending' && row.dueAt.getTime() < now.getTime(),
    outcome: row.outcome,
    score: row.score,
    comment: row.comment,
    contactedBy: row.contactedBy,
    completedAt: isoOrNull(row.completedAt),
    recordedBy: row.recordedBy,
    createdAt: row.createdAt.toISOString(),
  };
}

/** The answer to a recorded outcome, as REST sends it and GraphQL returns it. */
export function toFollowUpOutcomeView(result: {
  followUp: FollowUpListRow;
  nextAttempt: FollowUpListRow | null;
  attemptsExhausted: boolean;
  now: Date;
}): FollowUpOutcomeResultView {
  return {
    followUp: toFollowUpView(result.followUp, result.now),
    nextAttempt: result.nextAttempt ? toFollowUpView(result.nextAttempt, result.now) : null,
    attemptsExhausted: result.attemptsExhausted,
  };
}
