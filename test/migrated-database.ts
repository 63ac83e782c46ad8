import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { expect, inject } from 'vitest';
import { migrationsFolder } from '../src/db/migrate.js';

/** Runs one statement on the test server's admin database. */
export async function admin(statement: string): Promise<void> {
  const connection = new pg.Client({ connectionString: inject('databaseUrl') });
  await connection.connect();
  try {
    await connection.query(statement);
  } finally {
    await connection.end();
  }
}

/** An empty database of its own beside the test server's (on the coordinator alone, on Citus). */
export async function createEmptyDatabase(label: string): Promise<{ url: string; drop(): Promise<void> }> {
  const runUrl = new URL(inject('databaseUrl'));
  const name = `${runUrl.pathname.slice(1)}_${label}_${randomBytes(3).toString('hex')}`;
  await admin(`CREATE DATABASE "${name}"`);
  runUrl.pathname = `/${name}`;
  return { url: runUrl.toString(), drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

/** The tag of the committed migration just before the one whose tag ends with `suffix`. */
export async function migrationBefore(suffix: string): Promise<string> {
  const journal = JSON.parse(await readFile(join(migrationsFolder, 'meta', '_journal.json'), 'utf8'));
  const tags: string[] = journal.entries.map((entry: { tag: string }) => entry.tag);
  const at = tags.findIndex((tag) => tag.endsWith(suffix));
  expect(at).toBeGreaterThan(0);
  return tags[at - 1]!;
}

/** Migrates the database with the committed migrations up to and including `last`. */
export async function migrateUpTo(databaseUrl: string, last: string): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'redress-migrations-'));
  try {
    await cp(migrationsFolder, folder, { recursive: true });
    const journalFile = join(folder, 'meta', '_journal.json');
    const journal = JSON.parse(await readFile(journalFile, 'utf8'));
    const end = journal.entries.findIndex((entry: { tag: string }) => entry.tag === last);
    expect(end).toBeGreaterThan(0);
    journal.entries = journal.entries.slice(0, end + 1);
    await writeFile(journalFile, JSON.stringify(journal));
    const connection = new pg.Client({ connectionString: databaseUrl });
    await connection.connect();
    try {
      await migrate(drizzle(connection), { migrationsFolder: folder });
    } finally {
      await connection.end();
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** A database migrated to just before one migration, with a client on it, for that migration's test. */
export interface DatabaseBeforeMigration {
  url: string;
  client: pg.Client;
  /** Ends the client and drops the database. */
  close(): Promise<void>;
}

/**
 * An empty database migrated with the committed migrations up to the one before the migration
 * whose tag ends with `suffix`, and a client connected to it.
 */
export async function databaseBefore(label: string, suffix: string): Promise<DatabaseBeforeMigration> {
  const database = await createEmptyDatabase(label);
  await migrateUpTo(database.url, await migrationBefore(suffix));
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  return {
    url: database.url,
    client,
    async close() {
      await client.end();
      await database.drop();
    },
  };
}
