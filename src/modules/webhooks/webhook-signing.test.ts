import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { deliveryHeaders, newWebhookSecret, signatureHeader } from './webhook-signing.js';

const body = JSON.stringify({ id: 'evt_1', type: 'webhook.ping', data: { note: 'über 😀' } });

describe('newWebhookSecret', () => {
  it('is whsec_ and the base64 of 32 random bytes', () => {
    const secrets = new Set(Array.from({ length: 100 }, newWebhookSecret));
    expect(secrets.size).toBe(100);
    for (const secret of secrets) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    }
  });
});

describe('signatureHeader', () => {
  it('is v1 and the base64 HMAC-SHA256 of id.timestamp.body, per the Standard Webhooks spec', () => {
    const secret = newWebhookSecret();
    const at = new Date('2026-03-01T12:00:00.900Z');
    const expected = createHmac('sha256', Buffer.from(secret.slice(6), 'base64'))
      .update(`evt_1.${Math.floor(at.getTime() / 1000)}.${body}`)
      .digest('base64');
    expect(signatureHeader([secret], 'evt_1', at, body)).toBe(`v1,${expected}`);
  });

  it('carries one signature per secret, each verifiable on its own', () => {
    const [current, previous] = [newWebhookSecret(), newWebhookSecret()];
    const headers = deliveryHeaders({ eventId: 'evt_1', body, secrets: [current, previous], at: new Date() });
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    for (const secret of [current, previous]) {
      expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    }
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(current).verify(`${body} `, headers)).toThrow();
  });
});

describe('deliveryHeaders', () => {
  it('names the event, the send time in seconds and the client', () => {
    const at = new Date('2026-03-01T12:00:00.999Z');
    expect(deliveryHeaders({ eventId: 'evt_abc', body, secrets: [newWebhookSecret()], at })).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'Redress-Webhooks/1',
      'webhook-id': 'evt_abc',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    });
  });
});
