import type { Db, Queryable, Tx } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/errors.js';
import { groupBy } from '../../lib/group-by.js';
import { newId } from '../../lib/ids.js';
import { type ActingContext, emitComplaintEvent, timelineEntry } from '../complaints/complaint-records.js';
import type { ComplaintRow, ComplaintsRepository } from '../complaints/complaints.repository.js';
import type { EventsRepository } from '../events/events.repository.js';
import type { IdempotencyRepository } from '../idempotency/idempotency.repository.js';
import { bindToKey, type IdempotencyBinding } from '../idempotency/idempotency-binding.js';
import { daysBetween, reportPeriod } from '../reports/report-periods.js';
import type { SurveyRow, SurveysRepository } from './surveys.repository.js';
import type {
  AnswerSurveyInput,
  CsatQuery,
  CsatView,
  SendSurveyInput,
  SurveyView,
} from './surveys.schemas.js';

const MAX_PERIOD_DAYS = 366;

/** The survey as the REST API, GraphQL and events show it. */
export function toSurveyView(row: SurveyRow): SurveyView {
  return {
    id: row.id,
    complaintId: row.complaintId,
    channel: row.channel,
    status: row.answeredAt ? 'answered' : 'sent',
    sentAt: row.sentAt.toISOString(),
    sentBy: row.sentBy,
    score: row.score,
    comment: row.comment,
    answeredAt: row.answeredAt ? row.answeredAt.toISOString() : null,
    createdAt: row.createdAt.toISOString(),
  };
}

/**
 * Satisfaction surveys (满意度调查, seeds 000 and 003): sent for any complaint, whatever its status
 * and whether or not a follow-up visit is owed, answered once with a score and a comment, and
 * reported as CSAT per period, channel, category and handler.
 */
export function createSurveysService(deps: {
  db: Db;
  surveys: SurveysRepository;
  complaints: Pick<ComplaintsRepository, 'findByKey' | 'appendTimeline'>;
  events: EventsRepository;
  idempotency: Pick<IdempotencyRepository, 'bindResource'>;
  timeZoneOf: (tenantId: string, tx?: Queryable) => Promise<string>;
  clock: Clock;
}) {
  const { db, surveys, clock } = deps;

  async function complaintOf(context: ActingContext, key: string, tx: Db | Tx, forUpdate: boolean) {
    const complaint = await deps.complaints.findByKey(context.tenantId, key, { forUpdate }, tx);
    if (!complaint) throw new NotFoundError('Complaint', key);
    return complaint;
  }

  async function record(
    context: ActingContext,
    complaint: ComplaintRow,
    type: 'survey.sent' | 'survey.answered',
    survey: SurveyRow,
    data: Record<string, unknown>,
    tx: Tx,
  ) {
    const at = clock.now();
    await deps.complaints.appendTimeline(
      [timelineEntry(context, complaint.id, type, at, { data: { surveyId: survey.id, ...data } })],
      tx,
    );
    await emitComplaintEvent(deps.events, context, complaint, type, at, { survey: toSurveyView(survey) }, tx);
  }

  return {
    /** The complaint's surveys, in the order sent. */
    async list(context: ActingContext, key: string): Promise<SurveyRow[]> {
      const complaint = await complaintOf(context, key, db, false);
      return surveys.listForComplaints(context.tenantId, [complaint.id]);
    },

    /** The surveys of each complaint, in one query however many (GraphQL's nested `surveys`). */
    async listForComplaints(tenantId: string, complaintIds: readonly string[]) {
      const rows = await surveys.listForComplaints(tenantId, [...new Set(complaintIds)]);
      return groupBy(rows, (row) => row.complaintId);
    },

    /** Records a survey sent to the customer of any complaint. */
    async send(
      context: ActingContext,
      key: string,
      input: SendSurveyInput,
      idempotency: IdempotencyBinding | null = null,
    ): Promise<SurveyRow> {
      if (idempotency?.recoveredResourceId) {
        const complaint = await complaintOf(context, key, db, false);
        const sent = await surveys.find(context.tenantId, complaint.id, idempotency.recoveredResourceId);
        if (!sent) throw new NotFoundError('Survey', idempotency.recoveredResourceId);
        return sent;
      }
      return db.transaction(async (tx) => {
        const complaint = await complaintOf(context, key, tx, true);
        const now = clock.now();
        const survey = await surveys.insert(
          {
            id: newId(),
            tenantId: context.tenantId,
            complaintId: complaint.id,
            channel: input.channel ?? complaint.channel,
            sentAt: now,
            sentBy: context.actor,
            createdAt: now,
          },
          tx,
        );
        await record(context, complaint, 'survey.sent', survey, { channel: survey.channel }, tx);
        await bindToKey(deps.idempotency, context.tenantId, idempotency, survey.id, tx);
        return survey;
      });
    },

    /** Records the customer's answer, once: a second is 409 survey_already_answered. */
    async answer(
      context: ActingContext,
      key: string,
      id: string,
      input: AnswerSurveyInput,
    ): Promise<SurveyRow> {
      return db.transaction(async (tx) => {
        const complaint = await complaintOf(context, key, tx, true);
        const survey = await surveys.find(context.tenantId, complaint.id, id, { forUpdate: true }, tx);
        if (!survey) throw new NotFoundError('Survey', id);
        const answered = await surveys.answer(
          context.tenantId,
          id,
          {
            score: input.score,
            comment: input.comment ?? null,
            answeredAt: clock.now(),
            answeredBy: context.actor,
          },
          tx,
        );
        if (!answered) {
          throw new ConflictError('survey_already_answered', 'The survey was answered already', {
            detail: `Survey '${id}' was answered already; a survey takes one answer.`,
            extensions: { currentStatus: 'answered' },
          });
        }
        await record(
          context,
          complaint,
          'survey.answered',
          answered,
          { score: input.score, comment: input.comment ?? null },
          tx,
        );
        return answered;
      });
    },

    /** CSAT of the answers given in the period, in the tenant's time zone, split by `groupBy`. */
    async csat(tenantId: string, query: CsatQuery): Promise<CsatView> {
      if (daysBetween(query.from, query.to) > MAX_PERIOD_DAYS) {
        throw new ValidationError([
          { field: 'querystring.to', message: `must be at most ${MAX_PERIOD_DAYS} days after from` },
        ]);
      }
      const timeZone = await deps.timeZoneOf(tenantId);
      const period = reportPeriod(query.from, query.to, timeZone);
      const rows = await surveys.csat(tenantId, period, query.groupBy ?? 'none');
      return {
        from: query.from,
        to: query.to,
        timeZone,
        groupBy: query.groupBy ?? null,
        groups: rows.map((row) => ({
          ...row,
          csatPercent: Math.round((row.satisfied / row.answered) * 1000) / 10,
        })),
      };
    },
  };
}

export type SurveysService = ReturnType<typeof createSurveysService>;
