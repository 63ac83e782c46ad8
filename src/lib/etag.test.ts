import { describe, expect, it } from 'vitest';
import { etagForVersion, ifMatchSatisfied, ifNoneMatchMatches } from './etag.js';

describe('If-Match', () => {
  const current = etagForVersion(3);
  it.each([
    ['"3"', true],
    ['*', true],
    ['"2", "3"', true],
    ['"2"', false],
    ['W/"3"', false],
    ['3', false],
    ['', false],
  ])('%s → %s', (header, expected) => {
    expect(ifMatchSatisfied(header, current)).toBe(expected);
  });
});

describe('If-None-Match', () => {
  const current = etagForVersion(3);
  it.each([
    ['"3"', true],
    ['*', true],
    ['"2", "3"', true],
    ['W/"3"', true],
    ['"2"', false],
    ['3', false],
    ['', false],
  ])('%s → %s', (header, expected) => {
    expect(ifNoneMatchMatches(header, current)).toBe(expected);
  });
});
