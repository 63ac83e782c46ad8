import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EVENT_TYPES, eventTypeNames } from '../events/event-types.js';
import { MASKED_TEXT } from './masks.js';
import {
  COMPLAINT_PERSONAL_FIELDS,
  maskChanges,
  maskCommunication,
  maskComplaint,
  maskEvent,
  maskTimelineEntry,
  seesPersonalData,
} from './personal-fields.js';

const complaint = {
  id: 'c1',
  subject: 'Lift stopped',
  description: 'Stuck for 30 minutes',
  desiredOutcome: 'An apology',
  customer: {
    name: 'Wang Fang',
    phone: '+8613812348000',
    email: 'wangfang@example.com',
    address: '88 Century Avenue',
    externalId: 'CRM-0012345',
  },
  metadata: { room: '1203' },
};

describe('the personal fields of a complaint', () => {
  it('are masked, and nothing else is', () => {
    expect(maskComplaint(complaint)).toEqual({
      id: 'c1',
      subject: 'Lift stopped',
      description: MASKED_TEXT,
      desiredOutcome: MASKED_TEXT,
      customer: {
        name: 'Wang F***',
        phone: '+86 138****8000',
        email: 'w***@example.com',
        address: MASKED_TEXT,
        externalId: 'CR***45',
      },
      metadata: { room: '1203' },
    });
  });

  it('leaves the record it was given as it was', () => {
    const before = structuredClone(complaint);
    maskComplaint(complaint);
    expect(complaint).toEqual(before);
  });

  it('are masked as far as a partial record goes, nulls kept', () => {
    expect(maskComplaint({ customer: { name: null, email: 'a@b.co' }, status: 'received' })).toEqual({
      customer: { name: null, email: 'a***@b.co' },
      status: 'received',
    });
    expect(maskComplaint({ customer: null })).toEqual({ customer: null });
    expect(maskComplaint(null)).toBeNull();
  });

  it('name every field by its path in the complaint view, as timeline changes do', () => {
    for (const path of Object.keys(COMPLAINT_PERSONAL_FIELDS)) {
      const [parent, child] = path.split('.') as [keyof typeof complaint, string | undefined];
      const holder = complaint[parent] as Record<string, unknown> | string;
      expect(child === undefined ? holder : (holder as Record<string, unknown>)[child], path).toBeDefined();
    }
  });
});

describe('changes, timeline entries and events', () => {
  it('mask the before and after of personal fields only', () => {
    expect(
      maskChanges([
        { field: 'customer.phone', before: null, after: '13812348000' },
        { field: 'description', before: 'old', after: 'new' },
        { field: 'priority', before: 'normal', after: 'high' },
      ]),
    ).toEqual([
      { field: 'customer.phone', before: null, after: '138****8000' },
      { field: 'description', before: MASKED_TEXT, after: MASKED_TEXT },
      { field: 'priority', before: 'normal', after: 'high' },
    ]);
    expect(maskChanges(null)).toBeNull();
  });

  it('mask the complaint a complaint.created entry shows and the body of a communication.recorded one', () => {
    const created = maskTimelineEntry({ type: 'complaint.created', changes: null, data: { complaint } });
    expect((created.data as { complaint: typeof complaint }).complaint.customer.name).toBe('Wang F***');
    const recorded = maskTimelineEntry({
      type: 'communication.recorded',
      changes: null,
      data: { body: 'Called Ms Wang', direction: 'outbound' },
    });
    expect(recorded.data).toEqual({ body: MASKED_TEXT, direction: 'outbound' });
    const met = { type: 'deadline.met', changes: null, data: { deadlineId: 'd1' } };
    expect(maskTimelineEntry(met)).toEqual(met);
  });

  it('mask the complaint, communication and changes an event carries', () => {
    const event = maskEvent({
      id: 'evt_1',
      data: {
        tenantId: 't',
        complaint,
        communication: { id: 'm1', body: 'Hello' },
        changes: [{ field: 'customer.name', before: '王芳', after: '王小明' }],
        actor: { type: 'api_key', name: 'crm' },
      },
    });
    expect(event.data).toMatchObject({
      tenantId: 't',
      complaint: { customer: { name: 'Wang F***' }, description: MASKED_TEXT },
      communication: { id: 'm1', body: MASKED_TEXT },
      changes: [{ field: 'customer.name', before: '王*', after: '王**' }],
      actor: { type: 'api_key', name: 'crm' },
    });
  });

  it('read the same when masked twice', () => {
    const once = maskComplaint(complaint);
    expect(maskComplaint(once)).toEqual(once);
    expect(maskCommunication(maskCommunication({ body: 'x' }))).toEqual({ body: MASKED_TEXT });
  });
});

describe('seesPersonalData', () => {
  it('is personal_data:read or admin', () => {
    expect(seesPersonalData(['complaints:read', 'personal_data:read'])).toBe(true);
    expect(seesPersonalData(['admin'])).toBe(true);
    expect(seesPersonalData(['complaints:read', 'complaints:write'])).toBe(false);
    expect(seesPersonalData([])).toBe(false);
  });
});

/**
 * The REST plugin (src/http/plugins/personal-data.ts) masks answers by their response schema:
 * Complaint, ComplaintPage, Communication, TimelinePage and EventPage (the feed). A new schema that embeds
 * one of the records holding personal data would leave it in clear, so none may, but for the
 * access export, which answers only callers holding personal_data:read.
 */
describe('openapi.yaml', () => {
  it('embeds the records that hold personal data only in the answers the plugin masks', async () => {
    const contract = parse(await readFile(new URL('../../../openapi.yaml', import.meta.url), 'utf8')) as {
      components: { schemas: Record<string, unknown> };
      paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
    };
    // An event's envelope and data (the typed event catalogue) are parts of Event: they reach an
    // answer only through the feed's EventPage, which the plugin masks, and webhooks, masked at
    // delivery.
    const eventParts = EVENT_TYPES.flatMap((type) => [
      eventTypeNames(type).envelope,
      eventTypeNames(type).data,
    ]);
    const holders = ['Complaint', 'Communication', 'TimelineEntry', 'Event', ...eventParts];
    const masked = new Set(['Complaint', 'ComplaintPage', 'Communication', 'TimelinePage', 'EventPage']);
    // Answers that are in clear by design, to callers that must hold personal_data:read
    // (the access export checks it: src/modules/data-subjects/data-subjects.routes.ts).
    for (const inClearOnly of ['DataSubjectExport']) masked.add(inClearOnly);
    const refersToHolder = (value: unknown) =>
      holders.some((name) => JSON.stringify(value).includes(`"#/components/schemas/${name}"`));
    const embedding = Object.entries(contract.components.schemas)
      .filter(([name, schema]) => !holders.includes(name) && refersToHolder(schema))
      .map(([name]) => name);
    expect(embedding.filter((name) => !masked.has(name))).toEqual([]);
    // Each answer naming one names it whole (a $ref), which the plugin knows by its schema.
    for (const [path, operations] of Object.entries(contract.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses ?? {})) {
          if (!status.startsWith('2')) continue;
          const refs = JSON.stringify(response).match(/#\/components\/schemas\/\w+/g) ?? [];
          for (const ref of refs) {
            const name = ref.split('/').pop()!;
            if (holders.includes(name) || embedding.includes(name)) {
              expect(masked.has(name), `${method} ${path} ${status} answers ${name}`).toBe(true);
            }
          }
        }
      }
    }
  });
});
