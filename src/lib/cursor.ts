import type { z } from 'zod';
import { InvalidCursorError } from './errors.js';

/**
 * Opaque keyset-pagination cursors: the sort key of the last row of a page, as base64url JSON.
 * Callers treat them as opaque; anything that does not decode to the expected shape is a 400.
 */
export function encodeCursor(position: unknown): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** Decodes a cursor this API issued, or throws InvalidCursorError. */
export function decodeCursor<T>(raw: string, shape: z.ZodType<T>): T {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError(raw);
  }
  const parsed = shape.safeParse(decoded);
  if (!parsed.success) throw new InvalidCursorError(raw);
  return parsed.data;
}
