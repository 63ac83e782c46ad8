import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

/**
 * A module's SQL functions live in its sql/ folder as they stand now, and in the migrations as
 * they were defined. Each function a module file has, with the comment above it, must be word
 * for word what the latest migration defining it says, so the file is never out of step with
 * what a migrated database runs.
 */
const modules = new URL('../modules/', import.meta.url);
const migrations = new URL('../../migrations/', import.meta.url);

async function sqlFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const module of await readdir(modules, { withFileTypes: true })) {
    if (!module.isDirectory()) continue;
    const folder = new URL(`${module.name}/sql/`, modules);
    const names = await readdir(folder).catch(() => [] as string[]);
    files.push(...names.filter((name) => name.endsWith('.sql')).map((name) => `${module.name}/sql/${name}`));
  }
  return files.sort();
}

/** Each function a file defines, with the comment above it, as the file says it. */
function functionsOf(text: string): Array<{ name: string; text: string }> {
  return text
    .split('\n$$;')
    .filter((part) => part.trim() !== '')
    .map((part) => {
      const chunk = `${part.trim()}\n$$;`;
      return { name: /CREATE OR REPLACE FUNCTION (\w+)\(/.exec(chunk)?.[1] ?? '', text: chunk };
    });
}

describe('the SQL functions of the modules', async () => {
  const files = await sqlFiles();
  const migrationNames = (await readdir(migrations)).filter((name) => name.endsWith('.sql')).sort();
  const migrationTexts = await Promise.all(
    migrationNames.map((name) => readFile(new URL(name, migrations), 'utf8')),
  );

  it('are found', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)(
    'in %s are defined by the latest migration that defines them, word for word',
    async (file) => {
      const functions = functionsOf(await readFile(new URL(file, modules), 'utf8'));
      expect(functions.length).toBeGreaterThan(0);
      for (const { name, text } of functions) {
        expect(name, `a function in ${file}`).not.toBe('');
        const latest = migrationTexts.filter((migration) => migration.includes(`FUNCTION ${name}(`)).at(-1);
        expect(latest, name).toBeDefined();
        expect(latest, name).toContain(text);
      }
    },
  );
});
