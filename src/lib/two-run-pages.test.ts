import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Run, type TwoRunPosition, twoRunPage } from './two-run-pages.js';

/** A list of numbers in ascending order, its evens first: read as a keyset list would be. */
function lister(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const ofRun = (run: Run) => sorted.filter((value) => (value % 2 === 0) === (run === 'first'));
  return async (run: Run, after: number | null, limit: number) =>
    ofRun(run)
      .filter((value) => after === null || value > after)
      .slice(0, limit + 1);
}

async function readAll(values: number[], limit: number) {
  const read = lister(values);
  const seen: number[] = [];
  let position: TwoRunPosition<number> | null = { run: 'first', after: null };
  let pages = 0;
  while (position) {
    const { rows, next }: { rows: number[]; next: TwoRunPosition<number> | null } = await twoRunPage(
      read,
      (value) => value,
      position,
      limit,
    );
    expect(rows.length).toBeLessThanOrEqual(limit);
    seen.push(...rows);
    position = next;
    pages += 1;
    if (pages > values.length + 2) throw new Error('does not end');
  }
  return seen;
}

describe('two-run pages', () => {
  it('give the first run, then the rest, each in order, every row once, whatever the page size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 200 })),
        fc.integer({ min: 1, max: 7 }),
        async (values, limit) => {
          const sorted = [...values].sort((a, b) => a - b);
          const expected = [...sorted.filter((v) => v % 2 === 0), ...sorted.filter((v) => v % 2 !== 0)];
          expect(await readAll(values, limit)).toEqual(expected);
        },
      ),
    );
  });

  it('ends a page that the first run fills exactly with a cursor to the rest, or none when it is empty', async () => {
    const read = lister([2, 4, 1]);
    expect(await twoRunPage(read, (v) => v, { run: 'first', after: null }, 2)).toMatchObject({
      rows: [2, 4],
      next: { run: 'rest', after: null },
    });
    expect(await twoRunPage(lister([2, 4]), (v) => v, { run: 'first', after: null }, 2)).toMatchObject({
      rows: [2, 4],
      next: null,
    });
    // Each row's own position pages on after it, in its run.
    expect((await twoRunPage(read, (v) => v, { run: 'first', after: null }, 3)).positions).toEqual([
      { run: 'first', after: 2 },
      { run: 'first', after: 4 },
      { run: 'rest', after: 1 },
    ]);
  });
});
