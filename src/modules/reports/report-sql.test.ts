import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

const migrations = new URL('../../../migrations/', import.meta.url);

/** Each function a module file defines, with the comment above it, as the file says it. */
async function functionsOf(file: string): Promise<Array<{ name: string; text: string }>> {
  const text = await readFile(new URL(`./sql/${file}`, import.meta.url), 'utf8');
  return text
    .split('\n$$;')
    .filter((part) => part.trim() !== '')
    .map((part) => {
      const chunk = `${part.trim()}\n$$;`;
      return { name: /CREATE OR REPLACE FUNCTION (\w+)\(/.exec(chunk)![1]!, text: chunk };
    });
}

describe('the reports’ SQL functions', () => {
  it.each(['report_counts.sql', 'track_complaint_open_spans.sql'])(
    'in %s are defined by the latest migration that defines them, word for word',
    async (file) => {
      const names = (await readdir(migrations)).filter((name) => name.endsWith('.sql')).sort();
      const texts = await Promise.all(names.map((name) => readFile(new URL(name, migrations), 'utf8')));
      const functions = await functionsOf(file);
      expect(functions.length).toBeGreaterThan(0);
      for (const { name, text } of functions) {
        const latest = texts.filter((migration) => migration.includes(`FUNCTION ${name}(`)).at(-1);
        expect(latest, name).toBeDefined();
        expect(latest, name).toContain(text);
      }
    },
  );
});
