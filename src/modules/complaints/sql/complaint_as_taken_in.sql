-- The complaint as it was taken in, which the `complaint.created` timeline entry `t` shows. The
-- entry keeps only what intake set that later changes overwrite without recording a `before`
-- (takenInEntryData in src/modules/complaints/complaint-views.ts); the rest is the complaint now
-- with every later change undone (complaint_unwound). An entry that still holds a whole copy (it
-- has the complaint's `id`: one the lean_timeline migration could not rebuild exactly) is that copy.
CREATE OR REPLACE FUNCTION complaint_as_taken_in(t complaint_timeline) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  kept jsonb := coalesce(t.data -> 'complaint', '{}');
BEGIN
  IF kept ? 'id' THEN
    RETURN kept;
  END IF;
  RETURN coalesce(complaint_unwound(t.tenant_id, t.complaint_id, t.id), '{}') || kept;
END
$$;
