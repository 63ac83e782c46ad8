-- What a deadline keeps for good once it was met or breached: its kind and due time, and once met,
-- when. Its deadline.met and deadline.breached timeline entries leave these out and read them back
-- from the row (timeline_entry_defaults), so changing them would rewrite the append-only record.
CREATE OR REPLACE FUNCTION refuse_settled_deadline_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'deadline % was settled: its kind, due time and meeting time are kept as they were', OLD.id
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER deadlines_settled_facts_kept
  BEFORE UPDATE ON deadlines
  FOR EACH ROW
  WHEN ((OLD.met_at IS NOT NULL OR OLD.breached_at IS NOT NULL)
    AND (NEW.kind IS DISTINCT FROM OLD.kind OR NEW.due_at IS DISTINCT FROM OLD.due_at
      OR (OLD.met_at IS NOT NULL AND NEW.met_at IS DISTINCT FROM OLD.met_at)))
  EXECUTE FUNCTION refuse_settled_deadline_rewrite();
