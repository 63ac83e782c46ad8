import { z } from 'zod';
import { eventEnvelopeSchema } from './event-envelope.js';
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

export const feedQuery = z.strictObject({
  after: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('The `nextCursor` of the previous page; omit to read from the oldest retained event.'),
  types: z
    .string()
    .max(1000)
    .transform((raw, ctx) => {
      const patterns = raw.split(',').map((item) => item.trim());
      for (const pattern of patterns) {
        const checked = eventPatternSchema.safeParse(pattern);
        if (!checked.success) {
          ctx.addIssue({ code: 'custom', message: `'${pattern}': ${checked.error.issues[0]?.message}` });
          return z.NEVER;
        }
      }
      return patterns;
    })
    .optional()
    .describe('Comma-separated event types or wildcards (`deadline.*`); all types when omitted.'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const feedPageSchema = z
  .object({
    data: z.array(eventEnvelopeSchema),
    nextCursor: z
      .string()
      .describe('Always present: pass it as `after` to read on. An empty page means nothing newer yet.'),
  })
  .meta({ id: 'EventPage' });

export type FeedQuery = z.output<typeof feedQuery>;
