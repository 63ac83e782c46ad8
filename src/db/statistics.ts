import type pg from 'pg';

/**
 * Analyses the tables whose planner statistics are stale by autovacuum's own rule: more rows
 * changed since the last analysis than the table's threshold plus its scale factor times its size
 * (a table's own autovacuum_analyze_* settings, else the server's). Autovacuum does this as it
 * goes; where it is off (see serverSettingWarnings) nothing else would, and the planner then picks
 * indexes by what the tables held long ago. The migrate step runs it, so every deploy starts on
 * fresh statistics. A table that holds rows is also analysed when it has extended statistics
 * (CREATE STATISTICS) that were never built: a migration that adds them leaves them empty until
 * the next analysis, which on an unchanged table autovacuum would not run. (An empty table builds
 * none, so it is left alone.) Returns the tables it analysed.
 */
export async function analyzeStaleTables(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `select c.relname as name
     from pg_stat_user_tables s join pg_class c on c.oid = s.relid
     where s.schemaname = current_schema()
       and s.n_mod_since_analyze > coalesce(
           (select option_value::float8 from pg_options_to_table(c.reloptions)
            where option_name = 'autovacuum_analyze_threshold'),
           current_setting('autovacuum_analyze_threshold')::float8)
         + coalesce(
           (select option_value::float8 from pg_options_to_table(c.reloptions)
            where option_name = 'autovacuum_analyze_scale_factor'),
           current_setting('autovacuum_analyze_scale_factor')::float8) * greatest(c.reltuples, 0)
     union
     select c.relname
     from pg_statistic_ext x join pg_class c on c.oid = x.stxrelid
     where x.stxnamespace = current_schema()::regnamespace and c.reltuples > 0
       and not exists (select from pg_stats_ext e
         where e.statistics_schemaname = current_schema() and e.statistics_name = x.stxname)
     order by name`,
  );
  for (const { name } of rows) await client.query(`analyze ${client.escapeIdentifier(name)}`);
  return rows.map((row) => row.name);
}
