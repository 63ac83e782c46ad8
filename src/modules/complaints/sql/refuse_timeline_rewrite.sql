-- The complaint timeline is the record a regulator reads: once written, an entry is never
-- changed or removed. The triggers refuse UPDATE, DELETE and TRUNCATE whatever the caller.
-- Erasing a whole tenant (a data-protection request) is an operator act that disables these
-- triggers explicitly, in its own audited transaction.
CREATE OR REPLACE FUNCTION refuse_timeline_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'complaint_timeline is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER complaint_timeline_append_only
  BEFORE UPDATE OR DELETE ON complaint_timeline
  FOR EACH ROW EXECUTE FUNCTION refuse_timeline_rewrite();
CREATE TRIGGER complaint_timeline_no_truncate
  BEFORE TRUNCATE ON complaint_timeline
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_timeline_rewrite();
