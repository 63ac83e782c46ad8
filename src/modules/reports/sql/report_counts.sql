-- The SLA compliance report's counts, kept per tenant, local day, grouping (and kind, for
-- deadlines) as deadlines, follow-ups and complaints change: see report_deadline_days in
-- src/db/schema/reports.ts. What a deadline or a follow-up adds to its report is said once, here,
-- and the triggers and the recount both ask these functions.
--
-- The deadline statuses, follow-up outcomes and groupings named here are not passed in from
-- TypeScript: they are the columns and dimensions the counts are kept under, and the counts kept
-- so far were made with them, so they change only with a migration that recounts
-- (recount_report_counts). The reports offer the same groupings (GROUP_BY in
-- src/modules/reports/reports.repository.ts): report-groups.test.ts compares them.
-- The triggers are ENABLE ALWAYS: the counts follow every write, including those of a session that
-- copies rows in bulk with session_replication_role = replica, which skips ordinary triggers.

-- What one deadline adds to the compliance report: nothing once cancelled; else one deadline,
-- met on time, met late, breached or still pending (a paused one is pending).
CREATE OR REPLACE FUNCTION deadline_report_counts(status deadline_status, due_at timestamptz, met_at timestamptz)
RETURNS TABLE (counted int, met_on_time int, met_late int, breached int, pending int)
LANGUAGE sql IMMUTABLE AS $$
  SELECT 1, coalesce(met_at <= due_at, false)::int, coalesce(met_at > due_at, false)::int,
    (status = 'breached')::int, (status IN ('pending', 'paused'))::int
  WHERE status <> 'cancelled'
$$;

-- What one follow-up adds to the satisfaction report: nothing until it has an outcome.
CREATE OR REPLACE FUNCTION follow_up_report_counts(outcome follow_up_outcome, score smallint, completed_at timestamptz)
RETURNS TABLE (counted int, satisfied int, unsatisfied int, unreachable int, declined int, scored int, score_sum int)
LANGUAGE sql IMMUTABLE AS $$
  SELECT 1, (outcome = 'satisfied')::int, (outcome = 'unsatisfied')::int, (outcome = 'unreachable')::int,
    (outcome = 'declined')::int, (score IS NOT NULL)::int, coalesce(score, 0)::int
  WHERE outcome IS NOT NULL AND completed_at IS NOT NULL
$$;

-- The groups a complaint counts in, one per grouping the reports offer.
CREATE OR REPLACE FUNCTION report_groups(channel complaint_channel, category text, severity complaint_severity, assignee text)
RETURNS TABLE (dimension text, value text)
LANGUAGE sql IMMUTABLE AS $$
  VALUES ('none', NULL::text), ('channel', channel::text), ('category', category),
    ('severity', severity::text), ('assignee', assignee)
$$;

