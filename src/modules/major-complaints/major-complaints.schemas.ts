import { z } from 'zod';
import { commaSeparatedEnum } from '../../http/query-params.js';
import { COMPLAINT_STATUSES } from '../complaints/complaint-status.js';
import { majorReasonSchema } from '../complaints/complaints.schemas.js';

export const listMajorComplaintsQuery = z.strictObject({
  reason: majorReasonSchema.optional().describe('Only complaints major for this reason.'),
  status: commaSeparatedEnum(COMPLAINT_STATUSES, 'status').optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().min(1).max(500).optional().describe('`nextCursor` from the previous page.'),
});

export type ListMajorComplaintsQuery = z.output<typeof listMajorComplaintsQuery>;
