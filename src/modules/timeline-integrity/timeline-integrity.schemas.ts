import { z } from 'zod';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const timelineVerificationSchema = z
  .object({
    valid: z.boolean().describe('True when every entry links to the one before it as stored.'),
    entries: z.number().int().describe('How many entries the timeline holds now.'),
    head: sha256Hex
      .nullable()
      .describe(
        'The recomputed link of the last entry (hex sha256), what a `timeline.digest` anchored; null without entries.',
      ),
    firstMismatch: z
      .object({
        entryId: z.string().describe('The first entry whose stored link differs from the recomputed one.'),
        position: z
          .number()
          .int()
          .describe('Its place in the timeline as it now stands, 1 for the first entry.'),
        previousEntryId: z
          .string()
          .nullable()
          .describe('The entry before it now: entries missing between the two were removed.'),
        stored: z.string().describe('The link the entry stores (hex).'),
        expected: z.string().describe('The link recomputed from the entries before it (hex).'),
      })
      .nullable()
      .describe('Null when valid.'),
  })
  .meta({ id: 'TimelineVerification' })
  .describe(
    "The complaint's timeline hash chain recomputed from the entries as stored: each entry's link is " +
      'sha256(link before ‖ its canonical content), the first one after 32 zero bytes. An entry changed or removed ' +
      'in the database shows as the first mismatch.',
  );

/** The data of a `timeline.digest` event beside the envelope's `tenantId`. */
export const timelineDigestEventDataSchema = z.object({
  day: z.string().describe('The UTC day digested, YYYY-MM-DD.'),
  complaints: z.number().int().describe('How many complaints had timeline entries that day.'),
  digest: sha256Hex.describe(
    "sha256 over, in complaint id order, each such complaint's id (16 bytes) followed by its head at the day's end (32 bytes); hex.",
  ),
  algorithm: z.literal('sha256-heads-v1'),
});

export type TimelineVerificationView = z.output<typeof timelineVerificationSchema>;
export type TimelineDigestEventData = z.output<typeof timelineDigestEventDataSchema>;
