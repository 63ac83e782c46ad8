import { z } from 'zod';
import { EVENT_TYPES, isEventPattern, patternSelectsKnownType } from './event-types.js';

/**
 * Event type selectors as webhooks and the feed take them: exact types, `group.*` or `*`. A
 * selector that can match nothing (a typo) is refused rather than silently delivering nothing.
 */
export const eventPatternSchema = z
  .string()
  .max(100)
  .refine(isEventPattern, 'must be an event type, a `group.*` wildcard or `*`')
  .refine(patternSelectsKnownType, 'matches no event type Redress emits')
  .describe(`An event type (${EVENT_TYPES.join(', ')}), a wildcard such as \`deadline.*\`, or \`*\`.`);
