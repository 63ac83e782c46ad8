import { describe, expect, it } from 'vitest';
import { isUuid, newTimeOrderedId, randomBase62 } from './ids.js';

describe('randomBase62', () => {
  it('gives ids of the asked length, every one different, across many refills of its random pool', () => {
    // 2,000 × 24 characters draw about 50 KB: a dozen refills of the 4 KiB pool.
    const ids = Array.from({ length: 2_000 }, () => randomBase62(24));
    expect(ids.every((id) => /^[0-9A-Za-z]{24}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('uses the 62 characters about equally', () => {
    const counts = new Map<string, number>();
    for (const character of randomBase62(620_000)) counts.set(character, (counts.get(character) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // 10,000 expected of each, give or take 100; a plain modulo (256 is not a multiple of 62)
    // would put the first eight near 12,100 and the rest near 9,700.
    for (const count of counts.values()) expect(count).toBeGreaterThan(9_400);
    for (const count of counts.values()) expect(count).toBeLessThan(10_600);
  });
});

describe('newTimeOrderedId', () => {
  it('gives version 7 UUIDs that start with the millisecond they were made, in the order made', async () => {
    const before = Date.now();
    const first = newTimeOrderedId();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = newTimeOrderedId();
    expect(isUuid(first) && isUuid(second)).toBe(true);
    expect(first[14]).toBe('7');
    const madeAt = Number.parseInt(first.replaceAll('-', '').slice(0, 12), 16);
    expect(madeAt).toBeGreaterThanOrEqual(before);
    expect(madeAt).toBeLessThanOrEqual(Date.now());
    expect(second > first).toBe(true);
  });
});
