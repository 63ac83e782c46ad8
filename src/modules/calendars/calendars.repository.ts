import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { calendars, deadlines, slaPolicies } from '../../db/schema/index.js';
import type { CalendarRow } from './calendars.schemas.js';

export function createCalendarsRepository(db: Queryable) {
  return {
    async insert(row: typeof calendars.$inferInsert, tx: Queryable = db): Promise<CalendarRow> {
      const [inserted] = await tx.insert(calendars).values(row).returning();
      return inserted!;
    },

    /**
     * `forUpdate` to change or delete the calendar; `forKeyShare` to refer to it, which keeps it
     * from being deleted (removal locks it for update) until the caller's transaction ends.
     */
    async find(
      tenantId: string,
      id: string,
      options: { forUpdate?: boolean; forKeyShare?: boolean } = {},
      tx: Queryable = db,
    ) {
      const query = tx
        .select()
        .from(calendars)
        .where(and(eq(calendars.tenantId, tenantId), eq(calendars.id, id)));
      const [row] = options.forUpdate
        ? await query.for('update')
        : options.forKeyShare
          ? await query.for('key share')
          : await query;
      return row;
    },

    async findMany(tenantId: string, ids: string[], tx: Queryable = db): Promise<CalendarRow[]> {
      if (ids.length === 0) return [];
      return tx
        .select()
        .from(calendars)
        .where(and(eq(calendars.tenantId, tenantId), sql`${calendars.id} = any(${ids}::uuid[])`));
    },

    async list(tenantId: string, tx: Queryable = db): Promise<CalendarRow[]> {
      return tx
        .select()
        .from(calendars)
        .where(eq(calendars.tenantId, tenantId))
        .orderBy(asc(calendars.createdAt));
    },

    async replace(
      tenantId: string,
      id: string,
      values: Pick<CalendarRow, 'name' | 'timeZone' | 'weeklyHours' | 'holidays' | 'extraWorkingDays'>,
      at: Date,
      tx: Queryable = db,
    ): Promise<CalendarRow> {
      const [row] = await tx
        .update(calendars)
        .set({ ...values, updatedAt: at, version: sql`${calendars.version} + 1` })
        .where(and(eq(calendars.tenantId, tenantId), eq(calendars.id, id)))
        .returning();
      return row!;
    },

    async isUsedByPolicy(tenantId: string, id: string, tx: Queryable = db): Promise<boolean> {
      const [row] = await tx
        .select({ id: slaPolicies.id })
        .from(slaPolicies)
        .where(and(eq(slaPolicies.tenantId, tenantId), eq(slaPolicies.calendarId, id)))
        .limit(1);
      return row !== undefined;
    },

    /** Whether a pending or paused deadline still runs on this calendar's hours. */
    async isUsedByOpenDeadline(tenantId: string, id: string, tx: Queryable = db): Promise<boolean> {
      const [row] = await tx
        .select({ id: deadlines.id })
        .from(deadlines)
        .where(
          and(
            eq(deadlines.tenantId, tenantId),
            eq(deadlines.calendarId, id),
            inArray(deadlines.status, ['pending', 'paused']),
          ),
        )
        .limit(1);
      return row !== undefined;
    },

    async delete(tenantId: string, id: string, tx: Queryable = db): Promise<void> {
      await tx.delete(calendars).where(and(eq(calendars.tenantId, tenantId), eq(calendars.id, id)));
    },
  };
}

export type CalendarsRepository = ReturnType<typeof createCalendarsRepository>;
