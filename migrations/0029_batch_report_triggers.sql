-- Intake writes many complaints and their deadlines in one statement; the report triggers on
-- inserted rows now run once per statement over its rows (transition tables) rather than once per
-- row: the same change rows and open stretches for a fraction of the work. Updates and deletes
-- keep their row triggers. The functions' current text lives in src/modules/reports/sql/.
-- Complaints taken in together, open, in one statement: each open from just after its receipt.
CREATE OR REPLACE FUNCTION open_complaint_spans() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO complaint_open_spans (tenant_id, complaint_id, open_during, assignee, severity)
    SELECT n.tenant_id, n.id, tstzrange(n.received_at, NULL, '()'), n.assignee, n.severity
    FROM new_complaints n
    WHERE n.status IN ('received', 'acknowledged', 'investigating', 'awaiting_customer');
  RETURN NULL;
END
$$;--> statement-breakpoint
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
  INSERT INTO report_deadline_changes (tenant_id, day, kind, channel, category, severity, assignee,
      counted, met_on_time, met_late, breached, pending)
    SELECT n.tenant_id, (n.due_at AT TIME ZONE 'UTC')::date, n.kind, c.channel, c.category, c.severity,
      c.assignee, sum(k.counted), sum(k.met_on_time), sum(k.met_late), sum(k.breached), sum(k.pending)
    FROM new_deadlines n
      CROSS JOIN LATERAL (SELECT c.channel, c.category, c.severity, c.assignee FROM complaints c
        WHERE c.tenant_id = n.tenant_id AND c.id = n.complaint_id) AS c
      CROSS JOIN LATERAL deadline_report_counts(n.status, n.due_at, n.met_at) AS k
    -- A batch's deadlines of one day, kind and grouping are one change.
    GROUP BY 1, 2, 3, 4, 5, 6, 7;
  RETURN NULL;
END
$$;--> statement-breakpoint
DROP TRIGGER complaints_open_spans_inserted ON complaints;--> statement-breakpoint
CREATE TRIGGER complaints_open_spans_inserted AFTER INSERT ON complaints
  REFERENCING NEW TABLE AS new_complaints FOR EACH STATEMENT EXECUTE FUNCTION open_complaint_spans();--> statement-breakpoint
ALTER TABLE complaints ENABLE ALWAYS TRIGGER complaints_open_spans_inserted;--> statement-breakpoint
DROP TRIGGER deadlines_report_counts_inserted ON deadlines;--> statement-breakpoint
CREATE TRIGGER deadlines_report_counts_inserted AFTER INSERT ON deadlines
  REFERENCING NEW TABLE AS new_deadlines FOR EACH STATEMENT EXECUTE FUNCTION count_report_new_deadlines();--> statement-breakpoint
ALTER TABLE deadlines ENABLE ALWAYS TRIGGER deadlines_report_counts_inserted;
