import { DateTime } from 'luxon';
import {
  type BusinessCalendar,
  businessTimeBetween,
  type DurationClock,
  SEARCH_HORIZON_DAYS,
} from '../calendars/business-time.js';
import { addPolicyDuration } from '../calendars/policy-duration.js';
import type { PolicyDeadlineKind } from '../sla-policies/sla-targets.js';

/**
 * The regulatory template catalogue: the complaint-handling clocks each regulator sets, each value
 * with the rule it comes from. A tenant applies a template to a category or a channel and gets an
 * SLA policy whose targets are these clocks (POST /v1/sla-policies/from-regime).
 *
 * How the rules' wording becomes a due instant:
 * - "n days" / "n weeks" are calendar days counted from the instant of receipt (24 real hours a
 *   day). The regulations count whole days and end at the close of the last day; counting from the
 *   instant of receipt gives the same day at the time of receipt, a few hours before the rule's
 *   limit and never after it.
 * - "n business days" are working days of the policy calendar (weekends, its public holidays and
 *   extra working days): the due time keeps its place within the working day, as every business
 *   target does (addPolicyDuration). Again never later than the close of the nth business day.
 * - China counts calendar days, and a period whose last day is a statutory rest day ends on the
 *   first working day after it (民法典 第二百零三条); make-up working days (调休) are working days.
 *   The calendar's holidays and extra working days say which days those are (`endsOnWorkingDay`).
 */

export const REGIME_IDS = [
  'uk_fca_disp',
  'uk_fca_disp_payments',
  'eu_psd2',
  'us_cfpb',
  'us_reg_e',
  'au_asic_rg271',
  'au_asic_rg271_super',
  'cn_cbirc_2020',
] as const;
export type RegimeId = (typeof REGIME_IDS)[number];

/** One clock of a regime. `kind` null: a window the regime reads (an exemption), not a deadline. */
export interface RegulatoryClock {
  id: string;
  label: string;
  kind: PolicyDeadlineKind | null;
  /** ISO-8601 duration from receipt, as SLA targets spell it. */
  duration: string;
  clock: DurationClock;
  /** A last day on a closed day of the calendar moves to the next working day. */
  endsOnWorkingDay?: boolean;
  citation: string;
}

/**
 * One extension step of the final-response deadline: the new limit, counted from receipt, and the
 * least role (in the tenant's role ladder) that may approve it. Steps are taken in order, each once.
 */
export interface ExtensionStep {
  duration: string;
  clock: DurationClock;
  endsOnWorkingDay?: boolean;
  /** The most junior role that may approve, from the default ladder (settings `roles`). */
  approverRole: string;
  /** When the regime allows it: what the approver confirms by approving. */
  condition: string;
  /** The provisional credit must have been given first: in Redress, a pre-refund of the complaint. */
  requiresPreRefund?: boolean;
  citation: string;
}

export interface RegulatoryRegime {
  id: RegimeId;
  name: string;
  jurisdiction: string;
  citation: string;
  clocks: RegulatoryClock[];
  /** The deadline kind an extension moves; every regime here extends only the final response. */
  extends: PolicyDeadlineKind;
  extensions: ExtensionStep[];
  /**
   * The holding-response step: what the customer must be told when the final response will be
   * late. In Redress it is the extension's customer notice, recorded as a communication.
   */
  holdingResponse: { required: boolean; content: string; citation: string } | null;
}

const FCA_DISP_16 = 'FCA Handbook DISP 1.6.2R';
const FCA_DISP_15 = 'FCA Handbook DISP 1.5.2R, 1.5.4R';
const FCA_DISP_162A = 'FCA Handbook DISP 1.6.2AR';
const PSD2_101 = 'Directive (EU) 2015/2366 (PSD2) art. 101(2)';
const CFPB = 'CFPB Company Portal Manual (complaint response timeframes); 12 U.S.C. 5534(b)';
const REG_E = '12 CFR 1005.11(c)';
const RG_271 =
  'ASIC RG 271 (IDR timeframes); ASIC Corporations, Credit and Superannuation (IDR) Instrument 2020/98';
