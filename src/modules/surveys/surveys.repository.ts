import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db, Queryable } from '../../db/client.js';
import { satisfactionSurveys } from '../../db/schema/index.js';
import type { ReportPeriod } from '../reports/report-periods.js';
import { SATISFIED_FROM } from './surveys.schemas.js';

export type SurveyRow = typeof satisfactionSurveys.$inferSelect;
export type CsatGroupBy = 'channel' | 'category' | 'assignee' | 'none';

export interface CsatRow {
  group: string | null;
  answered: number;
  satisfied: number;
  averageScore: number;
}

/** SQL of satisfaction surveys; every function takes the tenant id and an optional transaction last. */
export function createSurveysRepository(db: Db, reportsDb: Queryable = db) {
  return {
    async insert(row: typeof satisfactionSurveys.$inferInsert, tx: Queryable = db): Promise<SurveyRow> {
      const [inserted] = await tx.insert(satisfactionSurveys).values(row).returning();
      return inserted!;
    },

    async find(
      tenantId: string,
      complaintId: string,
      id: string,
      options: { forUpdate?: boolean } = {},
      tx: Queryable = db,
    ): Promise<SurveyRow | undefined> {
      const query = tx
        .select()
        .from(satisfactionSurveys)
        .where(
          and(
            eq(satisfactionSurveys.tenantId, tenantId),
            eq(satisfactionSurveys.complaintId, complaintId),
            eq(satisfactionSurveys.id, id),
          ),
        );
      const [row] = options.forUpdate ? await query.for('update') : await query;
      return row;
    },

    /** Records the answer once: undefined when it was answered already. */
    async answer(
      tenantId: string,
      id: string,
      answer: Pick<SurveyRow, 'score' | 'comment' | 'answeredAt' | 'answeredBy'>,
      tx: Queryable = db,
    ): Promise<SurveyRow | undefined> {
      const [row] = await tx
        .update(satisfactionSurveys)
        .set(answer)
        .where(
          and(
            eq(satisfactionSurveys.tenantId, tenantId),
            eq(satisfactionSurveys.id, id),
            sql`${satisfactionSurveys.answeredAt} is null`,
          ),
        )
        .returning();
      return row;
    },

    /** The surveys of several complaints in one query, each complaint's in the order sent. */
    async listForComplaints(
      tenantId: string,
      complaintIds: string[],
      tx: Queryable = db,
    ): Promise<SurveyRow[]> {
      if (complaintIds.length === 0) return [];
      return tx
        .select()
        .from(satisfactionSurveys)
        .where(
          and(
            eq(satisfactionSurveys.tenantId, tenantId),
            inArray(satisfactionSurveys.complaintId, complaintIds),
          ),
        )
        .orderBy(
          asc(satisfactionSurveys.complaintId),
          asc(satisfactionSurveys.sentAt),
          asc(satisfactionSurveys.id),
        );
    },

    /**
     * CSAT of the answers given in the period, by the complaint's channel, category or handler:
     * the answers are read through satisfaction_surveys_answered_idx, then their complaints.
     */
    async csat(tenantId: string, period: ReportPeriod, groupBy: CsatGroupBy): Promise<CsatRow[]> {
      const group =
        groupBy === 'channel'
          ? sql`c.channel::text`
          : groupBy === 'category'
            ? sql`c.category`
            : groupBy === 'assignee'
              ? sql`c.assignee`
              : sql`null::text`;
      const result = await reportsDb.execute<Record<string, unknown>>(sql`
        select ${group} as grp, count(*)::int as answered,
          count(*) filter (where s.score >= ${SATISFIED_FROM})::int as satisfied,
          round(avg(s.score), 2)::float8 as average_score
        from satisfaction_surveys s
        join complaints c on c.tenant_id = s.tenant_id and c.id = s.complaint_id
        where s.tenant_id = ${tenantId}::uuid and s.answered_at is not null
          and s.answered_at >= ${period.start.toISOString()}::timestamptz
          and s.answered_at < ${period.end.toISOString()}::timestamptz
        group by 1
        order by 1 nulls last`);
      return result.rows.map((row) => ({
        group: row.grp as string | null,
        answered: Number(row.answered),
        satisfied: Number(row.satisfied),
        averageScore: Number(row.average_score),
      }));
    },
  };
}

export type SurveysRepository = ReturnType<typeof createSurveysRepository>;