-- The instant a change row counts at: the deadline's due time or the follow-up's completion, to
-- the quarter hour. Every time zone's offset from UTC is a whole number of quarter hours, so the
-- quarter hour falls on the same local day as the instant in every zone the fold may put it in,
-- and the deadlines of an intake batch falling due within one are one row, not one each.
CREATE OR REPLACE FUNCTION report_quarter_hour(p_at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT date_bin('15 minutes', p_at, timestamptz '2000-01-01 00:00:00+00')
$$;

-- A deadline's change, as change rows: its old contribution taken away and its new one put back,
-- under its complaint's groupings. The complaint row is locked as a change of its groupings would
-- lock it, so that change and this one count each other's outcome whichever commits first. A
-- deadline deleted with its complaint finds none: the complaint took its counts with it.
CREATE OR REPLACE FUNCTION count_report_deadlines() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_complaint complaints%ROWTYPE;
  v_row deadlines%ROWTYPE := coalesce(NEW, OLD);
BEGIN
  SELECT * INTO v_complaint FROM complaints c
    WHERE c.tenant_id = v_row.tenant_id AND c.id = v_row.complaint_id FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  INSERT INTO report_deadline_changes (tenant_id, due_at, kind, channel, category, severity, assignee,
      counted, met_on_time, met_late, breached, pending)
    SELECT change.tenant_id, report_quarter_hour(change.due_at), change.kind, v_complaint.channel,
      v_complaint.category, v_complaint.severity, v_complaint.assignee, change.sign * k.counted,
      change.sign * k.met_on_time, change.sign * k.met_late, change.sign * k.breached, change.sign * k.pending
    FROM (SELECT -1 AS sign, OLD.tenant_id, OLD.kind, OLD.status, OLD.due_at, OLD.met_at WHERE TG_OP <> 'INSERT'
          UNION ALL
          SELECT 1, NEW.tenant_id, NEW.kind, NEW.status, NEW.due_at, NEW.met_at WHERE TG_OP <> 'DELETE') AS change
      CROSS JOIN LATERAL deadline_report_counts(change.status, change.due_at, change.met_at) AS k;
  RETURN NULL;
END
$$;

CREATE TRIGGER deadlines_report_counts_changed AFTER UPDATE ON deadlines FOR EACH ROW
  WHEN ((OLD.status, OLD.due_at, OLD.met_at, OLD.kind) IS DISTINCT FROM (NEW.status, NEW.due_at, NEW.met_at, NEW.kind))
  EXECUTE FUNCTION count_report_deadlines();
CREATE TRIGGER deadlines_report_counts_deleted AFTER DELETE ON deadlines FOR EACH ROW
  WHEN (OLD.status <> 'cancelled') EXECUTE FUNCTION count_report_deadlines();
ALTER TABLE deadlines ENABLE ALWAYS TRIGGER deadlines_report_counts_changed;
ALTER TABLE deadlines ENABLE ALWAYS TRIGGER deadlines_report_counts_deleted;

-- Deadlines taken in together (intake writes a batch of complaints' deadlines in one statement),
-- as change rows in one statement per tenant, their complaints locked first in id order as
-- count_report_deadlines locks one. The transition table is read into arrays first (see
-- notify_events_inserted), a tenant at a time: every statement then names its tenant, so that on
-- Citus it runs where that tenant's complaints are, which a lock or a join needs. Intake's batches
-- hold one tenant each. The arrays have no statistics, so each complaint is looked up by its key
-- (LATERAL) rather than left to a join the planner may make a scan of.
CREATE OR REPLACE FUNCTION count_report_new_deadlines() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  tenant uuid;
  complaint_ids uuid[];
  due_ats timestamptz[];
  kinds deadline_kind[];
  statuses deadline_status[];
  met_ats timestamptz[];
BEGIN
  FOR tenant, complaint_ids, due_ats, kinds, statuses, met_ats IN
    SELECT n.tenant_id, array_agg(n.complaint_id), array_agg(n.due_at), array_agg(n.kind), array_agg(n.status),
      array_agg(n.met_at)
    FROM new_deadlines n GROUP BY n.tenant_id ORDER BY n.tenant_id
  LOOP
    PERFORM 1 FROM complaints c
      WHERE c.tenant_id = tenant AND c.id = ANY (complaint_ids)
      ORDER BY c.id FOR NO KEY UPDATE;
    INSERT INTO report_deadline_changes (tenant_id, due_at, kind, channel, category, severity, assignee,
        counted, met_on_time, met_late, breached, pending)
      SELECT tenant, report_quarter_hour(n.due_at), n.kind, c.channel, c.category, c.severity,
        c.assignee, sum(k.counted), sum(k.met_on_time), sum(k.met_late), sum(k.breached), sum(k.pending)
      FROM unnest(complaint_ids, due_ats, kinds, statuses, met_ats) AS n(complaint_id, due_at, kind, status, met_at)
        CROSS JOIN LATERAL (SELECT c.channel, c.category, c.severity, c.assignee FROM complaints c
          WHERE c.tenant_id = tenant AND c.id = n.complaint_id) AS c
        CROSS JOIN LATERAL deadline_report_counts(n.status, n.due_at, n.met_at) AS k
      -- A batch's deadlines due in one quarter hour, of one kind and grouping are one change.
      GROUP BY 1, 2, 3, 4, 5, 6, 7;
  END LOOP;
  RETURN NULL;
END
$$;

CREATE TRIGGER deadlines_report_counts_inserted AFTER INSERT ON deadlines
  REFERENCING NEW TABLE AS new_deadlines FOR EACH STATEMENT EXECUTE FUNCTION count_report_new_deadlines();
ALTER TABLE deadlines ENABLE ALWAYS TRIGGER deadlines_report_counts_inserted;

-- The same for a follow-up's outcome.
CREATE OR REPLACE FUNCTION count_report_follow_ups() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_complaint complaints%ROWTYPE;
  v_row follow_ups%ROWTYPE := coalesce(NEW, OLD);
BEGIN
  SELECT * INTO v_complaint FROM complaints c
    WHERE c.tenant_id = v_row.tenant_id AND c.id = v_row.complaint_id FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  INSERT INTO report_follow_up_changes (tenant_id, completed_at, channel, category, severity, assignee,
      counted, satisfied, unsatisfied, unreachable, declined, scored, score_sum)
    SELECT change.tenant_id, report_quarter_hour(change.completed_at), v_complaint.channel,
      v_complaint.category, v_complaint.severity, v_complaint.assignee, change.sign * k.counted,
      change.sign * k.satisfied, change.sign * k.unsatisfied, change.sign * k.unreachable,
      change.sign * k.declined, change.sign * k.scored, change.sign * k.score_sum
    FROM (SELECT -1 AS sign, OLD.tenant_id, OLD.outcome, OLD.score, OLD.completed_at WHERE TG_OP <> 'INSERT'
          UNION ALL
          SELECT 1, NEW.tenant_id, NEW.outcome, NEW.score, NEW.completed_at WHERE TG_OP <> 'DELETE') AS change
      CROSS JOIN LATERAL follow_up_report_counts(change.outcome, change.score, change.completed_at) AS k;
  RETURN NULL;
END
$$;

CREATE TRIGGER follow_ups_report_counts_inserted AFTER INSERT ON follow_ups FOR EACH ROW
  WHEN (NEW.outcome IS NOT NULL) EXECUTE FUNCTION count_report_follow_ups();
CREATE TRIGGER follow_ups_report_counts_changed AFTER UPDATE ON follow_ups FOR EACH ROW
  WHEN ((OLD.outcome, OLD.score, OLD.completed_at) IS DISTINCT FROM (NEW.outcome, NEW.score, NEW.completed_at))
  EXECUTE FUNCTION count_report_follow_ups();
CREATE TRIGGER follow_ups_report_counts_deleted AFTER DELETE ON follow_ups FOR EACH ROW
  WHEN (OLD.outcome IS NOT NULL) EXECUTE FUNCTION count_report_follow_ups();
ALTER TABLE follow_ups ENABLE ALWAYS TRIGGER follow_ups_report_counts_inserted;
ALTER TABLE follow_ups ENABLE ALWAYS TRIGGER follow_ups_report_counts_changed;
ALTER TABLE follow_ups ENABLE ALWAYS TRIGGER follow_ups_report_counts_deleted;

-- A complaint regrouped (another channel, category, severity or handler) moves what its deadlines
-- and follow-ups count from its old groups to its new ones; a complaint deleted takes its counts
-- away before its deadlines and follow-ups go with it.
CREATE OR REPLACE FUNCTION regroup_report_counts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO report_deadline_changes (tenant_id, due_at, kind, channel, category, severity, assignee,
      counted, met_on_time, met_late, breached, pending)
    SELECT d.tenant_id, report_quarter_hour(d.due_at), d.kind, g.channel, g.category, g.severity,
      g.assignee, g.sign * k.counted, g.sign * k.met_on_time, g.sign * k.met_late, g.sign * k.breached,
      g.sign * k.pending
    FROM deadlines d
      CROSS JOIN LATERAL deadline_report_counts(d.status, d.due_at, d.met_at) AS k
      CROSS JOIN (SELECT -1 AS sign, OLD.channel, OLD.category, OLD.severity, OLD.assignee
                  UNION ALL
                  SELECT 1, NEW.channel, NEW.category, NEW.severity, NEW.assignee WHERE TG_OP = 'UPDATE') AS g
    WHERE d.tenant_id = OLD.tenant_id AND d.complaint_id = OLD.id;
  INSERT INTO report_follow_up_changes (tenant_id, completed_at, channel, category, severity, assignee,
      counted, satisfied, unsatisfied, unreachable, declined, scored, score_sum)
    SELECT f.tenant_id, report_quarter_hour(f.completed_at), g.channel, g.category, g.severity,
      g.assignee, g.sign * k.counted, g.sign * k.satisfied, g.sign * k.unsatisfied, g.sign * k.unreachable,
      g.sign * k.declined, g.sign * k.scored, g.sign * k.score_sum
    FROM follow_ups f
      CROSS JOIN LATERAL follow_up_report_counts(f.outcome, f.score, f.completed_at) AS k
      CROSS JOIN (SELECT -1 AS sign, OLD.channel, OLD.category, OLD.severity, OLD.assignee
                  UNION ALL
                  SELECT 1, NEW.channel, NEW.category, NEW.severity, NEW.assignee WHERE TG_OP = 'UPDATE') AS g
    WHERE f.tenant_id = OLD.tenant_id AND f.complaint_id = OLD.id;
  RETURN OLD;
END
$$;

CREATE TRIGGER complaints_report_counts_regrouped AFTER UPDATE OF channel, category, severity, assignee ON complaints
  FOR EACH ROW
  WHEN ((OLD.channel, OLD.category, OLD.severity, OLD.assignee) IS DISTINCT FROM (NEW.channel, NEW.category, NEW.severity, NEW.assignee))
  EXECUTE FUNCTION regroup_report_counts();
CREATE TRIGGER complaints_report_counts_deleted BEFORE DELETE ON complaints FOR EACH ROW
  EXECUTE FUNCTION regroup_report_counts();
ALTER TABLE complaints ENABLE ALWAYS TRIGGER complaints_report_counts_regrouped;
ALTER TABLE complaints ENABLE ALWAYS TRIGGER complaints_report_counts_deleted;

-- The time zone a tenant's report days are kept in: the one its workflow settings name, or
-- p_default_time_zone, the settings' default (timeZone in src/modules/settings/settings.schemas.ts),
-- for a tenant whose settings name none.
CREATE OR REPLACE FUNCTION report_time_zone(p_tenant_id uuid, p_default_time_zone text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN coalesce((SELECT s.settings ->> 'timeZone' FROM workflow_settings s WHERE s.tenant_id = p_tenant_id),
    p_default_time_zone);
END
$$;

-- Takes the lock that the fold and the recount of one tenant's counts take, so that neither moves
-- that tenant's counts while the other reckons them: the tenant's row in report_count_locks, FOR
-- UPDATE (made the first time it is asked for). A row, not an advisory lock: an advisory lock holds
-- only on the server that grants it, and on Citus every coordinator grants its own, while the row
-- lies with the tenant's other rows, where every coordinator locks the same one. Only a fold or a
-- recount of the same tenant waits for it; writes never do. With p_skip_locked (a fold) it takes
-- the lock only if no one holds it, and says whether it did: a tenant being recounted folds next
-- time.
CREATE OR REPLACE FUNCTION lock_report_counts(p_tenant_id uuid, p_skip_locked boolean) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO report_count_locks (tenant_id) VALUES (p_tenant_id) ON CONFLICT DO NOTHING;
  IF p_skip_locked THEN
    PERFORM 1 FROM report_count_locks l WHERE l.tenant_id = p_tenant_id FOR UPDATE SKIP LOCKED;
  ELSE
    PERFORM 1 FROM report_count_locks l WHERE l.tenant_id = p_tenant_id FOR UPDATE;
  END IF;
  RETURN FOUND;
END
$$;

-- Brings the kept counts of one tenant, or of all when p_tenant_id is null, to what the deadlines
-- and follow-ups say, on the days of each tenant's time zone (report_time_zone): each group's
-- difference is added to its day row, and rows left counting nothing (a day of the zone before a
-- change of zone) are deleted. A write committed before a tenant's statement is in both the source
-- and the changes it read; one committed after is in neither and folds in later; so the counts are
-- exact however busy the tenant. The fold of the tenant takes the same lock (lock_report_counts),
-- so no fold moves its changes while the difference is reckoned. A tenant at a time, each statement
-- naming its tenant and its zone as values: on Citus each then runs on the node that holds the
-- tenant, where a function that reads another table (report_time_zone) could not run. Returns the
-- groups changed.
CREATE OR REPLACE FUNCTION recount_report_counts(p_tenant_id uuid, p_default_time_zone text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  tenant uuid;
  time_zone text;
  v_groups bigint := 0;
BEGIN
  FOR tenant IN SELECT t.id FROM tenants t WHERE p_tenant_id IS NULL OR t.id = p_tenant_id ORDER BY t.id LOOP
    PERFORM lock_report_counts(tenant, false);
    time_zone := report_time_zone(tenant, p_default_time_zone);
    WITH differences AS (
      SELECT day, kind, dimension, value, sum(counted) AS counted, sum(met_on_time) AS met_on_time,
        sum(met_late) AS met_late, sum(breached) AS breached, sum(pending) AS pending
      FROM (
        -- What the deadlines say,
        SELECT (d.due_at AT TIME ZONE time_zone)::date AS day, d.kind, g.dimension, g.value,
          k.counted, k.met_on_time, k.met_late, k.breached, k.pending
        FROM deadlines d
          JOIN complaints c ON c.tenant_id = tenant AND c.id = d.complaint_id
          CROSS JOIN LATERAL deadline_report_counts(d.status, d.due_at, d.met_at) AS k
          CROSS JOIN LATERAL report_groups(c.channel, c.category, c.severity, c.assignee) AS g
        WHERE d.tenant_id = tenant
        UNION ALL
        -- less what the day rows
        SELECT r.day, r.kind, r.dimension, r.value, -r.counted, -r.met_on_time, -r.met_late, -r.breached,
          -r.pending
        FROM report_deadline_days r WHERE r.tenant_id = tenant
        UNION ALL
        -- and the changes not yet folded say.
        SELECT (x.due_at AT TIME ZONE time_zone)::date, x.kind, g.dimension, g.value, -x.counted,
          -x.met_on_time, -x.met_late, -x.breached, -x.pending
        FROM report_deadline_changes x
          CROSS JOIN LATERAL report_groups(x.channel, x.category, x.severity, x.assignee) AS g
        WHERE x.tenant_id = tenant
      ) AS terms
      GROUP BY 1, 2, 3, 4
    ), corrected AS (
      INSERT INTO report_deadline_days AS days (tenant_id, day, kind, dimension, value, counted, met_on_time,
          met_late, breached, pending)
        SELECT tenant, f.* FROM differences f
        WHERE (f.counted, f.met_on_time, f.met_late, f.breached, f.pending) <> (0, 0, 0, 0, 0)
        ORDER BY f.dimension, f.day, f.kind, f.value
      ON CONFLICT ON CONSTRAINT report_deadline_days_group DO UPDATE SET
        counted = days.counted + excluded.counted, met_on_time = days.met_on_time + excluded.met_on_time,
        met_late = days.met_late + excluded.met_late, breached = days.breached + excluded.breached,
        pending = days.pending + excluded.pending
      RETURNING 1
    )
    SELECT v_groups + count(*) INTO v_groups FROM corrected;
    DELETE FROM report_deadline_days r
      WHERE r.tenant_id = tenant AND (r.counted, r.met_on_time, r.met_late, r.breached, r.pending) = (0, 0, 0, 0, 0);

    WITH differences AS (
      SELECT day, dimension, value, sum(counted) AS counted, sum(satisfied) AS satisfied,
        sum(unsatisfied) AS unsatisfied, sum(unreachable) AS unreachable, sum(declined) AS declined,
        sum(scored) AS scored, sum(score_sum) AS score_sum
      FROM (
        SELECT (f.completed_at AT TIME ZONE time_zone)::date AS day, g.dimension, g.value,
          k.counted, k.satisfied, k.unsatisfied, k.unreachable, k.declined, k.scored, k.score_sum
        FROM follow_ups f
          JOIN complaints c ON c.tenant_id = tenant AND c.id = f.complaint_id
          CROSS JOIN LATERAL follow_up_report_counts(f.outcome, f.score, f.completed_at) AS k
          CROSS JOIN LATERAL report_groups(c.channel, c.category, c.severity, c.assignee) AS g
        WHERE f.tenant_id = tenant
        UNION ALL
        SELECT r.day, r.dimension, r.value, -r.counted, -r.satisfied, -r.unsatisfied, -r.unreachable,
          -r.declined, -r.scored, -r.score_sum
        FROM report_follow_up_days r WHERE r.tenant_id = tenant
        UNION ALL
        SELECT (x.completed_at AT TIME ZONE time_zone)::date, g.dimension, g.value, -x.counted, -x.satisfied,
          -x.unsatisfied, -x.unreachable, -x.declined, -x.scored, -x.score_sum
        FROM report_follow_up_changes x
          CROSS JOIN LATERAL report_groups(x.channel, x.category, x.severity, x.assignee) AS g
        WHERE x.tenant_id = tenant
      ) AS terms
      GROUP BY 1, 2, 3
    ), corrected AS (
      INSERT INTO report_follow_up_days AS days (tenant_id, day, dimension, value, counted, satisfied,
          unsatisfied, unreachable, declined, scored, score_sum)
        SELECT tenant, f.* FROM differences f
        WHERE (f.counted, f.satisfied, f.unsatisfied, f.unreachable, f.declined, f.scored, f.score_sum)
          <> (0, 0, 0, 0, 0, 0, 0)
        ORDER BY f.dimension, f.day, f.value
      ON CONFLICT ON CONSTRAINT report_follow_up_days_group DO UPDATE SET
        counted = days.counted + excluded.counted, satisfied = days.satisfied + excluded.satisfied,
        unsatisfied = days.unsatisfied + excluded.unsatisfied, unreachable = days.unreachable + excluded.unreachable,
        declined = days.declined + excluded.declined, scored = days.scored + excluded.scored,
        score_sum = days.score_sum + excluded.score_sum
      RETURNING 1
    )
    SELECT v_groups + count(*) INTO v_groups FROM corrected;
    DELETE FROM report_follow_up_days r
      WHERE r.tenant_id = tenant
        AND (r.counted, r.satisfied, r.unsatisfied, r.unreachable, r.declined, r.scored, r.score_sum)
          = (0, 0, 0, 0, 0, 0, 0);
  END LOOP;
  RETURN v_groups;
END
$$;

-- Moves the changes written since the last fold into the day rows, each on its day in its tenant's
-- time zone (report_time_zone), so a report never reads more than a few minutes of them. A tenant
-- at a time, as recount_report_counts, under its lock; a tenant whose lock another holds (a fold
-- from another worker, a recount) is left for the next fold. Safe at any time and from several
-- workers. Returns the changes moved.
CREATE OR REPLACE FUNCTION fold_report_counts(p_default_time_zone text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  tenant uuid;
  time_zone text;
  v_moved bigint := 0;
BEGIN
  FOR tenant IN
    SELECT x.tenant_id FROM report_deadline_changes x
    UNION
    SELECT x.tenant_id FROM report_follow_up_changes x
    ORDER BY 1
  LOOP
    CONTINUE WHEN NOT lock_report_counts(tenant, true);
    time_zone := report_time_zone(tenant, p_default_time_zone);
    WITH moved AS (
      DELETE FROM report_deadline_changes x WHERE x.tenant_id = tenant RETURNING x.*
    ), folded AS (
      INSERT INTO report_deadline_days AS days (tenant_id, day, kind, dimension, value, counted, met_on_time,
          met_late, breached, pending)
        SELECT tenant, (m.due_at AT TIME ZONE time_zone)::date, m.kind, g.dimension, g.value,
          sum(m.counted), sum(m.met_on_time), sum(m.met_late), sum(m.breached), sum(m.pending)
        FROM moved m
          CROSS JOIN LATERAL report_groups(m.channel, m.category, m.severity, m.assignee) AS g
        GROUP BY 2, 3, 4, 5
        ORDER BY 4, 2, 3, 5
      ON CONFLICT ON CONSTRAINT report_deadline_days_group DO UPDATE SET
        counted = days.counted + excluded.counted, met_on_time = days.met_on_time + excluded.met_on_time,
        met_late = days.met_late + excluded.met_late, breached = days.breached + excluded.breached,
        pending = days.pending + excluded.pending
    )
    SELECT v_moved + count(*) INTO v_moved FROM moved;

    WITH moved AS (
      DELETE FROM report_follow_up_changes x WHERE x.tenant_id = tenant RETURNING x.*
    ), folded AS (
      INSERT INTO report_follow_up_days AS days (tenant_id, day, dimension, value, counted, satisfied,
          unsatisfied, unreachable, declined, scored, score_sum)
        SELECT tenant, (m.completed_at AT TIME ZONE time_zone)::date, g.dimension, g.value,
          sum(m.counted), sum(m.satisfied), sum(m.unsatisfied), sum(m.unreachable), sum(m.declined),
          sum(m.scored), sum(m.score_sum)
        FROM moved m
          CROSS JOIN LATERAL report_groups(m.channel, m.category, m.severity, m.assignee) AS g
        GROUP BY 2, 3, 4
        ORDER BY 3, 2, 4
      ON CONFLICT ON CONSTRAINT report_follow_up_days_group DO UPDATE SET
        counted = days.counted + excluded.counted, satisfied = days.satisfied + excluded.satisfied,
        unsatisfied = days.unsatisfied + excluded.unsatisfied, unreachable = days.unreachable + excluded.unreachable,
        declined = days.declined + excluded.declined, scored = days.scored + excluded.scored,
        score_sum = days.score_sum + excluded.score_sum
    )
    SELECT v_moved + count(*) INTO v_moved FROM moved;
  END LOOP;
  RETURN v_moved;
END
$$;
