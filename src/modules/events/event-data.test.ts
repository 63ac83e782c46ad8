import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EVENT_DATA_SCHEMAS, EVENT_SCHEMAS } from './event-data.js';
import { eventEnvelopeSchema } from './event-envelope.js';
import { EVENT_CATALOGUE, EVENT_TYPES, eventTypeNames } from './event-types.js';

const root = new URL('../../../', import.meta.url);

describe('the event catalogue', () => {
  it('has a data schema and an envelope for every type it lists, and for no other', () => {
    expect(Object.keys(EVENT_DATA_SCHEMAS)).toEqual(Object.keys(EVENT_CATALOGUE));
    expect(Object.keys(EVENT_SCHEMAS)).toEqual(EVENT_TYPES);
    for (const type of EVENT_TYPES) {
      expect(EVENT_SCHEMAS[type].shape.type.value).toBe(type);
    }
    expect((EVENT_SCHEMAS as Record<string, unknown>)['complaint.deleted']).toBeUndefined();
    const unknown = { id: 'evt_x', type: 'complaint.deleted', timestamp: '2026-01-01T00:00:00Z', data: {} };
    expect(eventEnvelopeSchema.safeParse(unknown).success).toBe(false);
  });

  it('names each type once in every language: valid GraphQL enum values and schema names', () => {
    const names = EVENT_TYPES.map(eventTypeNames);
    expect(eventTypeNames('complaint.created')).toEqual({
      pascal: 'ComplaintCreated',
      envelope: 'ComplaintCreatedEvent',
      data: 'ComplaintCreatedData',
      enumValue: 'COMPLAINT_CREATED',
    });
    expect(eventTypeNames('pre_refund.issued')).toMatchObject({
      pascal: 'PreRefundIssued',
      enumValue: 'PRE_REFUND_ISSUED',
    });
    for (const { pascal, enumValue } of names) {
      expect(enumValue).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(pascal).toMatch(/^[A-Z][A-Za-z0-9]*$/);
    }
    expect(new Set(names.map((name) => name.enumValue)).size).toBe(EVENT_TYPES.length);
    expect(new Set(names.map((name) => name.pascal)).size).toBe(EVENT_TYPES.length);
  });

  it('refuses data that lacks a field, has one of the wrong type, or one its schema does not name', () => {
    const ping = {
      id: 'evt_ping',
      type: 'webhook.ping',
      timestamp: '2026-01-01T00:00:00.000Z',
      data: {
        tenantId: '0190a0f6-7c5b-7cc4-9d62-9c6f3c3b8a11',
        webhook: { id: '0190a0f6-7c5b-7cc4-9d62-9c6f3c3b8a12', url: 'https://crm.example/hooks' },
      },
    };
    expect(eventEnvelopeSchema.parse(ping)).toEqual(ping);
    expect(eventEnvelopeSchema.safeParse({ ...ping, data: { tenantId: ping.data.tenantId } }).success).toBe(
      false,
    );
    expect(eventEnvelopeSchema.safeParse({ ...ping, data: { ...ping.data, tenantId: 7 } }).success).toBe(
      false,
    );
    expect(eventEnvelopeSchema.safeParse({ ...ping, data: { ...ping.data, extra: true } }).success).toBe(
      false,
    );
    // A type's data is its own: a ping's data is no complaint.created's.
    expect(eventEnvelopeSchema.safeParse({ ...ping, type: 'complaint.created' }).success).toBe(false);
  });

  it('gives each webhook of openapi.yaml its own typed envelope, and the feed the union of them', async () => {
    const document = parse(await readFile(new URL('openapi.yaml', root), 'utf8'));
    expect(Object.keys(document.webhooks)).toEqual(EVENT_TYPES);
    for (const type of EVENT_TYPES) {
      const { pascal } = eventTypeNames(type);
      const body = document.webhooks[type].post.requestBody.content['application/json'].schema;
      expect(body).toEqual({ $ref: `#/components/schemas/${pascal}Event` });
      const envelope = document.components.schemas[`${pascal}Event`];
      expect(envelope.properties.type).toEqual({ type: 'string', const: type });
      expect(envelope.properties.data).toEqual({ $ref: `#/components/schemas/${pascal}Data` });
      expect(document.components.schemas[`${pascal}Data`].additionalProperties).toBe(false);
    }
    expect(document.components.schemas.Event.oneOf).toHaveLength(EVENT_TYPES.length);
  });

  it('types GraphQL events: EventType is the enum of every type, and payload a union of their data', async () => {
    const sdl = await readFile(new URL('schema.graphql', root), 'utf8');
    const enumBody = /enum EventType \{([^}]*)\}/.exec(sdl)?.[1] ?? '';
    const values = enumBody.split('\n').filter((line) => /^\s+[A-Z_]+$/.test(line));
    expect(values.map((line) => line.trim())).toEqual(
      EVENT_TYPES.map((type) => eventTypeNames(type).enumValue),
    );
    const union = /union EventData =([^\n]*)/.exec(sdl)?.[1] ?? '';
    expect(union.split('|').map((name) => name.trim())).toEqual(
      EVENT_TYPES.map((type) => `${eventTypeNames(type).pascal}Data`),
    );
  });
});
