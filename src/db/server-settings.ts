import type pg from 'pg';

/**
 * What a PostgreSQL server running Redress must not have switched off, and why. Intake's
 * repeat-complaint lookup and the reads by id pick their indexes from planner statistics; with
 * autovacuum off nothing refreshes those as complaints pour in, and on one benchmark the planner
 * then read every recent complaint of the tenant on each intake (728/s fell to 166/s by 17,000
 * rows). Without track_counts autovacuum has nothing to go on.
 */
const REQUIRED_ON = [
  {
    setting: 'autovacuum',
    consequence:
      'planner statistics and dead rows are left to manual ANALYZE and VACUUM; intake slows as complaints accumulate',
  },
  {
    setting: 'track_counts',
    consequence: 'autovacuum cannot tell which tables changed, so their statistics go stale',
  },
] as const;

/** One line per setting that is off on this server, for the migrate step and the worker to report. */
export async function serverSettingWarnings(client: pg.ClientBase | pg.Pool): Promise<string[]> {
  const { rows } = await client.query<{ name: string; setting: string }>(
    'select name, setting from pg_settings where name = any($1)',
    [REQUIRED_ON.map((required) => required.setting)],
  );
  const off = new Set(rows.filter((row) => row.setting !== 'on').map((row) => row.name));
  return REQUIRED_ON.filter((required) => off.has(required.setting)).map(
    (required) => `PostgreSQL has ${required.setting} off: ${required.consequence}. Turn it on.`,
  );
}
