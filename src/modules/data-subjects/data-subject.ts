import { z } from 'zod';
import { DataSubjectInvalidError } from '../../lib/errors.js';
import { customerIdentityKey } from '../major-complaints/major-rules.js';
import { maskEmail, maskIdentifier, maskPhone } from '../personal-data/masks.js';

/** The identifiers a data subject is named by, as a complaint's customer holds them. */
export const DATA_SUBJECT_IDENTIFIERS = ['phone', 'email', 'externalId'] as const;
export type DataSubjectIdentifier = (typeof DATA_SUBJECT_IDENTIFIERS)[number];

/** How the caller names a data subject: exactly one identifier, checked by parseDataSubject. */
export type DataSubjectInput = Partial<Record<DataSubjectIdentifier, string | null | undefined>>;

/**
 * A data subject, normalised as complaints record their customer: `key` is the customer key a
 * complaint naming them by this identifier has (customerIdentityKey), `value` the identifier so
 * normalised (`+8613800138000`, `wang.fang@example.com`), and `masked` the identifier as a
 * caller without `personal_data:read` would see it, the only form an audit record keeps.
 */
export interface DataSubject {
  identifier: DataSubjectIdentifier;
  value: string;
  key: string;
  masked: string;
}

/** As intake takes a customer's phone (complaints.schemas.ts). */
const PHONE = /^[0-9+()\-.\s]+$/;
const email = z.email();

/** What is wrong with one identifier's value, or null when it names someone. */
function problemOf(identifier: DataSubjectIdentifier, value: string): string | null {
  switch (identifier) {
    case 'phone':
      if (!PHONE.test(value)) return 'must contain only digits, spaces and + ( ) - .';
      return /\d/.test(value) ? null : 'must contain digits';
    case 'email':
      return email.safeParse(value).success ? null : 'must be an email address';
    case 'externalId':
      return null;
  }
}

/**
 * The data subject the caller names, normalised as customerIdentityKey normalises a complaint's
 * customer: one of phone, email and external id, not blank and well formed. Anything else is
 * `data_subject_invalid`, naming the fields as `${prefix}.phone` (REST `body`, GraphQL `args`).
 */
export function parseDataSubject(input: DataSubjectInput, prefix?: string): DataSubject {
  const field = (name: string) => (prefix ? `${prefix}.${name}` : name);
  const named = DATA_SUBJECT_IDENTIFIERS.flatMap((identifier) => {
    const raw = input[identifier];
    return typeof raw === 'string' && raw.trim() !== '' ? [{ identifier, value: raw.trim() }] : [];
  });
  if (named.length !== 1) {
    const message =
      named.length === 0
        ? 'name the data subject by one of phone, email and externalId'
        : 'name the data subject by one identifier only; export each identifier by a call of its own';
    const fields = named.length === 0 ? DATA_SUBJECT_IDENTIFIERS : named.map((n) => n.identifier);
    throw new DataSubjectInvalidError(fields.map((name) => ({ field: field(name), message })));
  }
  const { identifier, value } = named[0]!;
  const problem = problemOf(identifier, value);
  if (problem) throw new DataSubjectInvalidError([{ field: field(identifier), message: problem }]);
  const key = customerIdentityKey({ [identifier]: value })!;
  switch (identifier) {
    case 'phone':
      return { identifier, value: key.slice('tel:'.length), key, masked: maskPhone(value) };
    case 'email':
      return { identifier, value: key.slice('email:'.length), key, masked: maskEmail(value) };
    case 'externalId':
      return { identifier, value, key, masked: maskIdentifier(value) };
  }
}
