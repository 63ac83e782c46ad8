import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { Webhook } from 'standardwebhooks';

/** A new signing secret: `whsec_` and the base64 of 32 random bytes, as Standard Webhooks libraries take it. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

// Decoding a secret is cheap but not free, and the same few secrets sign every delivery.
const signers = new LRUCache<string, Webhook>({ max: 10_000 });

function signerFor(secret: string): Webhook {
  let signer = signers.get(secret);
  if (!signer) {
    signer = new Webhook(secret);
    signers.set(secret, signer);
  }
  return signer;
}

/**
 * The `webhook-signature` value: one `v1,<base64 HMAC-SHA256 of id.timestamp.body>` per secret,
 * space-separated, so a receiver holding either the old or the new secret during a rotation
 * verifies the delivery.
 */
export function signatureHeader(secrets: readonly string[], id: string, at: Date, body: string): string {
  return secrets.map((secret) => signerFor(secret).sign(id, at, body)).join(' ');
}

/**
 * The headers of a delivery that a receiver reads, as openapi.yaml and asyncapi.yaml describe
 * them; deliveryHeaders below sets them (and webhook-dispatcher.ts `traceparent`).
 */
export const DELIVERY_HEADERS = [
  {
    name: 'webhook-id',
    required: true,
    description:
      'The event id (`evt_…`): the same on every retry and redelivery, so receivers de-duplicate by it.',
  },
  {
    name: 'webhook-timestamp',
    required: true,
    description: 'Seconds since the epoch when this attempt was sent.',
  },
  {
    name: 'webhook-signature',
    required: true,
    description:
      'Space-separated `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` entries, one per active secret ' +
      '(two during the 24 h after a rotation). Verify with any Standard Webhooks library.',
  },
  {
    name: 'traceparent',
    required: false,
    description:
      'W3C Trace Context of the change the event reports, when tracing is on and the change was sampled.',
  },
] as const;

/** Every header of a delivery attempt but the transport ones (content-length, host). */
export function deliveryHeaders(input: {
  eventId: string;
  body: string;
  secrets: readonly string[];
  at: Date;
}): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'Redress-Webhooks/1',
    'webhook-id': input.eventId,
    'webhook-timestamp': String(Math.floor(input.at.getTime() / 1000)),
    'webhook-signature': signatureHeader(input.secrets, input.eventId, input.at, input.body),
  };
}
