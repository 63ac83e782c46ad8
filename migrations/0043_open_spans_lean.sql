-- The daily inventory reads a complaint's handler and severity from the complaint itself (its
-- marks, 0041), so its open stretches no longer keep a copy that every reassignment rewrote.
ALTER TABLE "complaint_open_spans" DROP COLUMN "assignee";--> statement-breakpoint
ALTER TABLE "complaint_open_spans" DROP COLUMN "severity";--> statement-breakpoint
-- Keeps complaint_open_spans (src/db/schema/reports.ts) as a complaint's status changes: a change
-- that ends its handling (to a status not among the open ones) ends the open stretch at that
-- change; one that takes it up again (a reopening, an acceptance override) starts another.
-- `updated_at` is the instant the change records on the timeline. A complaint declined at intake
-- (the only change that sets a rejection code) was never open: as intake left it. Intake opens
-- the first stretch (open_complaint_spans). The trigger's arguments are the open statuses
-- (OPEN_STATUSES in src/modules/complaints/complaint-status.ts).
CREATE OR REPLACE FUNCTION track_complaint_open_spans() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  open_statuses complaint_status[] := TG_ARGV::complaint_status[];
  was_open boolean := OLD.status = ANY (open_statuses);
  is_open boolean := NEW.status = ANY (open_statuses);
BEGIN
  IF was_open = is_open THEN
    RETURN NULL;
  ELSIF is_open THEN
    INSERT INTO complaint_open_spans (tenant_id, complaint_id, open_during)
      VALUES (NEW.tenant_id, NEW.id, tstzrange(NEW.updated_at, NULL, '[)'));
  ELSIF OLD.rejection_code IS NULL AND NEW.rejection_code IS NOT NULL THEN
    DELETE FROM complaint_open_spans s
      WHERE s.tenant_id = NEW.tenant_id AND s.complaint_id = NEW.id AND upper_inf(s.open_during);
  ELSE
    UPDATE complaint_open_spans s
      SET open_during = tstzrange(lower(s.open_during), greatest(lower(s.open_during), NEW.updated_at),
        CASE WHEN lower_inc(s.open_during) THEN '[)' ELSE '()' END)
      WHERE s.tenant_id = NEW.tenant_id AND s.complaint_id = NEW.id AND upper_inf(s.open_during);
  END IF;
  RETURN NULL;
END
$$;

-- Complaints taken in together, open, in one statement: each open from just after its receipt.
-- The trigger's arguments are the open statuses (OPEN_STATUSES, as track_complaint_open_spans).
CREATE OR REPLACE FUNCTION open_complaint_spans() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO complaint_open_spans (tenant_id, complaint_id, open_during)
    SELECT n.tenant_id, n.id, tstzrange(n.received_at, NULL, '()')
    FROM new_complaints n
    WHERE n.status = ANY (TG_ARGV::complaint_status[]);
  RETURN NULL;
END
$$;

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
