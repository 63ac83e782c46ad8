import { z } from 'zod';
import { eventEnvelopeSchema } from './event-envelope.js';
import { eventPatternSchema } from './event-pattern.js';

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
