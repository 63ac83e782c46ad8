import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

/**
 * Each SQL function and trigger has one home: a file in its module's sql/ folder (src/db/sql/ for
 * a helper the modules share) holding it as it stands now, which the migration that creates or
 * changes it copies. This test fails when the two part:
 * - a function or trigger the migrations leave in the database has no home;
 * - a home's function or trigger, with the comment above it, is not word for word what the last
 *   migration to define it wrote (that migration's comment may begin with lines about the
 *   migration itself), or a trigger fires otherwise (ALTER TABLE ... ENABLE ALWAYS TRIGGER);
 * - a home defines something no migration defines, or that a later migration dropped.
 * Migrations change a function or trigger by creating it again (after DROP, for a new signature);
 * this reads CREATE, DROP, ALTER TABLE ... RENAME TO and ALTER TABLE ... TRIGGER, and no other
 * statement, so a rename by ALTER FUNCTION or ALTER TRIGGER would fail here until written so.
 */
const root = new URL('../../', import.meta.url);

interface Statement {
  /** The comment lines directly above the statement, as written. */
  comment: string;
  /** From its first word to its closing semicolon. */
  text: string;
}

interface Definition {
  /** `function name` or `trigger name on table`: what a database has one of. */
  key: string;
  comment: string;
  /** The CREATE statement, from CREATE to its closing semicolon. */
  statement: string;
  /** A trigger's table, and the function it executes. */
  table?: string;
  triggerFunction?: string;
  /** How a trigger fires: ENABLE as created, or what ALTER TABLE ... TRIGGER set since. */
  firing?: string;
  /** The migration or module file that wrote it. */
  file: string;
}

/** The end of the string, quoted identifier or dollar-quoted body starting at `at`, or the next character. */
function endOfToken(text: string, at: number): number {
  const char = text[at];
  if (char === "'") {
    const backslashEscapes = /[Ee]/.test(text[at - 1] ?? '') && !/\w/.test(text[at - 2] ?? '');
    let end = at + 1;
    while (end < text.length) {
      if (backslashEscapes && text[end] === '\\') end += 2;
      else if (text[end] !== "'") end += 1;
      else if (text[end + 1] === "'") end += 2;
      else return end + 1;
    }
    return end;
  }
  if (char === '"') {
    const close = text.indexOf('"', at + 1);
    return close < 0 ? text.length : close + 1;
  }
  const dollarQuote = /^\$(?:[A-Za-z_]\w*)?\$/.exec(text.slice(at, at + 64))?.[0];
  if (dollarQuote) {
    const close = text.indexOf(dollarQuote, at + dollarQuote.length);
    return close < 0 ? text.length : close + dollarQuote.length;
  }
  return at + 1;
}

const isCommentLine = (line: string) =>
  line.trimStart().startsWith('--') && !line.trimStart().startsWith('--> statement-breakpoint');

/** The comment lines directly above the statement at `start`; none if its line holds more before it. */
function commentAbove(text: string, start: number): string {
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  if (text.slice(lineStart, start).trim() !== '') return '';
  const lines = text.slice(0, lineStart).split('\n');
  lines.pop();
  const comment: string[] = [];
  for (let line = lines.pop(); line !== undefined && isCommentLine(line); line = lines.pop()) {
    comment.unshift(line);
  }
  return comment.join('\n');
}

/** The statements of a SQL text; drizzle-kit's statement breakpoints are comments to PostgreSQL too. */
function statementsOf(text: string): Statement[] {
  const statements: Statement[] = [];
  let start = -1;
  const finish = (end: number) => {
    statements.push({ comment: commentAbove(text, start), text: text.slice(start, end).trim() });
    start = -1;
  };
  let at = 0;
  while (at < text.length) {
    if (text.startsWith('--', at)) {
      const newline = text.indexOf('\n', at);
      at = newline < 0 ? text.length : newline + 1;
    } else if (text.startsWith('/*', at)) {
      const close = text.indexOf('*/', at + 2);
      at = close < 0 ? text.length : close + 2;
    } else if (/\s/.test(text[at]!)) {
      at += 1;
    } else {
      if (start < 0) start = at;
      if (text[at] === ';') finish(at + 1);
      at = endOfToken(text, at);
    }
  }
  if (start >= 0) finish(text.length);
  return statements;
}