const CN_2020 = '《银行业保险业消费投诉处理管理办法》(中国银保监会令2020年第3号) 第三章 消费投诉处理时限';
const CN_CIVIL_CODE = '《中华人民共和国民法典》第二百零三条 (期间最后一日是法定休假日的顺延)';

/** The catalogue, one template per regime. */
export const REGIMES: Record<RegimeId, RegulatoryRegime> = {
  uk_fca_disp: {
    id: 'uk_fca_disp',
    name: 'UK FCA DISP 1.6 (complaints)',
    jurisdiction: 'GB',
    citation: 'FCA Handbook DISP 1.5, 1.6',
    clocks: [
      {
        id: 'summary_resolution',
        label:
          'Resolved by the end of the 3rd business day after receipt: a summary resolution communication suffices',
        kind: null,
        duration: 'P3D',
        clock: 'business',
        citation: FCA_DISP_15,
      },
      {
        id: 'final_response',
        label: 'Final response within 8 weeks of receipt',
        kind: 'resolution',
        duration: 'P8W',
        clock: 'calendar',
        citation: FCA_DISP_16,
      },
    ],
    extends: 'resolution',
    extensions: [],
    holdingResponse: {
      required: true,
      content:
        'By the end of 8 weeks, a written response explaining why the final response is not ready, when it is expected, and the right to refer to the Financial Ombudsman Service.',
      citation: 'FCA Handbook DISP 1.6.2R(2)',
    },
  },
  uk_fca_disp_payments: {
    id: 'uk_fca_disp_payments',
    name: 'UK FCA DISP 1.6.2A (payment services and e-money)',
    jurisdiction: 'GB',
    citation: FCA_DISP_162A,
    clocks: [
      {
        id: 'summary_resolution',
        label:
          'Resolved by the end of the 3rd business day after receipt: a summary resolution communication suffices',
        kind: null,
        duration: 'P3D',
        clock: 'business',
        citation: FCA_DISP_15,
      },
      {
        id: 'final_response',
        label: 'Final response within 15 business days of receipt',
        kind: 'resolution',
        duration: 'P15D',
        clock: 'business',
        citation: FCA_DISP_162A,
      },
    ],
    extends: 'resolution',
    extensions: [
      {
        duration: 'P35D',
        clock: 'business',
        approverRole: 'team_lead',
        condition:
          'Exceptional circumstances beyond the firm’s control; a holding reply gives the reasons for the delay and the date of the final response.',
        citation: FCA_DISP_162A,
      },
    ],
    holdingResponse: {
      required: true,
      content:
        'A holding reply clearly indicating the reasons for the delay and the deadline for the final response.',
      citation: FCA_DISP_162A,
    },
  },
  eu_psd2: {
    id: 'eu_psd2',
    name: 'EU PSD2 art. 101',
    jurisdiction: 'EU',
    citation: PSD2_101,
    clocks: [
      {
        id: 'final_response',
        label: 'Reply within 15 business days of receipt',
        kind: 'resolution',
        duration: 'P15D',
        clock: 'business',
        citation: PSD2_101,
      },
    ],
    extends: 'resolution',
    extensions: [
      {
        duration: 'P35D',
        clock: 'business',
        approverRole: 'team_lead',
        condition:
          'Exceptional situations beyond the provider’s control; a holding reply clearly indicates the reasons for the delay and the deadline for the final reply.',
        citation: PSD2_101,
      },
    ],
    holdingResponse: {
      required: true,
      content:
        'A holding reply clearly indicating the reasons for the delay and the deadline for the final reply.',
      citation: PSD2_101,
    },
  },
  us_cfpb: {
    id: 'us_cfpb',
    name: 'US CFPB complaint portal',
    jurisdiction: 'US',
    citation: CFPB,
    clocks: [
      {
        id: 'initial_response',
        label: 'Respond within 15 days (a final response or an "in progress" response)',
        kind: 'first_contact',
        duration: 'P15D',
        clock: 'calendar',
        citation: CFPB,
      },
      {
        id: 'final_response',
        label: 'Final response within 60 days',
        kind: 'resolution',
        duration: 'P60D',
        clock: 'calendar',
        citation: CFPB,
      },
    ],
    extends: 'resolution',
    extensions: [],
    holdingResponse: {
      required: true,
      content: 'An "in progress" response within 15 days when the final response will take longer.',
      citation: CFPB,
    },
  },
  us_reg_e: {
    id: 'us_reg_e',
    name: 'US Regulation E 1005.11 (error resolution)',
    jurisdiction: 'US',
    citation: REG_E,
    clocks: [
      {
        id: 'investigation',
        label: 'Investigate and determine whether an error occurred within 10 business days',
        kind: 'resolution',
        duration: 'P10D',
        clock: 'business',
        citation: '12 CFR 1005.11(c)(1)',
      },
    ],
    extends: 'resolution',
    extensions: [
      {
        duration: 'P45D',
        clock: 'calendar',
        approverRole: 'team_lead',
        requiresPreRefund: true,
        condition:
          'Provisional credit (in Redress: the pre-refund) given within 10 business days, and the consumer told of it within 2 business days of crediting.',
        citation: '12 CFR 1005.11(c)(2)',
      },
      {
        duration: 'P90D',
        clock: 'calendar',
        approverRole: 'team_lead',
        requiresPreRefund: true,
        condition:
          'The transfer was not initiated within a State, resulted from a point-of-sale debit card transaction, or occurred within 30 days after the first deposit to a new account; provisional credit given.',
        citation: '12 CFR 1005.11(c)(3)(ii)',
      },
    ],
    holdingResponse: {
      required: true,
      content: 'Notice of the provisional credit (amount and date) within 2 business days of crediting.',
      citation: '12 CFR 1005.11(c)(2)(iv)',
    },
  },
  au_asic_rg271: {
    id: 'au_asic_rg271',
    name: 'Australia ASIC RG 271 (IDR)',
    jurisdiction: 'AU',
    citation: RG_271,
    clocks: [
      {
        id: 'acknowledgement',
        label: 'Acknowledge within 24 hours (or one business day) of receipt',
        kind: 'first_contact',
        duration: 'PT24H',
        clock: 'calendar',
        citation: RG_271,
      },
      {
        id: 'written_response_exemption',
        label: 'Closed within 5 business days: no written IDR response needed (unless asked for)',
        kind: null,
        duration: 'P5D',
        clock: 'business',
        citation: RG_271,
      },
      {
        id: 'final_response',
        label: 'IDR response within 30 calendar days of receipt',
        kind: 'resolution',
        duration: 'P30D',
        clock: 'calendar',
        citation: RG_271,
      },
    ],
    extends: 'resolution',
    extensions: [],
    holdingResponse: {
      required: true,
      content:
        'Before the 30 days end, an IDR delay notification: the reasons for the delay, the right to complain to AFCA, and AFCA’s contact details.',
      citation: RG_271,
    },
  },
  au_asic_rg271_super: {
    id: 'au_asic_rg271_super',
    name: 'Australia ASIC RG 271 (IDR, superannuation)',
    jurisdiction: 'AU',
    citation: RG_271,
    clocks: [
      {
        id: 'acknowledgement',
        label: 'Acknowledge within 24 hours (or one business day) of receipt',
        kind: 'first_contact',
        duration: 'PT24H',
        clock: 'calendar',
        citation: RG_271,
      },
      {
        id: 'written_response_exemption',
        label: 'Closed within 5 business days: no written IDR response needed (unless asked for)',
        kind: null,
        duration: 'P5D',
        clock: 'business',
        citation: RG_271,
      },
      {
        id: 'final_response',
        label: 'IDR response within 45 calendar days of receipt (superannuation trustees)',
        kind: 'resolution',
        duration: 'P45D',
        clock: 'calendar',
        citation: RG_271,
      },
    ],
    extends: 'resolution',
    extensions: [],
    holdingResponse: {
      required: true,
      content:
        'Before the 45 days end, an IDR delay notification: the reasons for the delay, the right to complain to AFCA, and AFCA’s contact details.',
      citation: RG_271,
    },
  },
  cn_cbirc_2020: {
    id: 'cn_cbirc_2020',
    name: '银行业保险业消费投诉处理管理办法 (2020)',
    jurisdiction: 'CN',
    citation: CN_2020,
    clocks: [
      {
        id: 'decision',
        label: '自收到消费投诉之日起15日内作出处理决定并告知投诉人',
        kind: 'resolution',
        duration: 'P15D',
        clock: 'calendar',
        endsOnWorkingDay: true,
        citation: `${CN_2020}; ${CN_CIVIL_CODE}`,
      },
    ],
    extends: 'resolution',
    extensions: [
      {
        duration: 'P30D',
        clock: 'calendar',
        endsOnWorkingDay: true,
        approverRole: 'team_lead',
        condition: '情况复杂的，可以延长至30日，并告知投诉人。',
        citation: CN_2020,
      },
      {
        duration: 'P60D',
        clock: 'calendar',
        endsOnWorkingDay: true,
        // 上级机构或者总行、总公司高级管理人员: the top of the default ladder.
        approverRole: 'general_manager',
        condition:
          '情况特别复杂或者有其他特殊原因的，经上级机构或者总行、总公司高级管理人员审批并告知投诉人，可以再延长30日。',
        citation: CN_2020,
      },
    ],
    holdingResponse: {
      required: true,
      content: '延长处理期限的，告知投诉人延长的期限及理由。',
      citation: CN_2020,
    },
  },
};

