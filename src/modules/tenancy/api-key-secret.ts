import { randomBase62, sha256Hex } from '../../lib/ids.js';

// `rdk_` + 8-character public prefix + `_` + 40-character secret: 238 bits of entropy in the
// secret part, and a prefix that identifies the key in listings and logs without revealing it.
const KEY_PATTERN = /^rdk_([0-9A-Za-z]{8})_([0-9A-Za-z]{40})$/;

export interface GeneratedApiKey {
  /** The whole key, shown to the caller once. */
  plaintext: string;
  /** The visible start, `rdk_XXXXXXXX`, stored and listed. */
  prefix: string;
  /** SHA-256 of the whole key, the only form stored. */
  secretHash: string;
}

/** Creates a new random API key. */
export function generateApiKey(): GeneratedApiKey {
  const prefix = `rdk_${randomBase62(8)}`;
  const plaintext = `${prefix}_${randomBase62(40)}`;
  return { plaintext, prefix, secretHash: hashApiKey(plaintext) };
}

/**
 * The stored form of a key. A fast hash is right here (unlike passwords): the key carries
 * 238 random bits, so there is nothing to brute-force, and it runs on every request.
 */
export const hashApiKey = (plaintext: string): string => sha256Hex(plaintext);

/** True when the string has the shape of a Redress key; anything else is refused before a lookup. */
export const looksLikeApiKey = (value: string): boolean => KEY_PATTERN.test(value);
