-- The daily inventory's counts, kept per tenant, local day (and month) and grouping: see
-- report_inventory_counts in src/db/schema/reports.ts. A complaint's part in them is its marks
-- (report_inventory_marks): when it was received, when its deadlines fall due, when it was open
-- and when it was open and overdue. Triggers only note that a complaint's marks may have changed
-- (report_inventory_touches); the fold (src/modules/reports/report-inventory.ts) reads the
-- complaint again and moves the difference into the counts. What the marks add to which day is
-- said once, here, for the fold, the recount and the report alike.
--
-- The groupings named here are not passed in from TypeScript: they are the dimensions the counts
-- are kept under, so they change only with a migration that recounts. The triggers are ENABLE
-- ALWAYS, as the other report counts' are: they follow every write, including those of a session
-- that copies rows in bulk with session_replication_role = replica.

-- The instants at which a set of stretches turns, as the inventory asks it: each stretch adds one
-- from its start and takes it away at its end, at the last instant (to the microsecond, the
-- resolution of timestamptz) that does not yet count the turn. A stretch holds an instant t
-- exactly when the turns before t sum to one, so a day's rows hold every turn that an instant
-- at the end of the day counts.
CREATE OR REPLACE FUNCTION report_inventory_turns(p_stretches tstzmultirange)
RETURNS TABLE (before timestamptz, change int)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN lower_inc(r) THEN lower(r) - interval '1 microsecond' ELSE lower(r) END, 1
  FROM unnest(p_stretches) AS r
  UNION ALL
  SELECT CASE WHEN upper_inc(r) THEN upper(r) ELSE upper(r) - interval '1 microsecond' END, -1
  FROM unnest(p_stretches) AS r
  WHERE NOT upper_inf(r)
$$;

