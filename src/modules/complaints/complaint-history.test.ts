import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { KEPT_AT_INTAKE } from './complaint-views.js';

const migrations = new URL('../../../migrations/', import.meta.url);

async function migrationTexts(): Promise<Array<{ file: string; text: string }>> {
  const files = (await readdir(migrations)).filter((file) => file.endsWith('.sql')).sort();
  return Promise.all(
    files.map(async (file) => ({ file, text: await readFile(new URL(file, migrations), 'utf8') })),
  );
}

describe('the timeline entries slimmed at intake', () => {
  it('slimmed the entries written before with the fields intake keeps now', async () => {
    // A change to KEPT_AT_INTAKE needs a migration of its own for the entries already slimmed:
    // an entry lacking a field now kept would show the complaint's current value for it.
    const lean = (await migrationTexts()).find(({ file }) => file.endsWith('_lean_timeline.sql'));
    const list = lean?.text.match(/k\.key = ANY \(ARRAY\[([^\]]*)\]\)/)?.[1];
    expect(list?.split(',').map((item) => item.trim().replace(/^'|'$/g, ''))).toEqual([...KEPT_AT_INTAKE]);
  });
});
