import { z } from 'zod';
import { actorSchema, channelSchema, complaintKeyParams } from '../complaints/complaints.schemas.js';
import { localDateSchema } from '../reports/reports.schemas.js';

const text = (max: number) => z.string().trim().min(1).max(max);

export const CSAT_GROUP_BY = ['channel', 'category', 'assignee'] as const;
/** Scores that count as satisfied in CSAT: 4 and 5 of 5. */
export const SATISFIED_FROM = 4;

export const sendSurveyBody = z
  .strictObject({
    channel: channelSchema
      .optional()
      .describe('How the survey reaches the customer; defaults to the complaint’s channel.'),
  })
  .meta({ id: 'SatisfactionSurveyCreate' });

export const answerSurveyBody = z
  .strictObject({
    score: z.number().int().min(1).max(5).describe('1 (very unsatisfied) to 5 (very satisfied).'),
    comment: text(2_000).optional(),
  })
  .meta({ id: 'SatisfactionSurveyAnswer' });

export const surveyParams = complaintKeyParams.extend({ surveyId: z.uuid() });

export const surveySchema = z
  .object({
    id: z.uuid(),
    complaintId: z.uuid(),
    channel: channelSchema,
    status: z.enum(['sent', 'answered']),
    sentAt: z.string(),
    sentBy: actorSchema,
    score: z.number().int().nullable(),
    comment: z.string().nullable(),
    answeredAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'SatisfactionSurvey' });

export const surveyListSchema = z
  .object({ data: z.array(surveySchema) })
  .meta({ id: 'SatisfactionSurveyList' });

export const csatQuery = z
  .strictObject({
    from: localDateSchema.describe('First day, in the tenant time zone.'),
    to: localDateSchema.describe('Last day (inclusive), at most 366 days after `from`.'),
    groupBy: z
      .enum(CSAT_GROUP_BY)
      .optional()
      .describe('Split by the complaint’s channel, category or handler (assignee).'),
  })
  .refine((query) => query.from <= query.to, { message: 'must not be before from', path: ['to'] });

export const csatSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    timeZone: z.string(),
    groupBy: z.enum(CSAT_GROUP_BY).nullable(),
    groups: z.array(
      z.object({
        group: z
          .string()
          .nullable()
          .describe('The group’s value; null without groupBy or where the complaint has none.'),
        answered: z.number().int().describe('Surveys answered in the period.'),
        satisfied: z.number().int().describe(`Answers scoring ${SATISFIED_FROM} or 5.`),
        averageScore: z.number().describe('Mean score, 1–5, to two decimals.'),
        csatPercent: z.number().describe('Satisfied ÷ answered × 100, to one decimal.'),
      }),
    ),
  })
  .meta({ id: 'CsatReport' });

export type SendSurveyInput = z.output<typeof sendSurveyBody>;
export type AnswerSurveyInput = z.output<typeof answerSurveyBody>;
export type CsatQuery = z.output<typeof csatQuery>;
export type CsatView = z.output<typeof csatSchema>;
export type SurveyView = z.output<typeof surveySchema>;
