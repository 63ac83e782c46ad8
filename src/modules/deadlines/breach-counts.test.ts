import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

const migrations = new URL('../../../migrations/', import.meta.url);

describe('count_deadline_breaches', () => {
  it('is defined by the latest migration as its module file says, word for word', async () => {
    const current = (
      await readFile(new URL('./sql/count_deadline_breaches.sql', import.meta.url), 'utf8')
    ).trim();
    const files = (await readdir(migrations)).filter((file) => file.endsWith('.sql')).sort();
    const texts = await Promise.all(files.map((file) => readFile(new URL(file, migrations), 'utf8')));
    const latest = texts.filter((text) => text.includes('FUNCTION count_deadline_breaches()')).at(-1);
    expect(latest).toBeDefined();
    expect(latest).toContain(current);
  });
});
