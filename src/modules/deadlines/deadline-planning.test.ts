import { describe, expect, it } from 'vitest';
import { DEFAULT_TARGETS } from '../sla-policies/sla-targets.js';
import { intakeKinds, planDeadline, remainingAt, resumeTimes } from './deadline-planning.js';

const policy = { id: 'p', version: 3, calendarId: null, warnAt: [0.5, 0.75], targets: DEFAULT_TARGETS };
const received = new Date('2026-09-21T08:00:00Z');

describe('deadline planning', () => {
  it('opens first contact, online reply, resolution, and for major complaints the report and updates', () => {
    expect(intakeKinds({ channel: 'phone', severity: 'general' })).toEqual(['first_contact', 'resolution']);
    expect(intakeKinds({ channel: 'social_media', severity: 'general' })).toEqual([
      'first_contact',
      'online_reply',
      'resolution',
    ]);
    expect(intakeKinds({ channel: 'walk_in', severity: 'major' })).toEqual([
      'first_contact',
      'resolution',
      'major_report',
      'progress_update',
    ]);
  });

  it('plans due and warning times from the policy and records where they came from', () => {
    const planned = planDeadline({ kind: 'online_reply', startsAt: received, policy, calendar: null });
    expect(planned).toMatchObject({
      kind: 'online_reply',
      clock: 'calendar',
      duration: 'PT4H',
      durationMs: 4 * 3_600_000,
      policyId: 'p',
      policyVersion: 3,
    });
    expect(planned.dueAt.toISOString()).toBe('2026-09-21T12:00:00.000Z');
    expect(planned.warnAts.map((d) => d.toISOString())).toEqual([
      '2026-09-21T10:00:00.000Z',
      '2026-09-21T11:00:00.000Z',
    ]);
    // A business clock without a calendar runs around the clock: P5D is five 24-hour days.
    expect(
      planDeadline({ kind: 'resolution', startsAt: received, policy, calendar: null }).dueAt.toISOString(),
    ).toBe('2026-09-26T08:00:00.000Z');
  });

  it('plans a promise to the customer on real time to the moment promised, with no policy target', () => {
    const promised = new Date('2026-09-23T08:00:00Z');
    const planned = planDeadline({
      kind: 'promise',
      startsAt: received,
      policy,
      calendar: null,
      dueAt: promised,
    });
    expect(planned).toMatchObject({
      kind: 'promise',
      clock: 'calendar',
      duration: null,
      durationMs: 48 * 3_600_000,
      calendarId: null,
      policyId: 'p',
    });
    expect(planned.dueAt).toEqual(promised);
    expect(planned.warnAts.map((d) => d.toISOString())).toEqual([
      '2026-09-22T08:00:00.000Z',
      '2026-09-22T20:00:00.000Z',
    ]);
    expect(() => planDeadline({ kind: 'promise', startsAt: received, policy, calendar: null })).toThrow();
  });

  it('takes a promised time as the due time', () => {
    const promised = new Date('2026-09-21T09:30:00Z');
    const planned = planDeadline({
      kind: 'progress_update',
      startsAt: received,
      policy,
      calendar: null,
      dueAt: promised,
    });
    expect(planned.dueAt).toEqual(promised);
    expect(planned.durationMs).toBe(90 * 60_000);
  });

  it('keeps the remaining time over a pause and places unfired warnings by the share left', () => {
    const planned = planDeadline({
      kind: 'resolution',
      startsAt: received,
      policy: {
        ...policy,
        targets: { ...DEFAULT_TARGETS, resolution: { duration: 'PT4H', clock: 'calendar' } },
      },
      calendar: null,
    });
    const pausedAt = new Date('2026-09-21T09:00:00Z'); // 1 h used, 3 h left
    const remainingMs = remainingAt(planned, pausedAt, null);
    expect(remainingMs).toBe(3 * 3_600_000);
    const resumedAt = new Date('2026-09-22T09:00:00Z');
    const { dueAt, warnAts } = resumeTimes({ ...planned, remainingMs, warningsFired: 0 }, resumedAt, null);
    expect(dueAt.toISOString()).toBe('2026-09-22T12:00:00.000Z');
    // Warnings at 50 % (2 h left) and 75 % (1 h left) of the 4 h span.
    expect(warnAts.map((d) => d.toISOString())).toEqual([
      '2026-09-22T10:00:00.000Z',
      '2026-09-22T11:00:00.000Z',
    ]);
  });
});
