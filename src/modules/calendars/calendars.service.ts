import { announceChange } from '../../db/change-notifications.js';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import {
  ConflictError,
  NotFoundError,
  PreconditionFailedError,
  PreconditionRequiredError,
  ValidationError,
} from '../../lib/errors.js';
import { etagForVersion, ifMatchSatisfied } from '../../lib/etag.js';
import { newId } from '../../lib/ids.js';
import {
  addBusinessTime,
  type BusinessCalendar,
  NoOpenTimeError,
  validateCalendar,
} from './business-time.js';
import type { CalendarsRepository } from './calendars.repository.js';
import type { CalendarInput, CalendarRow } from './calendars.schemas.js';

/** The pure-arithmetic view of a stored calendar. */
export function toBusinessCalendar(
  row: Pick<CalendarRow, 'timeZone' | 'weeklyHours' | 'holidays' | 'extraWorkingDays'>,
): BusinessCalendar {
  return {
    timeZone: row.timeZone,
    weeklyHours: row.weeklyHours,
    holidays: row.holidays.map((holiday) => holiday.date),
    extraWorkingDays: row.extraWorkingDays.map((day) => ({ date: day.date, intervals: day.intervals })),
  };
}

const YEAR_MS = 366 * 86_400_000;

/**
 * Refuses a calendar that cannot serve: one with problems, and one with no open time in the
 * coming year (only past extra working days, say), on which every business deadline would fail.
 */
function assertUsable(input: CalendarInput, now: Date): void {
  const calendar = toBusinessCalendar(input);
  const problems = validateCalendar(calendar);
  if (problems.length === 0) {
    let nextOpen: Date | null = null;
    try {
      nextOpen = addBusinessTime(now, 0, calendar);
    } catch (error) {
      if (!(error instanceof NoOpenTimeError)) throw error;
    }
    if (!nextOpen || nextOpen.getTime() - now.getTime() > YEAR_MS) {
      problems.push('the calendar has no open time in the coming year');
    }
  }
  if (problems.length > 0)
    throw new ValidationError(problems.map((message: string) => ({ field: 'body', message })));
}

export function createCalendarsService(deps: {
  db: Db;
  calendars: CalendarsRepository;
  clock: Clock;
  /** Called after a committed change, so this process stops using the old hours at once. */
  onChanged?: (tenantId: string) => void;
}) {
  const { db, calendars, clock } = deps;

  async function get(tenantId: string, id: string): Promise<CalendarRow> {
    const row = await calendars.find(tenantId, id);
    if (!row) throw new NotFoundError('Calendar', id);
    return row;
  }

  return {
    get,
    list: (tenantId: string) => calendars.list(tenantId),

    async create(tenantId: string, input: CalendarInput): Promise<CalendarRow> {
      const now = clock.now();
      assertUsable(input, now);
      return calendars.insert({ id: newId(), tenantId, ...input, createdAt: now, updatedAt: now });
    },

    /** Replaces a calendar; deadlines already set keep their due times, new ones use the new hours. */
    async replace(
      tenantId: string,
      id: string,
      ifMatch: string | undefined,
      input: CalendarInput,
    ): Promise<CalendarRow> {
      if (!ifMatch) throw new PreconditionRequiredError('calendar');
      assertUsable(input, clock.now());
      const replaced = await db.transaction(async (tx) => {
        const current = await calendars.find(tenantId, id, { forUpdate: true }, tx);
        if (!current) throw new NotFoundError('Calendar', id);
        if (!ifMatchSatisfied(ifMatch, etagForVersion(current.version))) {
          throw new PreconditionFailedError('Calendar', id, etagForVersion(current.version));
        }
        await announceChange({ kind: 'sla_config', tenantId }, tx);
        return calendars.replace(tenantId, id, input, clock.now(), tx);
      });
      deps.onChanged?.(tenantId);
      return replaced;
    },

    async remove(tenantId: string, id: string): Promise<void> {
      await db.transaction(async (tx) => {
        const current = await calendars.find(tenantId, id, { forUpdate: true }, tx);
        if (!current) throw new NotFoundError('Calendar', id);
        if (await calendars.isUsedByPolicy(tenantId, id, tx)) {
          throw new ConflictError('calendar_in_use', 'Calendar still in use', {
            detail: `Calendar '${id}' is used by an SLA policy; point the policy at another calendar first.`,
          });
        }
        // Paused deadlines resume on their calendar's hours; without it they would run 24×7.
        if (await calendars.isUsedByOpenDeadline(tenantId, id, tx)) {
          throw new ConflictError('calendar_in_use', 'Calendar still in use', {
            detail: `Calendar '${id}' times deadlines that are still open; delete it once they are settled.`,
          });
        }
        await announceChange({ kind: 'sla_config', tenantId }, tx);
        await calendars.delete(tenantId, id, tx);
      });
      deps.onChanged?.(tenantId);
    },
  };
}

export type CalendarsService = ReturnType<typeof createCalendarsService>;
