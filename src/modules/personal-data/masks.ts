/**
 * How a personal value reads to a caller who may not see it in clear (no `personal_data:read`).
 * Pure and dependency-free: each mask keeps just enough to tell records apart on a screen (a
 * surname, a country code and a few digits, a mail domain) and hides the rest. A mask never
 * grows with what it hides, except a CJK name's one `*` per hidden character, the convention
 * Chinese screens use (王*, 欧**). Masking a masked value changes nothing, so a view that passes
 * two masking layers (an event's complaint shown through GraphQL's Complaint type) reads the same.
 */

/** What a free-text personal field (description, desired outcome, a message body) reads as, masked. */
export const MASKED_TEXT = '[masked: personal data]';

const STARS = '***';

/** Han, Hiragana, Katakana and Hangul: names in these scripts are masked character by character. */
const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\u{20000}-\u{2ffff}]/u;

/**
 * Country calling codes of one and two digits (ITU-T E.164 assignments); every other code has
 * three. The set is prefix-free, so the digits after `+` name their code unambiguously.
 */
const ONE_DIGIT_CODES = new Set(['1', '7']);
const TWO_DIGIT_CODES = new Set([
  '20',
  '27',
  '30',
  '31',
  '32',
  '33',
  '34',
  '36',
  '39',
  '40',
  '41',
  '43',
  '44',
  '45',
  '46',
  '47',
  '48',
  '49',
  '51',
  '52',
  '53',
  '54',
  '55',
  '56',
  '57',
  '58',
  '60',
  '61',
  '62',
  '63',
  '64',
  '65',
  '66',
  '81',
  '82',
  '84',
  '86',
  '90',
  '91',
  '92',
  '93',
  '94',
  '95',
  '98',
]);

/** The country calling code at the start of international digits (after `+`). */
export function countryCallingCode(digits: string): string {
  if (ONE_DIGIT_CODES.has(digits.slice(0, 1))) return digits.slice(0, 1);
  if (TWO_DIGIT_CODES.has(digits.slice(0, 2))) return digits.slice(0, 2);
  return digits.slice(0, 3);
}

/**
 * A person's name: `Wang Fang` → `Wang F***` (the first word, then each later word's initial),
 * `Madonna` → `M***`, `王芳` → `王*`, `欧阳娜娜` → `欧***` (the first character of a CJK name).
 */
export function maskName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '') return name;
  if (CJK.test(trimmed)) {
    const chars = Array.from(trimmed.replace(/\s+/g, ''));
    return chars.length === 1 ? '*' : `${chars[0]}${'*'.repeat(chars.length - 1)}`;
  }
  const words = trimmed.split(/\s+/);
  if (words.length === 1) return `${Array.from(trimmed)[0]}${STARS}`;
  return [words[0], ...words.slice(1).map((word) => `${Array.from(word)[0]}${STARS}`)].join(' ');
}

/** The national digits masked: the first 3 and last 4 when at least 3 stay hidden, else the last 4 or nothing. */
function maskDigits(digits: string): string {
  const n = digits.length;
  if (n >= 10) return `${digits.slice(0, 3)}${'*'.repeat(n - 7)}${digits.slice(-4)}`;
  if (n >= 7) return `${'*'.repeat(n - 4)}${digits.slice(-4)}`;
  return '*'.repeat(Math.max(n, 3));
}

/**
 * A phone number: `+8613812348000` (or `+86 138 1234 8000`) → `+86 138****8000`, keeping the
 * country code, the first 3 and the last 4 digits; `13812348000` → `138****8000`. A short number
 * keeps its last 4 digits at most.
 */
export function maskPhone(phone: string): string {
  const trimmed = phone.trim();
  // Phones are digits and + ( ) - . only (the intake schema), so a star means masked already.
  if (trimmed === '' || trimmed.includes('*')) return phone;
  const digits = trimmed.replace(/\D/g, '');
  if (digits === '') return STARS;
  if (trimmed.startsWith('+')) {
    const code = countryCallingCode(digits);
    return `+${code} ${maskDigits(digits.slice(code.length))}`.trimEnd();
  }
  return maskDigits(digits);
}

/** An email address: `wangfang@example.com` → `w***@example.com`; the domain stays. */
export function maskEmail(email: string): string {
  const trimmed = email.trim();
  if (trimmed === '') return email;
  const at = trimmed.lastIndexOf('@');
  if (at < 0) return `${Array.from(trimmed)[0]}${STARS}`;
  const local = trimmed.slice(0, at);
  // Addresses taken in have no `*` (the intake schema): one at the start is a mask already.
  const first = local === '' || local.startsWith('*') ? '' : Array.from(local)[0];
  return `${first}${STARS}${trimmed.slice(at)}`;
}

/**
 * An identifier from another system (the customer's external id): `CRM-0012345` → `CR***45`,
 * the first and last two characters of one of 6 or more; a shorter one is hidden whole.
 */
export function maskIdentifier(id: string): string {
  const chars = Array.from(id.trim());
  if (chars.length === 0) return id;
  if (chars.length < 6) return STARS;
  return `${chars.slice(0, 2).join('')}${STARS}${chars.slice(-2).join('')}`;
}

/** Free text about a person (description, desired outcome, a message): the fixed MASKED_TEXT. */
export function maskText(text: string): string {
  return text === '' ? text : MASKED_TEXT;
}

/** How each kind of personal value is masked. */
export const MASKS = {
  name: maskName,
  phone: maskPhone,
  email: maskEmail,
  identifier: maskIdentifier,
  text: maskText,
} as const;

export type MaskKind = keyof typeof MASKS;

/**
 * A stored value masked as `kind`: strings by their mask, null and undefined as they are, and any
 * other value (a timeline `before` that was not a string) hidden as MASKED_TEXT.
 */
export function maskValue(kind: MaskKind, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'string') return MASKS[kind](value);
  return MASKED_TEXT;
}
