import { describe, expect, it } from 'vitest';
import type { EventRow } from './events.repository.js';
import {
  createLiveEventPublisher,
  type LiveEventMessage,
  liveEventsOf,
  liveEventsTopic,
  localLiveEvents,
} from './live-events.js';

const event = (overrides: Partial<EventRow>): EventRow =>
  ({
    id: 'evt_1',
    tenantId: '00000000-0000-4000-8000-00000000000a',
    type: 'deadline.breached',
    occurredAt: new Date('2026-11-25T08:00:00.000Z'),
    data: { tenantId: '00000000-0000-4000-8000-00000000000a', complaintId: 'c' },
    subscriptionId: null,
    ...overrides,
  }) as EventRow;

describe('live event publisher', () => {
  it("publishes a relay batch's envelopes on their tenant's topic in one message, leaving out events addressed to one webhook", async () => {
    const live = localLiveEvents('deploy');
    const heard: unknown[] = [];
    const topic = liveEventsTopic('deploy', '00000000-0000-4000-8000-00000000000a');
    await new Promise<void>((resolve) =>
      live.emitter.on(
        topic,
        (message, done) => {
          heard.push(message);
          done();
        },
        resolve,
      ),
    );
    const publisher = createLiveEventPublisher({
      emitter: live.emitter,
      prefix: 'deploy',
      log: { warn: () => {} },
    });
    publisher.afterCommit?.([
      event({ id: 'evt_1' }),
      event({ id: 'evt_ping', type: 'webhook.ping', subscriptionId: '00000000-0000-4000-8000-0000000000ff' }),
      event({ id: 'evt_other', tenantId: '00000000-0000-4000-8000-00000000000b' }),
      event({ id: 'evt_2', type: 'complaint.escalated' }),
    ]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(heard).toHaveLength(1);
    const [message] = heard as LiveEventMessage[];
    expect(message!.topic).toBe(topic);
    expect(liveEventsOf(message!.payload)).toEqual([
      {
        id: 'evt_1',
        type: 'deadline.breached',
        timestamp: '2026-11-25T08:00:00.000Z',
        data: { tenantId: '00000000-0000-4000-8000-00000000000a', complaintId: 'c' },
      },
      {
        id: 'evt_2',
        type: 'complaint.escalated',
        timestamp: '2026-11-25T08:00:00.000Z',
        data: { tenantId: '00000000-0000-4000-8000-00000000000a', complaintId: 'c' },
      },
    ]);
    await live.close();
  });

  it('names topics per deployment and tenant', () => {
    expect(liveEventsTopic('redress', 't1')).toBe('redress/event-batches/t1');
    expect(liveEventsTopic('staging', 't1')).not.toBe(liveEventsTopic('redress', 't1'));
  });
});
