import { z } from 'zod';
import { actorSchema } from '../complaints/complaints.schemas.js';
import { DATA_SUBJECT_IDENTIFIERS } from './data-subject.js';

export const dataSubjectIdentifierSchema = z
  .enum(DATA_SUBJECT_IDENTIFIERS)
  .describe('Which identifier named the data subject.');

/** How many records of each kind an export held. */
export const exportCountsSchema = z.strictObject({
  complaints: z.number().int(),
  communications: z.number().int(),
  timelineEntries: z.number().int(),
  events: z.number().int(),
});

/**
 * The data of a `data_subject.exported` event beside the envelope's `tenantId`: the audit record
 * of an access export. It holds no personal data: the identifier masked, as a caller without
 * `personal_data:read` sees it, never in clear.
 */
export const dataSubjectExportedEventDataSchema = z.object({
  subject: z
    .strictObject({
      identifier: dataSubjectIdentifierSchema,
      masked: z
        .string()
        .describe('The identifier masked (`+86 138****8000`, `w***@example.com`, `CR***45`).'),
    })
    .describe('Whom the export was of, masked.'),
  counts: exportCountsSchema.describe('How many records the export held.'),
  truncated: z.boolean().describe('True when the subject had more complaints than one export holds.'),
  actor: actorSchema.describe('Who asked for the export.'),
});

export type DataSubjectExportedEventData = z.output<typeof dataSubjectExportedEventDataSchema>;
