import { z } from 'zod';
import {
  communicationSchema,
  complaintSchema,
  timelineEntrySchema,
} from '../complaints/complaints.schemas.js';
import { eventEnvelopeSchema } from '../events/event-envelope.js';
import { dataSubjectIdentifierSchema, exportCountsSchema } from './data-subject-event.js';

/** The most complaints one export holds; `truncated` says when a subject has more. */
export const EXPORT_COMPLAINT_LIMIT = 1_000;

export const exportDataSubjectBody = z
  .strictObject({
    phone: z.string().max(40).optional().describe('The phone number, as written on complaints or otherwise.'),
    email: z.string().max(254).optional().describe('The email address, in any case.'),
    externalId: z.string().max(200).optional().describe("The customer's id in the calling system."),
  })
  .meta({ id: 'DataSubjectQuery' })
  .describe(
    'The data subject, named by exactly one of `phone`, `email` and `externalId` (400 `data_subject_invalid` ' +
      'otherwise). Phones compare by their digits and a leading `+` (`+86 138 0013 8000` is `+8613800138000`, ' +
      'not `13800138000`), emails without regard to case, external ids exactly.',
  );

export const dataSubjectExportSchema = z
  .object({
    subject: z
      .object({
        identifier: dataSubjectIdentifierSchema,
        value: z.string().describe('The identifier normalised as it was looked up.'),
      })
      .describe('Whom the export is of.'),
    generatedAt: z.string().describe('When the export was made (ISO-8601, UTC).'),
    complaints: z
      .array(complaintSchema)
      .describe(
        'Every complaint of the calling tenant whose customer has this identifier, as `GET /v1/complaints/{id}` ' +
          'shows it, newest received first; at most 1,000 (see `truncated`).',
      ),
    communications: z
      .array(communicationSchema)
      .describe('Every communication of those complaints, by complaint, oldest first.'),
    timeline: z
      .array(
        timelineEntrySchema
          .extend({ complaintId: z.uuid().describe('The complaint whose timeline holds the entry.') })
          .meta({ id: 'DataSubjectTimelineEntry' }),
      )
      .describe(
        'Every timeline entry of those complaints, as the timeline shows it, by complaint, oldest first.',
      ),
    events: z
      .array(eventEnvelopeSchema)
      .describe(
        'The events about those complaints still kept (events are kept 30 days), as the feed shows them, oldest first.',
      ),
    counts: exportCountsSchema,
    truncated: z
      .boolean()
      .describe(
        'True when the subject has more than 1,000 complaints: the export holds the 1,000 received last, ' +
          'with their communications, timelines and events.',
      ),
  })
  .meta({ id: 'DataSubjectExport' })
  .describe(
    'Everything Redress holds on a data subject, in clear. A subject of whom nothing is held gets empty lists.',
  );

export type ExportDataSubjectBody = z.output<typeof exportDataSubjectBody>;
export type DataSubjectExport = z.output<typeof dataSubjectExportSchema>;
