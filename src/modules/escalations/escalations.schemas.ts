import { z } from 'zod';
import { escalationTrigger } from '../../db/schema/index.js';
import { actorSchema } from '../complaints/complaints.schemas.js';

export const ESCALATION_LEVELS = [1, 2, 3] as const;

/**
 * Who hears of an escalation. `role` is what routing keys on in the receiving system; name and
 * email let a small team name the person directly.
 */
export const escalationTargetSchema = z
  .strictObject({
    role: z.string().trim().min(1).max(100),
    name: z.string().trim().min(1).max(200).optional(),
    email: z.email().max(254).optional(),
  })
  .meta({ id: 'EscalationTarget' });

const levelTargets = z.array(escalationTargetSchema).min(1).max(20);

/** Targets per level, as policies hold them. */
export const escalationTargetsSchema = z
  .strictObject({ '1': levelTargets, '2': levelTargets, '3': levelTargets })
  .describe(
    'Who each escalation level reaches. Defaults: 1 team lead, 2 department manager, 3 the crisis team led by the general manager.',
  )
  .meta({ id: 'EscalationTargets' });

export const createEscalationBody = z
  .strictObject({
    level: z
      .number()
      .int()
      .min(1)
      .max(3)
      .describe('1 team lead, 2 department manager, 3 crisis team; must be above the current level.'),
    reason: z.string().trim().min(1).max(2_000),
  })
  .meta({ id: 'EscalationCreate' });

export const escalationSchema = z
  .object({
    id: z.uuid(),
    complaintId: z.uuid(),
    level: z.number().int().min(1).max(3),
    previousLevel: z.number().int().min(0).max(2),
    trigger: z
      .enum(escalationTrigger.enumValues)
      .describe(
        '`breach`: a deadline fell due unmet; `major`: a major complaint; `manual`: a handler; `unsatisfied`: the customer was not satisfied at the follow-up visit.',
      ),
    reason: z.string(),
    deadlineId: z.uuid().nullable().describe('The breached deadline, for `breach` escalations.'),
    targets: z.array(escalationTargetSchema),
    actor: actorSchema,
    createdAt: z.string(),
  })
  .meta({ id: 'Escalation' });

export const escalationListSchema = z
  .object({ data: z.array(escalationSchema) })
  .meta({ id: 'EscalationList' });

export type CreateEscalationInput = z.output<typeof createEscalationBody>;
export type EscalationView = z.output<typeof escalationSchema>;
