-- What a timeline entry's `data` says unless it says otherwise: what other rows, or the entry's
-- own columns, already hold, so the entry need not store it again (keep_timeline_entry_lean
-- leaves it out, timeline_entry_data puts it back). NULL for a type with nothing to leave out.
-- - complaint.created: the fields kept of the complaint (under `complaint`) at the values intake
--   gives almost every complaint: received, version 1, updated when created, not escalated.
-- - complaint.status_changed: `from` and `to` are its `changes` of `status`; no reason, not a
--   reopening.
-- - communication.recorded: the communication's own row (`communicationId`).
-- The values are what stored entries were slimmed against, not rules that TypeScript passes in: an
-- entry stored without a field reads back the value here, so one changes only with a migration
-- that rewrites the entries slimmed against it.
CREATE OR REPLACE FUNCTION timeline_entry_defaults(p_tenant_id uuid, p_type text, p_changes jsonb,
  p_data jsonb, p_occurred_at timestamptz) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  status_change jsonb;
BEGIN
  CASE p_type
  WHEN 'complaint.created' THEN
    RETURN jsonb_build_object('status', 'received', 'version', 1, 'updatedAt', iso_utc(p_occurred_at),
      'rejection', NULL, 'acceptanceOverride', NULL, 'majorSince', NULL, 'escalationLevel', 0,
      'nextDeadline', NULL);
  WHEN 'complaint.status_changed' THEN
    SELECT x.change INTO status_change
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_changes) = 'array' THEN p_changes END) AS x(change)
    WHERE x.change ->> 'field' = 'status'
    LIMIT 1;
    RETURN jsonb_build_object('from', status_change -> 'before', 'to', status_change -> 'after',
      'reason', NULL, 'reopened', false);
  WHEN 'communication.recorded' THEN
    RETURN (
      SELECT jsonb_build_object('direction', m.direction, 'channel', m.channel, 'contactMade', m.contact_made,
        'occurredAt', iso_utc(m.occurred_at), 'body', m.body,
        'template', CASE WHEN m.template_id IS NOT NULL AND m.template_version IS NOT NULL
          THEN jsonb_build_object('id', m.template_id, 'version', m.template_version) END)
      FROM communications m
      WHERE m.tenant_id = p_tenant_id AND m.id = (p_data ->> 'communicationId')::uuid);
  ELSE
    RETURN NULL;
  END CASE;
END
$$;

-- The keys of p_data whose values p_defaults does not give (all of them for NULL defaults).
CREATE OR REPLACE FUNCTION jsonb_without_defaults(p_data jsonb, p_defaults jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF p_defaults IS NULL OR jsonb_typeof(p_data) IS DISTINCT FROM 'object' THEN
    RETURN p_data;
  END IF;
  RETURN (SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}') FROM jsonb_each(p_data) AS e
    WHERE (p_defaults -> e.key) IS DISTINCT FROM e.value);
END
$$;

-- Before an entry is stored, from whichever writer (the API, the worker's functions, the intake
-- statement): its `data` without what timeline_entry_defaults gives back, and NULL when nothing is
-- left.
CREATE OR REPLACE FUNCTION keep_timeline_entry_lean() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  defaults jsonb := timeline_entry_defaults(NEW.tenant_id, NEW.type, NEW.changes, NEW.data, NEW.occurred_at);
BEGIN
  IF NEW.type = 'complaint.created' THEN
    IF jsonb_typeof(NEW.data -> 'complaint') = 'object' THEN
      NEW.data := jsonb_set(NEW.data, '{complaint}', jsonb_without_defaults(NEW.data -> 'complaint', defaults));
    END IF;
  ELSIF defaults IS NOT NULL AND jsonb_typeof(NEW.data) = 'object' THEN
    NEW.data := nullif(jsonb_without_defaults(NEW.data, defaults), '{}');
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER complaint_timeline_keep_lean BEFORE INSERT ON complaint_timeline
  FOR EACH ROW EXECUTE FUNCTION keep_timeline_entry_lean();

-- A timeline entry's `data` as the API shows it: what it stores, over what it left out
-- (timeline_entry_defaults); a `complaint.created` entry's `complaint` is the whole complaint as
-- it was taken in (complaint_as_taken_in).
CREATE OR REPLACE FUNCTION timeline_entry_data(p_tenant_id uuid, p_complaint_id uuid, p_id bigint, p_type text,
  p_changes jsonb, p_data jsonb, p_occurred_at timestamptz) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  defaults jsonb := timeline_entry_defaults(p_tenant_id, p_type, p_changes, p_data, p_occurred_at);
BEGIN
  IF defaults IS NULL OR (p_data IS NOT NULL AND jsonb_typeof(p_data) <> 'object') THEN
    RETURN p_data;
  END IF;
  IF p_type = 'complaint.created' THEN
    RETURN coalesce(p_data, '{}') || jsonb_build_object('complaint', complaint_as_taken_in(p_tenant_id,
      p_complaint_id, p_id, defaults || coalesce(p_data -> 'complaint', '{}')));
  END IF;
  RETURN defaults || coalesce(p_data, '{}');
END
$$;
