import { z } from 'zod';
import { actingContextOf, parseArgs, requireScope, withoutNulls } from '../../graphql/context.js';
import { idempotentMutation } from '../../graphql/idempotency.js';
import { enumSdl, type GraphqlModule } from '../../graphql/module.js';
import { complaintKeyParams } from '../complaints/complaints.schemas.js';
import type { IdempotencyService } from '../idempotency/idempotency.service.js';
import {
  answerSurveyBody,
  CSAT_GROUP_BY,
  csatQuery,
  sendSurveyBody,
  surveyParams,
} from './surveys.schemas.js';
import { type SurveysService, toSurveyView } from './surveys.service.js';

const typeDefs = /* GraphQL */ `
  ${enumSdl('SurveyStatus', ['sent', 'answered'])}
  ${enumSdl('CsatGroupBy', CSAT_GROUP_BY)}

  "A satisfaction survey, as GET /v1/complaints/{id}/surveys lists it."
  type SatisfactionSurvey {
    id: ID!
    complaintId: ID!
    "How the survey reached the customer."
    channel: Channel!
    status: SurveyStatus!
    sentAt: DateTime!
    sentBy: Actor!
    "1 (very unsatisfied) to 5 (very satisfied), once answered."
    score: Int
    comment: String
    answeredAt: DateTime
    createdAt: DateTime!
  }

  type CsatGroup {
    "The group's value; null without groupBy or where the complaint has none."
    group: String
    answered: Int!
    "Answers scoring 4 or 5."
    satisfied: Int!
    averageScore: Float!
    csatPercent: Float!
  }

  "CSAT of the surveys answered in a period, as GET /v1/reports/csat."
  type CsatReport {
    from: String!
    to: String!
    timeZone: String!
    groupBy: CsatGroupBy
    groups: [CsatGroup!]!
  }

  input SurveyInput {
    "How the survey reaches the customer; defaults to the complaint's channel."
    channel: Channel
  }

  input SurveyAnswerInput {
    "1 (very unsatisfied) to 5 (very satisfied)."
    score: Int!
    comment: String
  }

  extend type Complaint {
    "Every satisfaction survey sent for the complaint, in the order sent."
    surveys: [SatisfactionSurvey!]! @complexity(value: 5)
  }

  extend type Query {
    "CSAT of the surveys answered from \`from\` to \`to\` (local days), split by groupBy."
    csat(from: String!, to: String!, groupBy: CsatGroupBy): CsatReport!
  }

  extend type Mutation {
    "Records a satisfaction survey sent for any complaint. With idempotencyKey a retry gets the first answer."
    sendSurvey(complaintId: ID!, input: SurveyInput, idempotencyKey: String): SatisfactionSurvey!
    "Records the customer's answer, once (survey_already_answered)."
    answerSurvey(complaintId: ID!, surveyId: ID!, input: SurveyAnswerInput!): SatisfactionSurvey!
  }
`;

const complaintArgs = z.strictObject({ complaintId: complaintKeyParams.shape.id });
const surveyArgs = complaintArgs.extend({ surveyId: surveyParams.shape.surveyId });
const inputOf = <S extends z.ZodType>(schema: S, input: unknown) =>
  parseArgs(schema, withoutNulls(input ?? {}), 'input');

/** Satisfaction surveys and CSAT over GraphQL: the same SurveysService calls as the REST routes. */
export function surveysGraphql(deps: {
  surveys: SurveysService;
  idempotency: IdempotencyService;
}): GraphqlModule {
  const { surveys, idempotency } = deps;
  return {
    typeDefs,
    resolvers: {
      Query: {
        async csat(_root, args, context) {
          const { tenantId } = requireScope(context, 'reports:read');
          return surveys.csat(tenantId, parseArgs(csatQuery, withoutNulls(args), 'args'));
        },
      },
      Mutation: {
        async sendSurvey(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const { complaintId } = parseArgs(complaintArgs, { complaintId: args.complaintId }, 'args');
          const input = inputOf(sendSurveyBody, args.input);
          return idempotentMutation(
            idempotency,
            {
              tenantId: acting.tenantId,
              key: args.idempotencyKey,
              operation: 'sendSurvey',
              input: { complaintId, input },
            },
            async (binding) => toSurveyView(await surveys.send(acting, complaintId, input, binding)),
          );
        },
        async answerSurvey(_root, args, context) {
          const acting = actingContextOf(context, 'complaints:write');
          const { complaintId, surveyId } = parseArgs(
            surveyArgs,
            { complaintId: args.complaintId, surveyId: args.surveyId },
            'args',
          );
          const input = inputOf(answerSurveyBody, args.input);
          return toSurveyView(await surveys.answer(acting, complaintId, surveyId, input));
        },
      },
    },
    loaders: {
      Complaint: {
        // The surveys of a whole page of complaints in one query.
        async surveys(queries, context) {
          const { tenantId } = requireScope(context, 'complaints:read');
          const ids = queries.map(({ obj }) => (obj as { id: string }).id);
          const byComplaint = await surveys.listForComplaints(tenantId, ids);
          return ids.map((id) => (byComplaint.get(id) ?? []).map(toSurveyView));
        },
      },
    },
  };
}