export const isRegimeId = (value: string): value is RegimeId =>
  (REGIME_IDS as readonly string[]).includes(value);

/**
 * Moves an instant on a closed local day (no open time in the calendar that day) to the same local
 * time on the next day that has open time: the last day of a period that falls on a rest day
 * moves to the first working day after it, and a make-up working day (an extra working day) counts.
 */
export function rollToWorkingDay(instant: Date, calendar: BusinessCalendar): Date {
  const zone = calendar.timeZone;
  const local = DateTime.fromJSDate(instant, { zone });
  for (let days = 0; days <= SEARCH_HORIZON_DAYS; days += 1) {
    const day = local.startOf('day').plus({ days });
    const open = businessTimeBetween(day.toJSDate(), day.plus({ days: 1 }).toJSDate(), calendar);
    if (open > 0) {
      if (days === 0) return instant;
      return day
        .set({ hour: local.hour, minute: local.minute, second: local.second, millisecond: local.millisecond })
        .toJSDate();
    }
  }
  return instant;
}

/**
 * When a clock of `duration` on `clock` falls due for something received at `receivedAt`: business
 * clocks count working days of `calendar`, calendar clocks 24-hour days; with `endsOnWorkingDay`
 * a due time on a closed day moves to the next working day. A null calendar is open around the clock.
 */
