import { z } from 'zod';
import { decodeCursor, encodeCursor } from './cursor.js';

/**
 * Keyset pages of a list read in two runs: a first part in the list's own order, then the rest in
 * the same order. Work queues put immediate needs first this way (DOMAIN §2, 需求分类, seed 004):
 * each run is the list's own keyset query narrowed to its part, so each reads its index in order
 * and no page sorts the whole list. The cursor says which run a page ends in, and where.
 */
export type Run = 'first' | 'rest';

export interface TwoRunPosition<P> {
  run: Run;
  /** Where in the run the next page starts; null for its beginning. */
  after: P | null;
}

/** The cursor's shape for a list whose own keyset position has shape `position`. */
export const twoRunCursorShape = <P>(position: z.ZodType<P>) =>
  z.tuple([z.enum(['first', 'rest']), position.nullable()]);

/** Where a page starts: from `cursor` (decoded with `position`, the list's own keyset shape), else the beginning. */
export function twoRunStart<P>(cursor: string | undefined, position: z.ZodType<P>): TwoRunPosition<P> {
  if (!cursor) return { run: 'first', after: null };
  const [run, after] = decodeCursor(cursor, twoRunCursorShape(position));
  return { run, after };
}

/** A position as the cursor the API hands out. */
export const twoRunCursor = <P>(position: TwoRunPosition<P>): string =>
  encodeCursor([position.run, position.after]);

/**
 * One page of `limit` rows from `start`, with each row's own position (a page may go on after
 * any of them) and where the next page starts. `read(run, after, n)` is the list's keyset query
 * for one run: up to n + 1 rows after `after` (from the run's beginning for null), in list order.
 */
export async function twoRunPage<Row, P>(
  read: (run: Run, after: P | null, limit: number) => Promise<Row[]>,
  positionOf: (row: Row) => P,
  start: TwoRunPosition<P>,
  limit: number,
): Promise<{ rows: Row[]; positions: TwoRunPosition<P>[]; next: TwoRunPosition<P> | null }> {
  const at = (run: Run) => (row: Row) => ({ run, after: positionOf(row) });
  if (start.run === 'rest') {
    const rows = await read('rest', start.after, limit);
    const page = rows.slice(0, limit);
    const positions = page.map(at('rest'));
    return { rows: page, positions, next: rows.length > limit ? positions.at(-1)! : null };
  }
  const first = await read('first', start.after, limit);
  if (first.length > limit) {
    const page = first.slice(0, limit);
    const positions = page.map(at('first'));
    return { rows: page, positions, next: positions.at(-1)! };
  }
  const room = limit - first.length;
  const rest = await read('rest', null, room);
  const page = [...first, ...rest.slice(0, room)];
  const positions = [...first.map(at('first')), ...rest.slice(0, room).map(at('rest'))];
  if (rest.length <= room) return { rows: page, positions, next: null };
  // The page ends in the rest: it goes on after its last row there, or from the rest's beginning
  // when the first run filled the page exactly.
  return { rows: page, positions, next: room > 0 ? positions.at(-1)! : { run: 'rest', after: null } };
}
