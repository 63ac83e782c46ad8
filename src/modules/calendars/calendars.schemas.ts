import { z } from 'zod';
import type { calendars } from '../../db/schema/index.js';

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
const localTime = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:mm (00:00 to 24:00)');
const localDate = z.iso.date().describe('YYYY-MM-DD in the calendar time zone');

const intervalSchema = z.strictObject({ start: localTime, end: localTime }).meta({ id: 'TimeInterval' });
const intervalsSchema = z.array(intervalSchema).max(8);

export const calendarBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    timeZone: z.string().min(1).max(64).describe('IANA time zone, e.g. Asia/Shanghai'),
    weeklyHours: z
      .strictObject(
        Object.fromEntries(WEEKDAYS.map((day) => [day, intervalsSchema.optional()])) as Record<
          (typeof WEEKDAYS)[number],
          z.ZodOptional<typeof intervalsSchema>
        >,
      )
      .describe('Open intervals per weekday; several a day for lunch breaks; a missing day is closed.'),
    holidays: z
      .array(z.strictObject({ date: localDate, name: z.string().trim().max(100).nullable().default(null) }))
      .max(1000)
      .default([]),
    extraWorkingDays: z
      .array(
        z.strictObject({
          date: localDate,
          name: z.string().trim().max(100).nullable().default(null),
          intervals: intervalsSchema.optional().describe("Defaults to the first working weekday's hours."),
        }),
      )
      .max(1000)
      .default([])
      .describe('Days worked although they are weekends or holidays, such as adjusted working days (调休).'),
  })
  .meta({ id: 'CalendarWrite' });

export const calendarIdParams = z.object({ id: z.uuid() });

export const calendarSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    timeZone: z.string(),
    weeklyHours: z.record(z.string(), z.array(z.object({ start: z.string(), end: z.string() }))),
    holidays: z.array(z.object({ date: z.string(), name: z.string().nullable() })),
    extraWorkingDays: z.array(
      z.object({
        date: z.string(),
        name: z.string().nullable(),
        intervals: z.array(z.object({ start: z.string(), end: z.string() })).optional(),
      }),
    ),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Calendar' });

export const calendarListSchema = z.object({ data: z.array(calendarSchema) }).meta({ id: 'CalendarList' });

export type CalendarInput = z.output<typeof calendarBody>;
export type CalendarRow = typeof calendars.$inferSelect;

export function toCalendarView(row: CalendarRow): z.output<typeof calendarSchema> {
  return {
    id: row.id,
    name: row.name,
    timeZone: row.timeZone,
    weeklyHours: row.weeklyHours,
    holidays: row.holidays,
    extraWorkingDays: row.extraWorkingDays,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