export function clockDueAt(
  spec: { duration: string; clock: DurationClock; endsOnWorkingDay?: boolean },
  receivedAt: Date,
  calendar: BusinessCalendar | null,
): Date {
  const due = addPolicyDuration(receivedAt, spec.duration, spec.clock === 'business' ? calendar : null);
  return spec.endsOnWorkingDay && calendar ? rollToWorkingDay(due, calendar) : due;
}

export interface RegimeDueDate {
  clockId: string;
  kind: PolicyDeadlineKind | null;
  dueAt: Date;
  citation: string;
}

/** Every clock of a regime for a complaint received at `receivedAt`, in the catalogue's order. */
export function regimeDueDates(
  regime: RegulatoryRegime,
  receivedAt: Date,
  calendar: BusinessCalendar | null,
): RegimeDueDate[] {
  return regime.clocks.map((clock) => ({
    clockId: clock.id,
    kind: clock.kind,
    dueAt: clockDueAt(clock, receivedAt, calendar),
    citation: clock.citation,
  }));
}

/**
 * Whether `role` may approve a step asking for `required`, on the tenant's ladder (most junior
 * first): at or above it. A required role the tenant does not have falls to the top of its ladder.
 */
export function roleMayApprove(ladder: readonly string[], required: string, role: string): boolean {
  const at = ladder.indexOf(role);
  if (at < 0) return false;
  const needed = ladder.indexOf(required);
  return at >= (needed < 0 ? ladder.length - 1 : needed);
}
