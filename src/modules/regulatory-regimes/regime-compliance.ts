import type { BusinessCalendar } from '../calendars/business-time.js';
import type { DeadlineKind } from '../sla-policies/sla-targets.js';
import { clockDueAt, type RegulatoryRegime } from './regimes.js';

/** One complaint a regime governs, with its regime deadlines (the first of each kind). */
export interface GovernedComplaint {
  complaintId: string;
  receivedAt: Date;
  closed: boolean;
  calendarId: string | null;
  deadlines: Array<{ kind: DeadlineKind; metAt: Date | null; breached: boolean; extensions: number }>;
}

export interface ClockCompliance {
  id: string;
  label: string;
  kind: DeadlineKind | null;
  duration: string;
  clock: 'calendar' | 'business';
  citation: string;
  /** Complaints whose clock has run out, or whose deadline was met: those the clock has decided. */
  decided: number;
  /** Of those, met by the clock's limit counted from receipt (the base limit, before any extension). */
  within: number;
  /** within / decided, to one decimal; null when none is decided yet. */
  withinPercent: number | null;
}

export interface RegimeComplianceCounts {
  received: number;
  closed: number;
  /** Extension steps taken, and complaints with at least one. */
  extensionsUsed: number;
  extendedComplaints: number;
  /** Regime deadlines breached (kept when met late). */
  breaches: number;
  clocks: ClockCompliance[];
}

/**
 * The compliance figures of a regime over the complaints it governed: for each clock, how many
 * of the complaints it has decided were answered within it. A window clock (kind null, e.g. the
 * FCA's three business days) reads the deadline the regime extends. Pure: `now` and the
 * calendars come in.
 */
export function regimeCompliance(
  regime: RegulatoryRegime,
  complaints: readonly GovernedComplaint[],
  calendars: ReadonlyMap<string, BusinessCalendar>,
  now: Date,
): RegimeComplianceCounts {
  // The policy also holds the tenant's own targets for other kinds: only the regime's count here.
  const regimeKinds = new Set<DeadlineKind>([
    regime.extends,
    ...regime.clocks.flatMap((clock) => (clock.kind ? [clock.kind] : [])),
  ]);
  let extensionsUsed = 0;
  let extendedComplaints = 0;
  let breaches = 0;
  for (const complaint of complaints) {
    const own = complaint.deadlines.filter((deadline) => regimeKinds.has(deadline.kind));
    const steps = own.reduce((sum, deadline) => sum + deadline.extensions, 0);
    extensionsUsed += steps;
    if (steps > 0) extendedComplaints += 1;
    breaches += own.filter((deadline) => deadline.breached).length;
  }
  const clocks = regime.clocks.map((clock): ClockCompliance => {
    const kind = clock.kind ?? regime.extends;
    let decided = 0;
    let within = 0;
    for (const complaint of complaints) {
      const deadline = complaint.deadlines.find((candidate) => candidate.kind === kind);
      if (!deadline) continue;
      const calendar = complaint.calendarId ? (calendars.get(complaint.calendarId) ?? null) : null;
      const limit = clockDueAt(clock, complaint.receivedAt, calendar).getTime();
      const met = deadline.metAt?.getTime() ?? null;
      if (met === null && limit > now.getTime()) continue;
      decided += 1;
      if (met !== null && met <= limit) within += 1;
    }
    return {
      id: clock.id,
      label: clock.label,
      kind: clock.kind,
      duration: clock.duration,
      clock: clock.clock,
      citation: clock.citation,
      decided,
      within,
      withinPercent: decided === 0 ? null : Math.round((within / decided) * 1000) / 10,
    };
  });
  return {
    received: complaints.length,
    closed: complaints.filter((complaint) => complaint.closed).length,
    extensionsUsed,
    extendedComplaints,
    breaches,
    clocks,
  };
}
