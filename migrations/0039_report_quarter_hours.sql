-- The report change rows count at their instant to the quarter hour (report_quarter_hour), which
-- falls on the same local day in every time zone: the deadlines of an intake batch due within one
-- quarter hour are one change row again, as they were one per UTC day before 0034, rather than one
-- row each. Rows written before keep their exact instants; the fold reads both alike.
-- The instant a change row counts at: the deadline's due time or the follow-up's completion, to
-- the quarter hour. Every time zone's offset from UTC is a whole number of quarter hours, so the
-- quarter hour falls on the same local day as the instant in every zone the fold may put it in,
-- and the deadlines of an intake batch falling due within one are one row, not one each.
CREATE OR REPLACE FUNCTION report_quarter_hour(p_at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT date_bin('15 minutes', p_at, timestamptz '2000-01-01 00:00:00+00')
$$;
--> statement-breakpoint
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
--> statement-breakpoint
-- Deadlines taken in together (intake writes a batch of complaints' deadlines in one statement),
-- as change rows in one statement, their complaints locked first in id order as
-- count_report_deadlines locks one. The transition table has no statistics, so each complaint is
-- looked up by its key (LATERAL) rather than left to a join the planner may make a scan of.
CREATE OR REPLACE FUNCTION count_report_new_deadlines() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1
    FROM (SELECT DISTINCT n.tenant_id, n.complaint_id FROM new_deadlines n ORDER BY n.complaint_id) AS n
      CROSS JOIN LATERAL (SELECT 1 FROM complaints c WHERE c.tenant_id = n.tenant_id AND c.id = n.complaint_id
        FOR NO KEY UPDATE) AS locked;
  INSERT INTO report_deadline_changes (tenant_id, due_at, kind, channel, category, severity, assignee,
      counted, met_on_time, met_late, breached, pending)
    SELECT n.tenant_id, report_quarter_hour(n.due_at), n.kind, c.channel, c.category, c.severity,
      c.assignee, sum(k.counted), sum(k.met_on_time), sum(k.met_late), sum(k.breached), sum(k.pending)
    FROM new_deadlines n
      CROSS JOIN LATERAL (SELECT c.channel, c.category, c.severity, c.assignee FROM complaints c
        WHERE c.tenant_id = n.tenant_id AND c.id = n.complaint_id) AS c
      CROSS JOIN LATERAL deadline_report_counts(n.status, n.due_at, n.met_at) AS k
    -- A batch's deadlines due in one quarter hour, of one kind and grouping are one change.
    GROUP BY 1, 2, 3, 4, 5, 6, 7;
  RETURN NULL;
END
$$;
--> statement-breakpoint
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
--> statement-breakpoint
-- A complaint regrouped (another channel, category, severity or handler) moves what its deadlines
-- and follow-ups count from its old groups to its new ones, and its open stretches take its new
-- handler and severity; a complaint deleted takes its counts away before its deadlines and
-- follow-ups go with it.
CREATE OR REPLACE FUNCTION regroup_report_counts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    UPDATE complaint_open_spans s SET assignee = NEW.assignee, severity = NEW.severity
      WHERE s.tenant_id = NEW.tenant_id AND s.complaint_id = NEW.id;
  END IF;
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
