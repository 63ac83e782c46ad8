import { describe, expect, it } from 'vitest';
import { fanOut } from './webhook-fanout.js';

const A = 'tenant-a';
const B = 'tenant-b';
const sub = (id: string, tenantId: string, eventTypes: string[], active = true) => ({
  id,
  tenantId,
  eventTypes,
  active,
});
const event = (id: string, tenantId: string, type: string, subscriptionId: string | null = null) => ({
  id,
  tenantId,
  type,
  subscriptionId,
});

describe('fanOut', () => {
  const subscriptions = [
    sub('all-a', A, ['*']),
    sub('deadlines-a', A, ['deadline.*']),
    sub('escalated-a', A, ['complaint.escalated', 'deadline.breached']),
    sub('paused-a', A, ['*'], false),
    sub('all-b', B, ['*']),
  ];

  it('sends each event to the active subscriptions of its own tenant whose patterns select it', () => {
    const pairs = fanOut(
      [
        event('e1', A, 'deadline.breached'),
        event('e2', A, 'complaint.created'),
        event('e3', B, 'deadline.met'),
      ],
      subscriptions,
    );
    expect(pairs.map((p) => `${p.eventId}>${p.subscriptionId}`)).toEqual([
      'e1>all-a',
      'e1>deadlines-a',
      'e1>escalated-a',
      'e2>all-a',
      'e3>all-b',
    ]);
    expect(pairs.every((p) => (p.eventId === 'e3' ? p.tenantId === B : p.tenantId === A))).toBe(true);
  });

  it('sends an addressed event (a ping) to its subscription alone, even a paused one', () => {
    expect(fanOut([event('p1', A, 'webhook.ping', 'deadlines-a')], subscriptions)).toEqual([
      { tenantId: A, subscriptionId: 'deadlines-a', eventId: 'p1' },
    ]);
    expect(fanOut([event('p2', A, 'webhook.ping', 'paused-a')], subscriptions)).toHaveLength(1);
  });

  it("never sends an addressed event to another tenant's subscription, nor to one that is gone", () => {
    expect(fanOut([event('p3', A, 'webhook.ping', 'all-b')], subscriptions)).toEqual([]);
    expect(fanOut([event('p4', A, 'webhook.ping', 'deleted')], subscriptions)).toEqual([]);
  });

  it('sends nothing for a tenant without subscriptions', () => {
    expect(fanOut([event('e4', 'tenant-c', 'complaint.created')], subscriptions)).toEqual([]);
  });
});
