-- The complaint as it was taken in, which the `complaint.created` timeline entry p_entry_id of a
-- complaint shows. The entry keeps only what intake set that later changes overwrite without
-- recording a `before` (takenInEntryData in src/modules/complaints/complaint-views.ts, with its
-- intake values put back by timeline_entry_data): p_kept. The rest is the complaint now with every
-- later change undone (complaint_unwound). An entry that still holds a whole copy (it has the
-- complaint's `id`: one the lean_timeline migration could not rebuild exactly) is that copy.
CREATE OR REPLACE FUNCTION complaint_as_taken_in(p_tenant_id uuid, p_complaint_id uuid, p_entry_id bigint,
  p_kept jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
  IF p_kept ? 'id' THEN
    RETURN p_kept;
  END IF;
  RETURN coalesce(complaint_unwound(p_tenant_id, p_complaint_id, p_entry_id), '{}') || p_kept;
END
$$;
