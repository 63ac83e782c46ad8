-- Intake opens a complaint's first stretch in open_complaint_spans (0029), so the status trigger's
-- function no longer has an intake case. The functions' current text lives in
-- src/modules/reports/sql/.
-- Keeps complaint_open_spans (src/db/schema/reports.ts) as a complaint's status changes: a change
-- that ends its handling (resolved, closed, rejected, withdrawn) ends the open stretch at that
-- change; one that takes it up again (a reopening, an acceptance override) starts another.
-- `updated_at` is the instant the change records on the timeline. A complaint declined at intake
-- (the only change that sets a rejection code) was never open: as intake left it. Each stretch
-- carries the complaint's handler and severity as they are now (regroup_report_counts keeps them
-- when they change). Intake opens the first stretch (open_complaint_spans).
CREATE OR REPLACE FUNCTION track_complaint_open_spans() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IN ('received', 'acknowledged', 'investigating', 'awaiting_customer') THEN
    INSERT INTO complaint_open_spans (tenant_id, complaint_id, open_during, assignee, severity)
      VALUES (NEW.tenant_id, NEW.id, tstzrange(NEW.updated_at, NULL, '[)'), NEW.assignee, NEW.severity);
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
