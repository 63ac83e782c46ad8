-- The complaint as it stood just after its timeline entry p_after: the complaint as it stands
-- now (complaint_view), with the `before` of every change recorded after that entry put back,
-- newest first. A change naming a field the view does not have is passed over. STABLE, so it
-- reads the complaint and its entries in the snapshot of the statement that calls it: the two
-- always agree, as every change commits with its entry.
CREATE OR REPLACE FUNCTION complaint_unwound(p_tenant_id uuid, p_complaint_id uuid, p_after bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  c complaints;
  v jsonb;
  undo record;
BEGIN
  SELECT * INTO c FROM complaints WHERE tenant_id = p_tenant_id AND id = p_complaint_id;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  v := complaint_view(c);
  FOR undo IN
    SELECT string_to_array(x.change ->> 'field', '.') AS path, coalesce(x.change -> 'before', 'null') AS before
    FROM complaint_timeline t
    CROSS JOIN LATERAL jsonb_array_elements(
      CASE WHEN jsonb_typeof(t.changes) = 'array' THEN t.changes END) WITH ORDINALITY AS x(change, n)
    WHERE t.tenant_id = p_tenant_id AND t.complaint_id = p_complaint_id AND t.id > p_after
    ORDER BY t.id DESC, x.n DESC
  LOOP
    v := jsonb_set(v, undo.path, undo.before, false);
  END LOOP;
  RETURN v;
END
$$;
