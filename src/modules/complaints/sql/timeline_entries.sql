-- The key of a timeline entry's `data` that names the row the entry is about, for the types whose
-- entries keep that row's id in their own column, subject_id: the deadline of deadline.met and
-- deadline.breached, the communication of communication.recorded, the follow-up of follow_up.*.
-- NULL for every other type.
CREATE OR REPLACE FUNCTION timeline_subject_key(p_type text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  RETURN CASE
    WHEN p_type IN ('deadline.met', 'deadline.breached') THEN 'deadlineId'
    WHEN p_type = 'communication.recorded' THEN 'communicationId'
    WHEN starts_with(p_type, 'follow_up.') THEN 'followUpId'
  END;
END
$$;

-- What a timeline entry's `data` says unless it says otherwise: what other rows, or the entry's
-- own columns, already hold, so the entry need not store it again (keep_timeline_entry_lean
-- leaves it out, timeline_entry_data puts it back). NULL for a type with nothing to leave out.
-- - complaint.created: the fields kept of the complaint (under `complaint`) at the values intake
--   gives almost every complaint: received, version 1, updated when created, not escalated.
-- - complaint.status_changed: `from` and `to` are its `changes` of `status`; no reason, not a
--   reopening.
-- - communication.recorded: the communication's own row (`communicationId`); for an entry that
--   names it in subject_id, its id too and no promised update.
-- - deadline.met and deadline.breached that name their deadline in subject_id: its id, kind and
--   due time, and whether it was met late. A deadline keeps those once met or breached
--   (refuse_settled_deadline_rewrite).
-- - follow_up.* that name their follow-up in subject_id: its id.
-- The values are what stored entries were slimmed against, not rules that TypeScript passes in: an
-- entry stored without a field reads back the value here, so one changes only with a migration
-- that rewrites the entries slimmed against it.
CREATE OR REPLACE FUNCTION timeline_entry_defaults(p_tenant_id uuid, p_type text, p_changes jsonb,
  p_data jsonb, p_occurred_at timestamptz, p_subject_id uuid) RETURNS jsonb
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
        || CASE WHEN p_subject_id IS NULL THEN '{}'::jsonb
          ELSE jsonb_build_object('communicationId', m.id, 'nextUpdateBy', NULL) END
      FROM communications m
      WHERE m.tenant_id = p_tenant_id AND m.id = coalesce(p_subject_id, (p_data ->> 'communicationId')::uuid));
  WHEN 'deadline.met', 'deadline.breached' THEN
    RETURN (
      SELECT jsonb_build_object('deadlineId', d.id, 'kind', d.kind, 'dueAt', iso_utc(d.due_at))
        || CASE WHEN p_type = 'deadline.met' THEN jsonb_build_object('late', d.met_at > d.due_at)
          ELSE '{}'::jsonb END
      FROM deadlines d
      WHERE d.tenant_id = p_tenant_id AND d.id = p_subject_id);
  ELSE
    IF p_subject_id IS NOT NULL AND timeline_subject_key(p_type) IS NOT NULL THEN
      RETURN jsonb_build_object(timeline_subject_key(p_type), p_subject_id);
    END IF;
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

-- How an entry is stored, given its `data` whole (as a writer passes it, or as timeline_entry_data
-- shows it): the id of the row it is about in subject_id, when its type names one
-- (timeline_subject_key), that row exists and `data` holds every key the row gives back, so that
-- timeline_entry_data shows the same `data` again; and `data` without what timeline_entry_defaults
-- gives back, NULL when nothing is left.
CREATE OR REPLACE FUNCTION timeline_entry_stored(p_tenant_id uuid, p_type text, p_changes jsonb, p_data jsonb,
  p_occurred_at timestamptz, p_subject_id uuid, OUT subject_id uuid, OUT data jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  subject_key text := timeline_subject_key(p_type);
  candidate uuid;
  defaults jsonb;
BEGIN
  subject_id := p_subject_id;
  data := p_data;
  IF subject_id IS NULL AND subject_key IS NOT NULL AND jsonb_typeof(p_data -> subject_key) = 'string' THEN
    candidate := (p_data ->> subject_key)::uuid;
    defaults := timeline_entry_defaults(p_tenant_id, p_type, p_changes, p_data, p_occurred_at, candidate);
    IF defaults IS NOT NULL AND p_data ?& ARRAY(SELECT jsonb_object_keys(defaults)) THEN
      subject_id := candidate;
    ELSE
      defaults := timeline_entry_defaults(p_tenant_id, p_type, p_changes, p_data, p_occurred_at, NULL);
    END IF;
  ELSE
    defaults := timeline_entry_defaults(p_tenant_id, p_type, p_changes, p_data, p_occurred_at, subject_id);
  END IF;
  IF p_type = 'complaint.created' THEN
    IF jsonb_typeof(p_data -> 'complaint') = 'object' THEN
      data := jsonb_set(p_data, '{complaint}', jsonb_without_defaults(p_data -> 'complaint', defaults));
    END IF;
  ELSIF defaults IS NOT NULL AND jsonb_typeof(p_data) = 'object' THEN
    data := nullif(jsonb_without_defaults(p_data, defaults), '{}');
  END IF;
END
$$;

-- Every new entry, from whichever writer (the API, the worker's functions, the intake statement),
-- is stored lean (timeline_entry_stored).
CREATE OR REPLACE FUNCTION keep_timeline_entry_lean() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  stored record;
BEGIN
  stored := timeline_entry_stored(NEW.tenant_id, NEW.type, NEW.changes, NEW.data, NEW.occurred_at, NEW.subject_id);
  NEW.subject_id := stored.subject_id;
  NEW.data := stored.data;
  RETURN NEW;
END
$$;

CREATE TRIGGER complaint_timeline_keep_lean BEFORE INSERT ON complaint_timeline
  FOR EACH ROW EXECUTE FUNCTION keep_timeline_entry_lean();

-- A timeline entry's `data` as the API shows it: what it stores, over what it left out
-- (timeline_entry_defaults); a `complaint.created` entry's `complaint` is the whole complaint as
-- it was taken in (complaint_as_taken_in).
CREATE OR REPLACE FUNCTION timeline_entry_data(p_tenant_id uuid, p_complaint_id uuid, p_id bigint, p_type text,
  p_changes jsonb, p_data jsonb, p_occurred_at timestamptz, p_subject_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  defaults jsonb := timeline_entry_defaults(p_tenant_id, p_type, p_changes, p_data, p_occurred_at, p_subject_id);
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
