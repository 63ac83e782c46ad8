import { z } from 'zod';
import { DEADLINE_KINDS } from '../sla-policies/sla-targets.js';
import type { DeadlineRow } from './deadlines.repository.js';

export const deadlineSchema = z
  .object({
    id: z.uuid(),
    complaintId: z.uuid(),
    kind: z.enum(DEADLINE_KINDS),
    status: z.enum(['pending', 'met', 'breached', 'paused', 'cancelled']),
    startsAt: z.string(),
    dueAt: z.string().describe('While paused: the due time before the pause; it moves on resume.'),
    warnAts: z.array(z.string()),
    warningsFired: z.number().int(),
    clock: z.enum(['calendar', 'business']),
    targetDuration: z.string().nullable().describe('The policy target, or null for a promised time.'),
    remainingMs: z.number().int().nullable().describe('Time left in the deadline clock while paused.'),
    pausedAt: z.string().nullable(),
    metAt: z.string().nullable(),
    breachedAt: z.string().nullable().describe('Kept when a breached deadline is met late.'),
    cancelledAt: z.string().nullable(),
    metLate: z.boolean(),
    policyId: z.uuid(),
    policyVersion: z.number().int(),
    createdAt: z.string(),
  })
  .meta({ id: 'Deadline' });

export type DeadlineView = z.output<typeof deadlineSchema>;

const isoOrNull = (date: Date | null) => (date ? date.toISOString() : null);

/** The deadline as the REST API and events show it. */
export function toDeadlineView(row: DeadlineRow): DeadlineView {
  return {
    id: row.id,
    complaintId: row.complaintId,
    kind: row.kind,
    status: row.status,
    startsAt: row.startsAt.toISOString(),
    dueAt: row.dueAt.toISOString(),
    warnAts: row.warnAts.map((date) => date.toISOString()),
    warningsFired: row.warningsFired,
    clock: row.clock,
    targetDuration: row.targetDuration,
    remainingMs: row.remainingMs,
    pausedAt: isoOrNull(row.pausedAt),
    metAt: isoOrNull(row.metAt),
    breachedAt: isoOrNull(row.breachedAt),
    cancelledAt: isoOrNull(row.cancelledAt),
    metLate: row.metAt !== null && row.metAt.getTime() > row.dueAt.getTime(),
    policyId: row.policyId,
    policyVersion: row.policyVersion,
    createdAt: row.createdAt.toISOString(),
  };
}

export const nextDeadlineSchema = z
  .object({ id: z.uuid(), kind: z.enum(DEADLINE_KINDS), dueAt: z.string() })
  .nullable()
  .describe('The earliest pending deadline, or null when none is pending.')
  .meta({ id: 'NextDeadline' });

/** The part of a deadline a complaint answer shows as its next due one. */
export type NextDeadline = Pick<DeadlineRow, 'id' | 'kind' | 'dueAt'>;

export function toNextDeadline(row: NextDeadline | undefined): z.output<typeof nextDeadlineSchema> {
  return row ? { id: row.id, kind: row.kind, dueAt: row.dueAt.toISOString() } : null;
}
