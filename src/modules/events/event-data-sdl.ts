import { z } from 'zod';
import { EVENT_DATA_SCHEMAS } from './event-data.js';
import { EVENT_CATALOGUE, EVENT_TYPES, eventTypeNames } from './event-types.js';

/** The name a schema was registered with (`.meta({ id })`), looking through `.describe()` copies. */
function registeredName(schema: z.ZodType): string | undefined {
  for (let at: z.ZodType | undefined = schema; at; at = (at._zod as { parent?: z.ZodType }).parent) {
    const id = z.globalRegistry.get(at)?.id;
    if (id) return id;
  }
  return undefined;
}

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

const quoted = (text: string | undefined) => (text ? `${JSON.stringify(text)}\n` : '');

/**
 * GraphQL object types for the events' data, written from their zod schemas rather than beside
 * them. A named subject (`Complaint`, `Deadline`, `Actor`, an enum such as `ComplaintStatus`) is
 * the GraphQL type of the same name, which resolves from the REST view the event carries; an
 * unnamed object gets a type of its own named after its place (`DeadlineWarningDataWarning`), an
 * unnamed enum is a String. A name the GraphQL schema lacks fails at start-up, not at run time.
 */
function objectTypesSdl(): string {
  const written: string[] = [];
  const typeOf = (schema: z.ZodType, place: string): { type: string; required: boolean } => {
    if (schema instanceof z.ZodOptional)
      return { ...typeOf(schema.unwrap() as z.ZodType, place), required: false };
    if (schema instanceof z.ZodNullable)
      return { ...typeOf(schema.unwrap() as z.ZodType, place), required: false };
    const named = registeredName(schema);
    if (named) return { type: named, required: true };
    if (schema instanceof z.ZodObject) return { type: objectSdl(schema, place), required: true };
    if (schema instanceof z.ZodArray) {
      const element = typeOf(schema.element as z.ZodType, place);
      return { type: `[${element.type}${element.required ? '!' : ''}]`, required: true };
    }
    if (schema instanceof z.ZodStringFormat)
      return { type: schema.format === 'uuid' ? 'ID' : 'String', required: true };
    if (schema instanceof z.ZodString) return { type: 'String', required: true };
    if (schema instanceof z.ZodNumber) return { type: schema.isInt ? 'Int' : 'Float', required: true };
    if (schema instanceof z.ZodBoolean) return { type: 'Boolean', required: true };
    if (schema instanceof z.ZodEnum || schema instanceof z.ZodLiteral)
      return { type: 'String', required: true };
    if (schema instanceof z.ZodRecord) return { type: 'JSONObject', required: true };
    return { type: 'JSON', required: false };
  };
  const objectSdl = (schema: z.ZodObject, name: string, description?: string): string => {
    const fields = Object.entries(schema.shape as Record<string, z.ZodType>).map(([field, child]) => {
      const { type, required } = typeOf(child, `${name}${pascal(field)}`);
      const values = unnamedValues(child);
      const doc = [child.description, values && `One of: ${values.join(', ')}.`].filter(Boolean).join(' ');
      return `  ${quoted(doc)}  ${field}: ${type}${required ? '!' : ''}`;
    });
    written.push(`${quoted(description)}type ${name} {\n${fields.join('\n')}\n}`);
    return name;
  };
  for (const type of EVENT_TYPES) {
    objectSdl(
      EVENT_DATA_SCHEMAS[type],
      eventTypeNames(type).data,
      `The data of ${type}: ${EVENT_CATALOGUE[type].summary}`,
    );
  }
  return written.join('\n\n');
}

/** The values of an enum that has no GraphQL enum of its own (written as a String). */
function unnamedValues(schema: z.ZodType): string[] | undefined {
  let at = schema;
  while (at instanceof z.ZodOptional || at instanceof z.ZodNullable) at = at.unwrap() as z.ZodType;
  if (registeredName(at) || !(at instanceof z.ZodEnum)) return undefined;
  return at.options.map(String);
}

/** `enum EventType`, the union of every type's data, and the data types: the events' typed SDL. */
export function eventCatalogueSdl(): string {
  const values = EVENT_TYPES.map((type) => `  ${quoted(type)}  ${eventTypeNames(type).enumValue}`);
  return [
    `"An event type; ${'`'}complaint.created${'`'} is COMPLAINT_CREATED (dots and underscores become one underscore, upper-cased)."\nenum EventType {\n${values.join('\n')}\n}`,
    `"The data of an event, one type per event type: select its fields with ${'`'}... on ComplaintCreatedData${'`'}."\nunion EventData = ${EVENT_TYPES.map((type) => eventTypeNames(type).data).join(' | ')}`,
    objectTypesSdl(),
  ].join('\n\n');
}
