import { z } from 'zod';
import { actorSchema, staffSchema } from '../complaints/complaints.schemas.js';

const reason = z.string().trim().min(1).max(2_000);

export const handoverBody = z
  .strictObject({
    to: staffSchema.describe('The next owner, by name or id; becomes the assignee.'),
    reason: reason.describe('Why the complaint changes hands.'),
  })
  .meta({ id: 'Handover' });

export const conflictBody = z
  .strictObject({
    staff: staffSchema.describe('The person with the conflict of interest.'),
    reason: reason.describe('What the conflict is.'),
    handoverTo: staffSchema
      .optional()
      .describe('Hands the complaint over in the same step; required when `staff` owns the complaint.'),
  })
  .meta({ id: 'ConflictCreate' });

export const conflictSchema = z
  .object({
    id: z.uuid(),
    complaintId: z.uuid(),
    staff: z.string(),
    reason: z.string(),
    declaredBy: actorSchema,
    createdAt: z.string(),
  })
  .meta({ id: 'Conflict' });

export const conflictListSchema = z.object({ data: z.array(conflictSchema) }).meta({ id: 'ConflictList' });

export type HandoverInput = z.output<typeof handoverBody>;
export type ConflictInput = z.output<typeof conflictBody>;
export type ConflictView = z.output<typeof conflictSchema>;
