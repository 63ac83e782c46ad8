-- Keeps the breach counts of the redress_deadlines gauge (see deadline_breach_counts in
-- src/db/schema/sla.ts): +1 for a deadline that becomes breached, -1 for one that stops being
-- breached (met late) or is deleted with its complaint or tenant. The triggers call it only for
-- such changes, so a warning, a pause or a deadline met in time costs nothing here.
CREATE OR REPLACE FUNCTION count_deadline_breaches() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'breached' THEN
    INSERT INTO deadline_breach_changes (tenant_id, change) VALUES (OLD.tenant_id, -1);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'breached' THEN
    INSERT INTO deadline_breach_changes (tenant_id, change) VALUES (NEW.tenant_id, 1);
  END IF;
  RETURN NULL;
END
$$;

-- ENABLE ALWAYS: the count follows every write, including those of a session that copies rows in
-- bulk with session_replication_role = replica, which skips ordinary triggers.
CREATE TRIGGER deadlines_count_breaches_inserted AFTER INSERT ON deadlines FOR EACH ROW
  WHEN (NEW.status = 'breached') EXECUTE FUNCTION count_deadline_breaches();
CREATE TRIGGER deadlines_count_breaches_changed AFTER UPDATE OF status ON deadlines FOR EACH ROW
  WHEN ((OLD.status = 'breached') <> (NEW.status = 'breached')) EXECUTE FUNCTION count_deadline_breaches();
CREATE TRIGGER deadlines_count_breaches_deleted AFTER DELETE ON deadlines FOR EACH ROW
  WHEN (OLD.status = 'breached') EXECUTE FUNCTION count_deadline_breaches();
ALTER TABLE deadlines ENABLE ALWAYS TRIGGER deadlines_count_breaches_inserted;
ALTER TABLE deadlines ENABLE ALWAYS TRIGGER deadlines_count_breaches_changed;
ALTER TABLE deadlines ENABLE ALWAYS TRIGGER deadlines_count_breaches_deleted;