/** A name as PostgreSQL resolves it here: unquoted, lower case, without the default schema. */
const nameOf = (written: string) =>
  written
    .replace(/"/g, '')
    .toLowerCase()
    .replace(/^public\./, '');
const functionKey = (name: string) => `function ${name}`;
const triggerKey = (name: string, table: string) => `trigger ${name} on ${table}`;

const CREATE_FUNCTION = /^CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+([\w."]+)\s*\(/i;
const CREATE_TRIGGER =
  /^CREATE\s+(?:OR\s+REPLACE\s+)?(?:CONSTRAINT\s+)?TRIGGER\s+([\w"]+)\s[\s\S]*?\bON\s+([\w."]+)[\s\S]*?\bEXECUTE\s+(?:FUNCTION|PROCEDURE)\s+([\w."]+)\s*\(/i;
const DROP_FUNCTION = /^DROP\s+FUNCTION\s+(?:IF\s+EXISTS\s+)?([\s\S]+?)(?:\s+(CASCADE|RESTRICT))?\s*;?$/i;
const DROP_TRIGGER = /^DROP\s+TRIGGER\s+(?:IF\s+EXISTS\s+)?([\w"]+)\s+ON\s+([\w."]+)/i;
const DROP_TABLE = /^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?([\s\S]+?)(?:\s+CASCADE|\s+RESTRICT)?\s*;?$/i;
const RENAME_TABLE =
  /^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?([\w."]+)\s+RENAME\s+TO\s+([\w"]+)\s*;?$/i;
const TRIGGER_FIRING =
  /^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?([\w."]+)\s+((?:ENABLE|DISABLE)(?:\s+(?:ALWAYS|REPLICA))?)\s+TRIGGER\s+([\w"]+)\s*;?$/i;

/** The function or trigger a statement creates, if it creates one. */
function definitionOf(statement: Statement, file: string): Definition | undefined {
  const fn = CREATE_FUNCTION.exec(statement.text);
  if (fn)
    return { key: functionKey(nameOf(fn[1]!)), comment: statement.comment, statement: statement.text, file };
  const trigger = CREATE_TRIGGER.exec(statement.text);
  if (!trigger) return undefined;
  const table = nameOf(trigger[2]!);
  return {
    key: triggerKey(nameOf(trigger[1]!), table),
    comment: statement.comment,
    statement: statement.text,
    table,
    triggerFunction: nameOf(trigger[3]!),
    firing: 'ENABLE',
    file,
  };
}

/** What ALTER TABLE ... TRIGGER sets, if the statement is one: the trigger and how it fires. */
function firingOf(statement: Statement): { key: string; firing: string } | undefined {
  const alter = TRIGGER_FIRING.exec(statement.text);
  if (!alter) return undefined;
  return {
    key: triggerKey(nameOf(alter[3]!), nameOf(alter[1]!)),
    firing: alter[2]!.toUpperCase().replace(/\s+/g, ' '),
  };
}

/**
 * The functions and triggers a database has once every migration has run, each as the last
 * migration to define it wrote it, and those dropped since, with the migration that dropped them.
 * Functions in pg_temp live for one migration's session only.
 */
function definedByMigrations(migrations: Array<{ file: string; text: string }>) {
  const live = new Map<string, Definition>();
  const dropped = new Map<string, string>();
  const drop = (key: string, file: string) => {
    live.delete(key);
    dropped.set(key, file);
  };
  const triggers = () => [...live.values()].filter((definition) => definition.table !== undefined);
  for (const { file, text } of migrations) {
    for (const statement of statementsOf(text)) {
      const definition = definitionOf(statement, file);
      const firing = firingOf(statement);
      const dropFunction = DROP_FUNCTION.exec(statement.text);
      const dropTrigger = DROP_TRIGGER.exec(statement.text);
      const dropTable = DROP_TABLE.exec(statement.text);
      const rename = RENAME_TABLE.exec(statement.text);
      if (definition) {
        if (definition.key.startsWith(functionKey('pg_temp.'))) continue;
        live.set(definition.key, definition);
        dropped.delete(definition.key);
      } else if (firing) {
        const trigger = live.get(firing.key);
        if (trigger) trigger.firing = firing.firing;
      } else if (dropFunction) {
        const names = dropFunction[1]!
          .replace(/\([^)]*\)/g, '')
          .split(',')
          .map((name) => nameOf(name.trim()));
        for (const name of names) {
          drop(functionKey(name), file);
          if (dropFunction[2]?.toUpperCase() !== 'CASCADE') continue;
          for (const trigger of triggers()) if (trigger.triggerFunction === name) drop(trigger.key, file);
        }
      } else if (dropTrigger) {
        drop(triggerKey(nameOf(dropTrigger[1]!), nameOf(dropTrigger[2]!)), file);
      } else if (dropTable) {
        const tables = dropTable[1]!.split(',').map((table) => nameOf(table.trim()));
        for (const trigger of triggers()) if (tables.includes(trigger.table!)) drop(trigger.key, file);
      } else if (rename) {
        const [from, to] = [nameOf(rename[1]!), nameOf(rename[2]!)];
        for (const trigger of triggers().filter((each) => each.table === from)) {
          live.delete(trigger.key);
          const moved = { ...trigger, table: to, key: trigger.key.replace(/ on [\w.]+$/, ` on ${to}`) };
          live.set(moved.key, moved);
        }
      }
    }
  }
  return { live, dropped };
}

/** The functions and triggers of a module file, and what else it holds, which it must not. */
function homeDefinitions(file: string, text: string): { definitions: Definition[]; strays: string[] } {
  const definitions: Definition[] = [];
  const strays: string[] = [];
  for (const statement of statementsOf(text)) {
    const definition = definitionOf(statement, file);
    const firing = firingOf(statement);
    const trigger = firing && definitions.find((each) => each.key === firing.key);
    if (definition) definitions.push(definition);
    else if (trigger) trigger.firing = firing.firing;
    else strays.push(statement.text.split('\n')[0]!);
  }
  return { definitions, strays };
}

/** The module files, as paths from the repository root: each module's sql/ folder, and src/db/sql/. */
async function homeFiles(): Promise<string[]> {
  const folders = ['src/db/sql/'];
  for (const module of await readdir(new URL('src/modules/', root), { withFileTypes: true })) {
    if (module.isDirectory()) folders.push(`src/modules/${module.name}/sql/`);
  }
  const files: string[] = [];
  for (const folder of folders) {
    const names = await readdir(new URL(folder, root)).catch(() => [] as string[]);
    files.push(...names.filter((name) => name.endsWith('.sql')).map((name) => `${folder}${name}`));
  }
  return files.sort();
}

/** The last `count` lines of a comment: a migration's may begin with lines about the migration. */
const lastLines = (comment: string, count: number) =>
  count === 0 ? '' : comment.split('\n').slice(-count).join('\n');

describe('the SQL functions and triggers', async () => {
  const migrationNames = (await readdir(new URL('migrations/', root)))
    .filter((name) => name.endsWith('.sql'))
    .sort();
  const migrations = await Promise.all(
    migrationNames.map(async (name) => ({
      file: `migrations/${name}`,
      text: await readFile(new URL(`migrations/${name}`, root), 'utf8'),
    })),
  );
  const { live, dropped } = definedByMigrations(migrations);
  const files = await homeFiles();
  const homes = await Promise.all(
    files.map(async (file) => ({
      file,
      ...homeDefinitions(file, await readFile(new URL(file, root), 'utf8')),
    })),
  );

  it('are found in the migrations and in the modules', () => {
    expect(live.size).toBeGreaterThan(0);
    expect(files.length).toBeGreaterThan(0);
  });

  for (const home of homes) {
    it(`in ${home.file} are word for word what the last migration to define each wrote`, () => {
      expect(
        home.strays,
        `${home.file} holds only functions and triggers: move these into a migration`,
      ).toEqual([]);
      expect(home.definitions.length, `${home.file} defines no function or trigger`).toBeGreaterThan(0);
      for (const definition of home.definitions) {
        const latest = live.get(definition.key);
        const droppedBy = dropped.get(definition.key);
        if (!latest) {
          expect.unreachable(
            droppedBy
              ? `${definition.key} in ${home.file} was dropped by ${droppedBy}: delete it from ${home.file}`
              : `${definition.key} in ${home.file} is defined by no migration: add a migration that copies it`,
          );
        }
        const change = `${definition.key} in ${home.file} differs from ${latest.file}, the last migration to define it: copy the file's text, word for word, into a new migration (or undo the change to the file)`;
        expect(definition.statement, change).toBe(latest.statement);
        const lines = definition.comment === '' ? 0 : definition.comment.split('\n').length;
        expect(definition.comment, `the comment above it: ${change}`).toBe(lastLines(latest.comment, lines));
        expect(definition.firing, `how it fires (ALTER TABLE ... TRIGGER): ${change}`).toBe(latest.firing);
      }
    });
  }

  it('that the migrations define have one home each', () => {
    const homesOf = new Map<string, string[]>();
    for (const home of homes) {
      for (const { key } of home.definitions) homesOf.set(key, [...(homesOf.get(key) ?? []), home.file]);
    }
    const homeless = [...live.values()]
      .filter(({ key }) => !homesOf.has(key))
      .map(({ key, file }) => `${key}, last defined by ${file}`);
    expect(
      homeless,
      "Copy each, with the comment above it, from that migration into a file in its module's sql/ folder " +
        '(src/db/sql/ for a helper the modules share); a trigger goes in the file of its function',
    ).toEqual([]);
    const twice = [...homesOf]
      .filter(([, where]) => where.length > 1)
      .map(([key, where]) => `${key}: ${where}`);
    expect(twice, 'Keep each in one file only').toEqual([]);
  });
});
