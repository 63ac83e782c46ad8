import { z } from 'zod';
import {
  preRefundStatus,
  resolutionApproval,
  resolutionOptionKind,
  resolutionStatus,
} from '../../db/schema/index.js';
import { instantSchema } from '../../http/instant.js';
import { actorSchema, channelSchema, complaintKeyParams } from '../complaints/complaints.schemas.js';
import { templateVariablesSchema } from '../reply-templates/reply-templates.schemas.js';
import { minorDigits } from './approval-matrix.js';

const text = (max: number) => z.string().trim().min(1).max(max);

export const staffSchema = z
  .strictObject({
    name: text(200),
    role: text(100).describe('One of the roles in the workflow settings (e.g. handler, team_lead).'),
  })
  .meta({ id: 'Staff' });

const amountSchema = z.number().nonnegative().max(1e12);
const currencySchema = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as CNY');

/** Checks that an amount and currency come together, name a real currency and fit its minor unit. */
function checkMoney(
  money: { amount?: number | undefined; currency?: string | undefined },
  ctx: z.RefinementCtx,
  path: (string | number)[] = [],
) {
  if ((money.amount === undefined) !== (money.currency === undefined)) {
    ctx.addIssue({ code: 'custom', path: [...path, 'currency'], message: 'amount and currency go together' });
    return;
  }
  if (money.amount === undefined || money.currency === undefined) return;
  const digits = minorDigits(money.currency);
  if (digits === null) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'currency'],
      message: `'${money.currency}' is not an ISO 4217 currency`,
    });
  } else if (Math.round(money.amount * 10 ** digits) !== money.amount * 10 ** digits) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'amount'],
      message: `${money.currency} amounts have at most ${digits} decimal places`,
    });
  }
}

const MONEY_REQUIRED = new Set(['refund', 'compensation']);
const NO_MONEY = new Set(['apology', 'explanation']);

const optionInput = z
  .strictObject({
    kind: z.enum(resolutionOptionKind.enumValues),
    description: text(2_000).describe('What is offered, as the customer will hear it.'),
    amount: amountSchema
      .optional()
      .describe('Required for refund and compensation; none for apology and explanation.'),
    currency: currencySchema.optional(),
  })
  .superRefine((option, ctx) => {
    if (MONEY_REQUIRED.has(option.kind) && option.amount === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['amount'],
        message: `a ${option.kind} needs an amount and currency`,
      });
    }
    if (NO_MONEY.has(option.kind) && option.amount !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['amount'], message: `an ${option.kind} carries no amount` });
    }
    checkMoney(option, ctx);
  });

export const createResolutionBody = z
  .strictObject({
    options: z.array(optionInput).min(1).max(10),
    proposedBy: staffSchema,
    note: text(2_000).optional(),
  })
  .meta({ id: 'ResolutionCreate' });

const optionIdsSchema = z
  .array(z.uuid())
  .min(1)
  .max(10)
  .optional()
  .describe('The options decided; defaults to every option awaiting approval.');

export const approveBody = z
  .strictObject({ approver: staffSchema, optionIds: optionIdsSchema, note: text(2_000).optional() })
  .meta({ id: 'ResolutionApproval' });

export const rejectBody = z
  .strictObject({ approver: staffSchema, optionIds: optionIdsSchema, reason: text(2_000) })
  .meta({ id: 'ResolutionRejection' });

export const choiceBody = z
  .strictObject({
    optionId: z.uuid().optional().describe('The option the customer chose.'),
    declined: z.literal(true).optional().describe('The customer accepted none of the options.'),
    note: text(2_000).optional().describe('What the customer said.'),
  })
  .refine((body) => (body.optionId === undefined) !== (body.declined === undefined), {
    message: 'give exactly one of optionId and declined',
  })
  .meta({ id: 'ResolutionChoice' });