-- The groups a complaint counts in, one per grouping the inventory offers: in total, by severity
-- and by handler (report_inventory_counts_dimension holds the counts to them).
CREATE OR REPLACE FUNCTION report_inventory_groups(p_severity complaint_severity, p_assignee text)
RETURNS TABLE (dimension text, value text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  VALUES ('none', NULL::text), ('severity', p_severity::text), ('assignee', p_assignee)
$$;

-- What one complaint's marks add to the kept counts, on the days of p_time_zone, under each
-- grouping of its handler and severity (report_inventory_groups): one received on the day of its
-- receipt, one due on each day a deadline of it falls due, and the turns of its open and overdue
-- stretches on their days.
CREATE OR REPLACE FUNCTION report_inventory_contributions(p_assignee text, p_severity complaint_severity,
  p_received_at timestamptz, p_due_at timestamptz[], p_open tstzmultirange, p_overdue tstzmultirange,
  p_time_zone text)
RETURNS TABLE (dimension text, value text, day date, received int, due int, open_change int, overdue_change int)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT g.dimension, g.value, x.day, x.received, x.due, x.open_change, x.overdue_change
  FROM report_inventory_groups(p_severity, p_assignee) AS g
    CROSS JOIN (
      SELECT (p_received_at AT TIME ZONE p_time_zone)::date AS day, 1 AS received, 0 AS due,
        0 AS open_change, 0 AS overdue_change
      UNION ALL
      SELECT DISTINCT (u.due_at AT TIME ZONE p_time_zone)::date, 0, 1, 0, 0 FROM unnest(p_due_at) AS u (due_at)
      UNION ALL
      SELECT (t.before AT TIME ZONE p_time_zone)::date, 0, 0, t.change, 0 FROM report_inventory_turns(p_open) AS t
      UNION ALL
      SELECT (t.before AT TIME ZONE p_time_zone)::date, 0, 0, 0, t.change FROM report_inventory_turns(p_overdue) AS t
    ) AS x
$$;

-- Complaints taken in or deleted together: each is noted once, a tenant at a time, as
-- count_report_new_deadlines reads its transition table: on Citus the trigger runs on the shard,
-- where a statement may write only rows of one tenant, named as a value, and intake's batches hold
-- one tenant each.
CREATE OR REPLACE FUNCTION touch_report_inventory_complaints() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  tenant uuid;
  complaint_ids uuid[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    FOR tenant, complaint_ids IN
      SELECT n.tenant_id, array_agg(n.id) FROM changed n GROUP BY n.tenant_id ORDER BY n.tenant_id
    LOOP
      INSERT INTO report_inventory_touches (tenant_id, complaint_id) SELECT tenant, unnest(complaint_ids);
    END LOOP;
  ELSE
    FOR tenant, complaint_ids IN
      SELECT o.tenant_id, array_agg(o.id) FROM gone o GROUP BY o.tenant_id ORDER BY o.tenant_id
    LOOP
      INSERT INTO report_inventory_touches (tenant_id, complaint_id) SELECT tenant, unnest(complaint_ids);
    END LOOP;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER complaints_report_inventory_inserted AFTER INSERT ON complaints
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION touch_report_inventory_complaints();
CREATE TRIGGER complaints_report_inventory_deleted AFTER DELETE ON complaints
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION touch_report_inventory_complaints();
ALTER TABLE complaints ENABLE ALWAYS TRIGGER complaints_report_inventory_inserted;
ALTER TABLE complaints ENABLE ALWAYS TRIGGER complaints_report_inventory_deleted;

-- Deadlines written together (intake's batch, a complaint's deadlines cancelled at once): their
-- complaints, each once, a tenant at a time (see touch_report_inventory_complaints).
CREATE OR REPLACE FUNCTION touch_report_inventory_deadlines() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  tenant uuid;
  complaint_ids uuid[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    FOR tenant, complaint_ids IN
      SELECT n.tenant_id, array_agg(DISTINCT n.complaint_id) FROM changed n GROUP BY n.tenant_id ORDER BY n.tenant_id
    LOOP
      INSERT INTO report_inventory_touches (tenant_id, complaint_id) SELECT tenant, unnest(complaint_ids);
    END LOOP;
  ELSE
    FOR tenant, complaint_ids IN
      SELECT o.tenant_id, array_agg(DISTINCT o.complaint_id) FROM gone o GROUP BY o.tenant_id ORDER BY o.tenant_id
    LOOP
      INSERT INTO report_inventory_touches (tenant_id, complaint_id) SELECT tenant, unnest(complaint_ids);
    END LOOP;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER deadlines_report_inventory_inserted AFTER INSERT ON deadlines
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION touch_report_inventory_deadlines();
CREATE TRIGGER deadlines_report_inventory_deleted AFTER DELETE ON deadlines
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION touch_report_inventory_deadlines();
ALTER TABLE deadlines ENABLE ALWAYS TRIGGER deadlines_report_inventory_inserted;
ALTER TABLE deadlines ENABLE ALWAYS TRIGGER deadlines_report_inventory_deleted;

-- One complaint or deadline changed in what the inventory counts it by: its complaint, noted.
-- TG_ARGV[0] names the trigger's table. TG_TABLE_NAME would not: on Citus the trigger runs on a
-- shard, named after its table with a number after it.
CREATE OR REPLACE FUNCTION touch_report_inventory() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_ARGV[0] = 'complaints' THEN
    INSERT INTO report_inventory_touches (tenant_id, complaint_id) VALUES (NEW.tenant_id, NEW.id);
  ELSE
    INSERT INTO report_inventory_touches (tenant_id, complaint_id) VALUES (NEW.tenant_id, NEW.complaint_id);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER complaints_report_inventory_changed AFTER UPDATE ON complaints FOR EACH ROW
  WHEN ((OLD.status, OLD.assignee, OLD.severity, OLD.received_at)
    IS DISTINCT FROM (NEW.status, NEW.assignee, NEW.severity, NEW.received_at))
  EXECUTE FUNCTION touch_report_inventory('complaints');
CREATE TRIGGER deadlines_report_inventory_changed AFTER UPDATE ON deadlines FOR EACH ROW
  WHEN ((OLD.status, OLD.due_at, OLD.met_at, OLD.cancelled_at, OLD.paused_at)
    IS DISTINCT FROM (NEW.status, NEW.due_at, NEW.met_at, NEW.cancelled_at, NEW.paused_at))
  EXECUTE FUNCTION touch_report_inventory('deadlines');
ALTER TABLE complaints ENABLE ALWAYS TRIGGER complaints_report_inventory_changed;
ALTER TABLE deadlines ENABLE ALWAYS TRIGGER deadlines_report_inventory_changed;
