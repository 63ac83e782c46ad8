import { z } from 'zod';
import { instantSchema } from '../../http/instant.js';
import { actorSchema, complaintKeyParams } from '../complaints/complaints.schemas.js';
import { deadlineSchema } from '../deadlines/deadline-views.js';

const text = (max: number) => z.string().trim().min(1).max(max);

/** What a promise to the customer can be: its `promise` deadline decides which. */
export const PROMISE_STATUSES = ['open', 'kept', 'broken', 'withdrawn'] as const;
export type PromiseStatus = (typeof PROMISE_STATUSES)[number];

export const makePromiseBody = z
  .strictObject({
    description: text(2_000).describe('What was promised to the customer, in the words used.'),
    dueAt: instantSchema.describe('By when it was promised; must be in the future.'),
    madeBy: text(200).optional().describe('Who made the promise, when not the caller.'),
  })
  .meta({ id: 'PromiseCreate' });

export const keepPromiseBody = z
  .strictObject({ note: text(2_000).optional().describe('How the promise was kept.') })
  .meta({ id: 'PromiseKept' });

export const withdrawPromiseBody = z
  .strictObject({
    reason: text(2_000).describe('Why the promise no longer stands; the customer should be told.'),
  })
  .meta({ id: 'PromiseWithdrawal' });

export const promiseParams = complaintKeyParams.extend({ promiseId: z.uuid() });

export const promiseSchema = z
  .object({
    id: z.uuid(),
    complaintId: z.uuid(),
    description: z.string(),
    madeBy: z.string().nullable(),
    madeAt: z.string(),
    dueAt: z.string(),
    status: z
      .enum(PROMISE_STATUSES)
      .describe(
        'From its `promise` deadline: `open` while pending, `kept` once met (late or not), `broken` when the ' +
          'worker found it due unmet, `withdrawn` when withdrawn with a reason.',
      ),
    keptAt: z.string().nullable(),
    keptLate: z.boolean().describe('Kept after it was broken; the breach still counts.'),
    keptNote: z.string().nullable(),
    brokenAt: z
      .string()
      .nullable()
      .describe('When it fell due unmet; kept when a broken promise is kept late.'),
    withdrawnAt: z.string().nullable(),
    withdrawalReason: z.string().nullable(),
    deadline: deadlineSchema.describe('Its `promise` deadline, the one truth of its status.'),
    actor: actorSchema,
    createdAt: z.string(),
  })
  .meta({ id: 'Promise' });

export const promiseListSchema = z.object({ data: z.array(promiseSchema) }).meta({ id: 'PromiseList' });

export type MakePromiseInput = z.output<typeof makePromiseBody>;
export type KeepPromiseInput = z.output<typeof keepPromiseBody>;
export type WithdrawPromiseInput = z.output<typeof withdrawPromiseBody>;
export type PromiseView = z.output<typeof promiseSchema>;
