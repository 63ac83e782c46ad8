import { isDeepStrictEqual } from 'node:util';
import { EVENT_SCHEMAS } from '../src/modules/events/event-data.js';
import type { EventType } from '../src/modules/events/event-types.js';

/**
 * What is wrong with an event as a consumer got it, held to its type's schema in the catalogue
 * (event-data.ts): an unknown type, a field missing or of the wrong type, or a field the schema
 * does not name, at any depth (zod drops those, so what it gives back differs). Empty when right.
 */
export function eventProblems(event: unknown): string[] {
  const type = (event as { type?: unknown } | null)?.type;
  const schema = typeof type === 'string' ? EVENT_SCHEMAS[type as EventType] : undefined;
  if (!schema) return [`no schema for event type ${JSON.stringify(type)}`];
  const parsed = schema.safeParse(event);
  if (!parsed.success) {
    return parsed.error.issues.map((issue) => `${type} ${issue.path.join('.')}: ${issue.message}`);
  }
  return isDeepStrictEqual(parsed.data, event) ? [] : [`${type}: fields its schema does not name`];
}
