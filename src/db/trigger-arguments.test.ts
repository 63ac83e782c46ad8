import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OPEN_STATUSES } from '../modules/complaints/complaint-status.js';
import { EVENTS_CHANNEL } from '../modules/events/event-relay.js';

/**
 * A trigger function cannot be called with parameters, so the rules it shares with TypeScript are
 * written into its CREATE TRIGGER as arguments (TG_ARGV). Here, on the migrated database, each
 * trigger's arguments are the TypeScript constant they copy, so the two cannot drift apart. A
 * trigger may also be told its own table's name, which it cannot read on Citus (TG_TABLE_NAME is
 * then a shard's): that argument is the table the trigger is on.
 */
const ARGUMENTS: Record<string, readonly string[]> = {
  'complaints.complaints_open_spans_changed': OPEN_STATUSES,
  'complaints.complaints_open_spans_inserted': OPEN_STATUSES,
  'complaints.complaints_report_inventory_changed': ['complaints'],
  'deadlines.deadlines_report_inventory_changed': ['deadlines'],
  'events.events_committed_notify': [EVENTS_CHANNEL],
};

let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: inject('databaseUrl') });
  await client.connect();
});
afterAll(() => client?.end());

/** The arguments of every trigger that has any, by `table.trigger`. */
async function triggerArguments(): Promise<Record<string, string[]>> {
  const { rows } = await client.query<{ trigger: string; nargs: number; args: Buffer }>(
    `select c.relname || '.' || t.tgname as trigger, t.tgnargs as nargs, t.tgargs as args
     from pg_trigger t join pg_class c on c.oid = t.tgrelid
     where c.relnamespace = 'public'::regnamespace and not t.tgisinternal and t.tgnargs > 0`,
  );
  // pg_trigger keeps the arguments one after another, each ended by a zero byte.
  return Object.fromEntries(
    rows.map((row) => [row.trigger, row.args.toString('utf8').split('\0').slice(0, row.nargs)]),
  );
}

describe('the trigger arguments', () => {
  it('are the TypeScript constants they copy', async () => {
    const found = await triggerArguments();
    for (const [trigger, expected] of Object.entries(ARGUMENTS)) {
      expect(
        found[trigger],
        `${trigger} copies another value: create it again with the constant's, in its module file and a new migration`,
      ).toEqual([...expected]);
    }
  });

  it('are each held to a constant here', async () => {
    expect(
      Object.keys(await triggerArguments()).sort(),
      'A trigger with arguments copies a rule: name its TypeScript constant in ARGUMENTS',
    ).toEqual(Object.keys(ARGUMENTS).sort());
  });
});
