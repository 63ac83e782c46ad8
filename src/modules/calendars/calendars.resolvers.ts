import { etagOfVersion, parseArgs, requireScope, withoutNulls } from '../../graphql/context.js';
import type { GraphqlModule } from '../../graphql/module.js';
import { calendarBody, calendarIdParams, toCalendarView } from './calendars.schemas.js';
import type { CalendarsService } from './calendars.service.js';

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

const typeDefs = /* GraphQL */ `
  "Open from start to end, local time (HH:mm, 24:00 for midnight)."
  type TimeInterval {
    start: String!
    end: String!
  }

  "Open intervals per weekday; a day left out is closed."
  type WeeklyHours {
    ${WEEKDAYS.map((day) => `${day}: [TimeInterval!]`).join('\n    ')}
  }

  type Holiday {
    "YYYY-MM-DD in the calendar's time zone."
    date: String!
    name: String
  }

  "A day worked although a weekend or holiday (an adjusted working day)."
  type ExtraWorkingDay {
    date: String!
    name: String
    intervals: [TimeInterval!]
  }

  "A business calendar, as GET /v1/calendars/{id} shows it."
  type Calendar {
    id: ID!
    name: String!
    "IANA time zone, e.g. Asia/Shanghai."
    timeZone: String!
    weeklyHours: WeeklyHours!
    holidays: [Holiday!]!
    extraWorkingDays: [ExtraWorkingDay!]!
    "Send it back as \`version\` to replaceCalendar (REST: the ETag)."
    version: Int!
    createdAt: DateTime!
    updatedAt: DateTime!
  }

  input TimeIntervalInput {
    start: String!
    end: String!
  }

  input WeeklyHoursInput {
    ${WEEKDAYS.map((day) => `${day}: [TimeIntervalInput!]`).join('\n    ')}
  }

  input HolidayInput {
    date: String!
    name: String
  }

  input ExtraWorkingDayInput {
    date: String!
    name: String
    "Defaults to the first working weekday's hours."
    intervals: [TimeIntervalInput!]
  }

  "As POST and PUT /v1/calendars take it."
  input CalendarInput {
    name: String!
    timeZone: String!
    weeklyHours: WeeklyHoursInput!
    holidays: [HolidayInput!]
    extraWorkingDays: [ExtraWorkingDayInput!]
  }

  extend type Query {
    "The tenant's business calendars (scope policies:manage)."
    calendars: [Calendar!]! @complexity(value: 20)
    "A calendar; null with a not_found error when this tenant has none."
    calendar(id: ID!): Calendar
  }

  extend type Mutation {
    "Creates a business calendar (scope policies:manage)."
    createCalendar(input: CalendarInput!): Calendar!
    "Replaces a calendar still at \`version\`; deadlines already set keep their due times."
    replaceCalendar(id: ID!, version: Int!, input: CalendarInput!): Calendar!
    "Deletes a calendar no policy or open deadline uses (calendar_in_use otherwise); answers its id."
    deleteCalendar(id: ID!): ID!
  }
`;

const idArg = (value: unknown) => parseArgs(calendarIdParams, { id: value }, 'args').id;

/** Business calendars over GraphQL (scope policies:manage): the same CalendarsService calls as REST. */
export function calendarsGraphql(deps: { calendars: CalendarsService }): GraphqlModule {
  const { calendars } = deps;
  return {
    typeDefs,
    resolvers: {
      Query: {
        async calendars(_root, _args, context) {
          const { tenantId } = requireScope(context, 'policies:manage');
          return (await calendars.list(tenantId)).map(toCalendarView);
        },
        async calendar(_root, args, context) {
          const { tenantId } = requireScope(context, 'policies:manage');
          return toCalendarView(await calendars.get(tenantId, idArg(args.id)));
        },
      },
      Mutation: {
        async createCalendar(_root, args, context) {
          const { tenantId } = requireScope(context, 'policies:manage');
          const input = parseArgs(calendarBody, withoutNulls(args.input), 'input');
          return toCalendarView(await calendars.create(tenantId, input));
        },
        async replaceCalendar(_root, args, context) {
          const { tenantId } = requireScope(context, 'policies:manage');
          const input = parseArgs(calendarBody, withoutNulls(args.input), 'input');
          return toCalendarView(
            await calendars.replace(tenantId, idArg(args.id), etagOfVersion(args.version), input),
          );
        },
        async deleteCalendar(_root, args, context) {
          const { tenantId } = requireScope(context, 'policies:manage');
          const id = idArg(args.id);
          await calendars.remove(tenantId, id);
          return id;
        },
      },
    },
  };
}
