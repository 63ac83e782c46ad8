import { hasScope } from '../tenancy/scopes.js';
import { type MaskKind, maskValue } from './masks.js';

/**
 * Where personal data lives, in one place: the fields of a complaint (by their path in the
 * complaint view, which is also the `field` of a timeline change) and of a communication that
 * hold a person's data, and how each one is masked. Masking (here), and the encryption and
 * erasure that issue 19 plans, read this list; a personal field added to a view is added here.
 *
 * Also in events and the timeline, as views of the same records: an event's `data.complaint`,
 * `data.communication` and `data.changes`; a timeline entry's `changes`, the complaint a
 * `complaint.created` entry shows (`data.complaint`) and a `communication.recorded` entry's `data`.
 */
export const COMPLAINT_PERSONAL_FIELDS = {
  'customer.name': 'name',
  'customer.phone': 'phone',
  'customer.email': 'email',
  'customer.address': 'text',
  'customer.externalId': 'identifier',
  description: 'text',
  desiredOutcome: 'text',
} as const satisfies Record<string, MaskKind>;

/** The personal fields of a communication (and of its `communication.recorded` timeline entry's data). */
export const COMMUNICATION_PERSONAL_FIELDS = {
  body: 'text',
} as const satisfies Record<string, MaskKind>;

/** The scope that shows personal fields in clear. */
export const PERSONAL_DATA_SCOPE = 'personal_data:read' as const;

/** Whether a caller holding these scopes sees personal data in clear (`admin` holds every scope). */
export const seesPersonalData = (scopes: readonly string[]): boolean => hasScope(scopes, PERSONAL_DATA_SCOPE);

type Fields = Readonly<Record<string, MaskKind>>;
type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * A copy of `record` with the listed fields masked, those that are there: a partial view (a
 * timeline's complaint as taken in) is masked as far as it goes. Paths go one object deep.
 */
function maskFields<T>(record: T, fields: Fields): T {
  if (!isObject(record)) return record;
  const masked: Json = { ...record };
  for (const [path, kind] of Object.entries(fields)) {
    const dot = path.indexOf('.');
    if (dot < 0) {
      if (path in masked) masked[path] = maskValue(kind, masked[path]);
      continue;
    }
    const parent = path.slice(0, dot);
    const child = path.slice(dot + 1);
    const inner = masked[parent];
    if (isObject(inner) && child in inner) {
      // The parent is copied once, before its first masked field.
      const copy = inner === (record as Json)[parent] ? { ...inner } : inner;
      copy[child] = maskValue(kind, inner[child]);
      masked[parent] = copy;
    }
  }
  return masked as T;
}

/** A complaint (or the part of one an event or timeline entry holds) with its personal fields masked. */
export const maskComplaint = <T>(complaint: T): T => maskFields(complaint, COMPLAINT_PERSONAL_FIELDS);

/** A communication with its body masked. */
export const maskCommunication = <T>(communication: T): T =>
  maskFields(communication, COMMUNICATION_PERSONAL_FIELDS);

/** Field changes (a timeline entry's or an event's `changes`) with the personal fields' before and after masked. */
export function maskChanges<T>(changes: T): T {
  if (!Array.isArray(changes)) return changes;
  const fields: Fields = COMPLAINT_PERSONAL_FIELDS;
  return changes.map((change: unknown) => {
    if (!isObject(change) || typeof change.field !== 'string') return change;
    const kind = fields[change.field];
    if (!kind) return change;
    return { ...change, before: maskValue(kind, change.before), after: maskValue(kind, change.after) };
  }) as T;
}

/** An event's `data` or a timeline entry's `data` with the complaint, communication and changes it holds masked. */
function maskRecordData<T>(data: T): T {
  if (!isObject(data)) return data;
  const masked: Json = { ...data };
  if ('complaint' in masked) masked.complaint = maskComplaint(masked.complaint);
  if ('communication' in masked) masked.communication = maskCommunication(masked.communication);
  if ('changes' in masked) masked.changes = maskChanges(masked.changes);
  return masked as T;
}

/** A timeline entry as the API shows it, its personal data masked. */
export function maskTimelineEntry<T extends { type: string; changes: unknown; data: unknown }>(entry: T): T {
  const data =
    entry.type === 'communication.recorded' ? maskCommunication(entry.data) : maskRecordData(entry.data);
  return { ...entry, changes: maskChanges(entry.changes), data };
}

/** An event envelope (webhooks, the feed, subscriptions) with the personal data in its `data` masked. */
export function maskEvent<T extends { data: unknown }>(event: T): T {
  return { ...event, data: maskRecordData(event.data) };
}
