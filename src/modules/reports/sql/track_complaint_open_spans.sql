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

-- The trigger arguments are OPEN_STATUSES, which src/db/trigger-arguments.test.ts holds them to.
-- ENABLE ALWAYS, as every trigger that keeps the reports' counts: the stretches follow every write,
-- including those of a session that copies rows in bulk with session_replication_role = replica,
-- which skips ordinary triggers.
CREATE TRIGGER complaints_open_spans_changed AFTER UPDATE OF status ON complaints FOR EACH ROW
  WHEN (OLD.status <> NEW.status)
  EXECUTE FUNCTION track_complaint_open_spans('received', 'acknowledged', 'investigating', 'awaiting_customer');
ALTER TABLE complaints ENABLE ALWAYS TRIGGER complaints_open_spans_changed;

-- Complaints taken in together, open, in one statement: each open from just after its receipt.
-- The trigger's arguments are the open statuses (OPEN_STATUSES, as track_complaint_open_spans).
-- A tenant at a time (see touch_report_inventory_complaints).
CREATE OR REPLACE FUNCTION open_complaint_spans() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  tenant uuid;
  complaint_ids uuid[];
  stretches tstzrange[];
BEGIN
  FOR tenant, complaint_ids, stretches IN
    SELECT n.tenant_id, array_agg(n.id), array_agg(tstzrange(n.received_at, NULL, '()'))
    FROM new_complaints n
    WHERE n.status = ANY (TG_ARGV::complaint_status[])
    GROUP BY n.tenant_id ORDER BY n.tenant_id
  LOOP
    INSERT INTO complaint_open_spans (tenant_id, complaint_id, open_during)
      SELECT tenant, * FROM unnest(complaint_ids, stretches);
  END LOOP;
  RETURN NULL;
END
$$;

-- The trigger arguments are OPEN_STATUSES, which src/db/trigger-arguments.test.ts holds them to.
CREATE TRIGGER complaints_open_spans_inserted AFTER INSERT ON complaints
  REFERENCING NEW TABLE AS new_complaints FOR EACH STATEMENT
  EXECUTE FUNCTION open_complaint_spans('received', 'acknowledged', 'investigating', 'awaiting_customer');
ALTER TABLE complaints ENABLE ALWAYS TRIGGER complaints_open_spans_inserted;
