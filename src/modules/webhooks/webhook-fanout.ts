import type { EventConsumer } from '../events/event-relay.js';
import { matchesAnyEventPattern } from '../events/event-types.js';
import type { EventRow } from '../events/events.repository.js';
import type { SubscriptionRow, WebhooksRepository } from './webhooks.repository.js';

type FanoutEvent = Pick<EventRow, 'id' | 'tenantId' | 'type' | 'subscriptionId'>;
type FanoutSubscription = Pick<SubscriptionRow, 'id' | 'tenantId' | 'eventTypes' | 'active'>;

/**
 * The deliveries a batch of events makes: each event to every active subscription of its own
 * tenant whose patterns select its type, except an event addressed to one subscription (a ping),
 * which goes to that subscription alone.
 */
export function fanOut(
  events: readonly FanoutEvent[],
  subscriptions: readonly FanoutSubscription[],
): Array<{ tenantId: string; subscriptionId: string; eventId: string }> {
  const byId = new Map(subscriptions.map((subscription) => [subscription.id, subscription]));
  const byTenant = new Map<string, FanoutSubscription[]>();
  for (const subscription of subscriptions) {
    if (!subscription.active) continue;
    const list = byTenant.get(subscription.tenantId) ?? [];
    list.push(subscription);
    byTenant.set(subscription.tenantId, list);
  }
  const deliveries: Array<{ tenantId: string; subscriptionId: string; eventId: string }> = [];
  for (const event of events) {
    if (event.subscriptionId) {
      const addressed = byId.get(event.subscriptionId);
      if (addressed && addressed.tenantId === event.tenantId) {
        deliveries.push({ tenantId: event.tenantId, subscriptionId: addressed.id, eventId: event.id });
      }
      continue;
    }
    for (const subscription of byTenant.get(event.tenantId) ?? []) {
      if (matchesAnyEventPattern(subscription.eventTypes, event.type)) {
        deliveries.push({ tenantId: event.tenantId, subscriptionId: subscription.id, eventId: event.id });
      }
    }
  }
  return deliveries;
}

/**
 * The relay consumer that turns events into webhook deliveries inside the relay's claiming
 * transaction, so a delivery exists exactly when its event is marked relayed. The NOTIFY wakes
 * dispatchers in other worker processes on commit; `onCommitted` wakes the one in this process.
 */
export function createWebhookFanout(deps: {
  webhooks: Pick<WebhooksRepository, 'fanoutTargets' | 'insertDeliveries' | 'notifyDispatchers'>;
  /** Seconds before the first attempt: the first entry of the retry schedule. */
  firstDelaySeconds: number;
  onCommitted: () => void;
}): EventConsumer {
  return {
    name: 'webhooks',
    async withinClaim(events, tx) {
      const tenantIds = [...new Set(events.map((event) => event.tenantId))];
      const addressed = [
        ...new Set(events.flatMap((event) => (event.subscriptionId ? [event.subscriptionId] : []))),
      ];
      const subscriptions = await deps.webhooks.fanoutTargets(tenantIds, addressed, tx);
      if (subscriptions.length === 0) return;
      const deliveries = fanOut(events, subscriptions);
      if (deliveries.length === 0) return;
      await deps.webhooks.insertDeliveries(deliveries, deps.firstDelaySeconds, tx);
      await deps.webhooks.notifyDispatchers(tx);
    },
    afterCommit() {
      deps.onCommitted();
    },
  };
}