export const executeBody = z
  .strictObject({
    executedBy: text(200).optional().describe('Who carried it out; defaults to the acting person.'),
    notice: z
      .strictObject({
        channel: channelSchema.describe('How the notice reached the customer.'),
        measures: text(5_000).describe('What was done (处理措施).'),
        reasons: text(5_000).describe('Why (原因说明).'),
        followUpPlan: text(2_000).describe('What happens next, e.g. the follow-up visit (后续安排).'),
        body: text(20_000).optional().describe('The exact text sent; or leave out and give templateId.'),
        templateId: z
          .uuid()
          .optional()
          .describe(
            'Render the notice from this template; `resolution.measures`, `resolution.reasons`, ' +
              '`resolution.followUpPlan` and `resolution.option.*` are filled in for it.',
          ),
        variables: templateVariablesSchema.optional(),
      })
      .refine((notice) => notice.body !== undefined || notice.templateId !== undefined, {
        message: 'give the notice body or a templateId',
        path: ['body'],
      }),
    followUp: z
      .strictObject({
        onTheSpot: z.boolean().default(false).describe('Settled on the spot…'),
        customerConfirmed: z.boolean().default(false).describe('…with the customer confirming it there.'),
        sensitive: z.boolean().default(false),
        declined: z.boolean().default(false).describe('The customer wants no follow-up calls; remembered.'),
      })
      .default({ onTheSpot: false, customerConfirmed: false, sensitive: false, declined: false })
      .describe('What exempts this resolution from a follow-up visit (DOMAIN §5).'),
  })
  .meta({ id: 'ResolutionExecution' });

export const preRefundBody = z
  .strictObject({
    amount: amountSchema.positive(),
    currency: currencySchema,
    refundedBy: staffSchema.describe(
      'Must be able to grant the amount on their own: a pre-refund waits for nobody.',
    ),
    refundedAt: instantSchema.optional().describe('Defaults to now.'),
    paymentReference: text(200).optional(),
    note: text(2_000).optional(),
  })
  .superRefine((body, ctx) => checkMoney(body, ctx))
  .meta({ id: 'PreRefundCreate' });

export const verificationBody = z
  .strictObject({
    outcome: z
      .enum(['confirmed', 'disputed'])
      .describe('`confirmed`: the refund was due; `disputed`: verification found it was not.'),
    verifiedBy: staffSchema,
    note: text(2_000).optional(),
  })
  .meta({ id: 'PreRefundVerification' });

export const resolutionParams = complaintKeyParams.extend({ resolutionId: z.uuid() });
export const preRefundParams = complaintKeyParams.extend({ preRefundId: z.uuid() });

const staffView = z.object({ name: z.string(), role: z.string() });

export const resolutionSchema = z
  .object({
    id: z.uuid(),
    complaintId: z.uuid(),
    status: z.enum(resolutionStatus.enumValues),
    proposedBy: staffView,
    note: z.string().nullable(),
    options: z.array(
      z.object({
        id: z.uuid(),
        kind: z.enum(resolutionOptionKind.enumValues),
        description: z.string(),
        amount: z.number().nullable(),
        currency: z.string().nullable(),
        approval: z
          .enum(resolutionApproval.enumValues)
          .describe('`pending` until an approver whose limit covers the amount decides.'),
        decidedBy: staffView.nullable(),
        decidedAt: z.string().nullable(),
        decisionNote: z.string().nullable(),
      }),
    ),
    chosenOptionId: z.uuid().nullable(),
    choiceNote: z.string().nullable(),
    choiceRecordedAt: z.string().nullable(),
    executedAt: z.string().nullable(),
    executedBy: z.string().nullable(),
    notice: z
      .object({
        measures: z.string(),
        reasons: z.string(),
        followUpPlan: z.string(),
        communicationId: z.uuid().nullable(),
      })
      .nullable(),
    actor: actorSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Resolution' });

export const resolutionListSchema = z
  .object({ data: z.array(resolutionSchema) })
  .meta({ id: 'ResolutionList' });

export const preRefundSchema = z
  .object({
    id: z.uuid(),
    complaintId: z.uuid(),
    amount: z.number(),
    currency: z.string(),
    refundedBy: staffView,
    refundedAt: z.string(),
    paymentReference: z.string().nullable(),
    note: z.string().nullable(),
    status: z.enum(preRefundStatus.enumValues),
    deadlineId: z.uuid().describe('The `pre_refund_verification` deadline.'),
    verifiedAt: z.string().nullable(),
    verifiedBy: staffView.nullable(),
    verificationNote: z.string().nullable(),
    actor: actorSchema,
    createdAt: z.string(),
  })
  .meta({ id: 'PreRefund' });

export const preRefundListSchema = z.object({ data: z.array(preRefundSchema) }).meta({ id: 'PreRefundList' });

export type CreateResolutionInput = z.output<typeof createResolutionBody>;
export type ApproveInput = z.output<typeof approveBody>;
export type RejectInput = z.output<typeof rejectBody>;
export type ChoiceInput = z.output<typeof choiceBody>;
export type ExecuteInput = z.output<typeof executeBody>;
export type PreRefundInput = z.output<typeof preRefundBody>;
export type VerificationInput = z.output<typeof verificationBody>;
export type ResolutionView = z.output<typeof resolutionSchema>;
export type PreRefundView = z.output<typeof preRefundSchema>;
