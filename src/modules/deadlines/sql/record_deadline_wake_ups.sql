-- Records the wake-ups that fall due together: a warning (warningIndex >= 0) or breach
-- (warningIndex = -1) only if the deadline is still due as armed, with its event and, for a
-- breach, its timeline entry and the escalation it sets off (the complaint one level up, with the
-- targets of the deadline's policy version). A complaint at p_top_level already, or in one of
-- p_finished_statuses, is not escalated: the caller passes TOP_LEVEL
-- (src/modules/escalations/escalation-levels.ts) and FINISHED_STATUSES
-- (src/modules/complaints/complaint-status.ts).
--
-- Every complaint of the batch is locked first, in id order, so two batches, or a batch and a
-- request, never wait on each other in a circle. A complaint's wake-ups are then taken in rounds,
-- one per complaint per round in item order, so that each round updates a complaint row once and
-- a complaint's second breach escalates from where its first left it.
--
-- p_items: [{"i", "deadlineId", "armedFor", "warningIndex", "eventId", "escalationId",
-- "escalationEventId"}]; each recorded wake-up comes back with its item's "i". A wake-up that was
-- not due (a repeated or stale job) comes back with nothing and writes nothing.
CREATE OR REPLACE FUNCTION record_deadline_wake_ups(p_items jsonb, p_at timestamptz, p_actor jsonb,
  p_top_level smallint, p_finished_statuses complaint_status[])
RETURNS TABLE (i int, id uuid, kind deadline_kind, status deadline_status, tenant_id uuid, complaint_id uuid,
  due_at timestamptz, warn_ats timestamptz[], warnings_fired smallint, breached_at timestamptz, escalated boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_work deadline_wake_up[];
  v_due deadline_wake_up[];
  v_recorded deadline_wake_up[] := '{}';
  v_escalated uuid[];
  v_made escalations[];
  v_escalated_all uuid[] := '{}';
  v_rounds int;
  v_last_change timestamptz;
  v_at timestamptz;
BEGIN
  SELECT array_agg(ROW(x."i", x."deadlineId", x."armedFor", x."warningIndex", x."eventId", x."escalationId",
      x."escalationEventId", x.complaint_id, x.round, x.tenant_id, NULL, NULL, NULL, NULL, NULL, NULL)::deadline_wake_up),
    max(x.round)
  INTO v_work, v_rounds
  FROM (
    SELECT item.*, d.tenant_id, d.complaint_id,
      row_number() OVER (PARTITION BY d.complaint_id ORDER BY item."i")::int AS round
    FROM jsonb_to_recordset(p_items) AS item("i" int, "deadlineId" uuid, "armedFor" timestamptz, "warningIndex" int,
      "eventId" text, "escalationId" uuid, "escalationEventId" text)
    -- A wake-up names its deadline only (its job id must stay short): only a pending deadline can
    -- be due, and deadlines_open_id_idx finds those by id alone. Everything after goes by
    -- tenant and id.
    JOIN deadlines d ON d.id = item."deadlineId" AND d.status = 'pending'
  ) AS x;
  IF v_work IS NULL THEN
    RETURN;
  END IF;

  -- Complaint first, as every API transaction does.
  SELECT max(locked.updated_at) INTO v_last_change
  FROM (
    SELECT c.updated_at FROM complaints c
    WHERE (c.tenant_id, c.id) IN (SELECT w.tenant_id, w.complaint_id FROM unnest(v_work) AS w)
    ORDER BY c.id
    FOR UPDATE
  ) AS locked;
  -- What this batch writes is timed when it was taken up, or just after the last change to its
  -- complaints if that is later: a batch that waited for a lock behind a later one must not
  -- record a complaint's second escalation before its first.
  v_at := greatest(p_at, v_last_change + interval '1 millisecond');

  FOR v_round IN 1..v_rounds LOOP
    -- The deadlines still due as armed. The complaint locks above keep them as this reads them.
    WITH recorded AS (
      UPDATE deadlines d SET
        status = CASE WHEN w.warning_index < 0 THEN 'breached'::deadline_status ELSE d.status END,
        breached_at = CASE WHEN w.warning_index < 0 THEN greatest(v_at, d.due_at) ELSE d.breached_at END,
        warnings_fired = CASE WHEN w.warning_index < 0 THEN d.warnings_fired ELSE w.warning_index + 1 END,
        updated_at = v_at
      FROM unnest(v_work) AS w
      WHERE w.round = v_round AND d.tenant_id = w.tenant_id AND d.id = w.deadline_id AND d.status = 'pending'
        AND d.due_at = w.armed_for
        AND (w.warning_index < 0 OR d.warnings_fired <= w.warning_index)
      RETURNING ROW(w.i, w.deadline_id, w.armed_for, w.warning_index, w.event_id, w.escalation_id,
        w.escalation_event_id, w.complaint_id, w.round, d.tenant_id, d.kind, d.status, d.due_at, d.warn_ats,
        d.warnings_fired, d.breached_at)::deadline_wake_up AS wake_up
    )
    SELECT array_agg(r.wake_up ORDER BY (r.wake_up).i) INTO v_due FROM recorded AS r;
    CONTINUE WHEN v_due IS NULL;

    -- Each breach raises its complaint one level, unless it is at the top or finished. ON CONFLICT: a
    -- breach is escalated once, whatever happened before. The escalations made are kept as written,
    -- so the statements below never look them up in a table that only grows.
    WITH made AS (
      INSERT INTO escalations (id, tenant_id, complaint_id, level, previous_level, trigger, reason, deadline_id,
        targets, actor, created_at)
      SELECT w.escalation_id, c.tenant_id, c.id, c.escalation_level + 1, c.escalation_level, 'breach',
        format('The %s deadline due %s was breached.', replace(w.kind::text, '_', ' '), iso_utc(w.due_at)),
        w.deadline_id,
        coalesce(
          (SELECT v.snapshot -> 'escalationTargets' -> (c.escalation_level + 1)::text FROM sla_policy_versions v
            WHERE v.tenant_id = d.tenant_id AND v.policy_id = d.policy_id AND v.version = d.policy_version),
          (SELECT p.escalation_targets -> (c.escalation_level + 1)::text FROM sla_policies p
            WHERE p.tenant_id = d.tenant_id AND p.id = d.policy_id),
          '[]'::jsonb),
        p_actor, v_at
      FROM unnest(v_due) AS w
      JOIN complaints c ON c.tenant_id = w.tenant_id AND c.id = w.complaint_id
      JOIN deadlines d ON d.tenant_id = w.tenant_id AND d.id = w.deadline_id
      WHERE w.warning_index < 0 AND c.escalation_level < p_top_level AND c.status <> ALL (p_finished_statuses)
      ON CONFLICT DO NOTHING
      RETURNING *
    )
    SELECT coalesce(array_agg(made.id), '{}'), coalesce(array_agg(ROW(made.*)::escalations), '{}')
    INTO v_escalated, v_made
    FROM made;

    -- One update per complaint: the next event number for the wake-up's event, and for the
    -- escalation's event after it, with the level it rose to.
    UPDATE complaints c SET
      event_sequence = c.event_sequence + 1 + x.escalated::int,
      escalation_level = c.escalation_level + x.escalated::int,
      version = c.version + x.escalated::int,
      updated_at = CASE WHEN x.escalated THEN v_at ELSE c.updated_at END
    FROM (SELECT w.tenant_id, w.complaint_id, w.escalation_id = ANY (v_escalated) IS TRUE AS escalated
          FROM unnest(v_due) AS w) AS x
    WHERE c.tenant_id = x.tenant_id AND c.id = x.complaint_id;

    INSERT INTO complaint_timeline (tenant_id, complaint_id, type, actor_type, actor_id, actor_name,
      actor_on_behalf_of, occurred_at, changes, data)
    SELECT entry.tenant_id, entry.complaint_id, entry.type, (p_actor ->> 'type')::actor_type,
      (p_actor ->> 'id')::uuid, p_actor ->> 'name', p_actor ->> 'onBehalfOf', v_at, entry.changes, entry.data
    FROM (
      SELECT w.i, 0 AS step, w.tenant_id, w.complaint_id, 'deadline.breached' AS type, NULL::jsonb AS changes,
        jsonb_build_object('deadlineId', w.deadline_id, 'kind', w.kind, 'dueAt', iso_utc(w.due_at)) AS data
      FROM unnest(v_due) AS w
      WHERE w.warning_index < 0
      UNION ALL
      SELECT w.i, 1, e.tenant_id, e.complaint_id, 'complaint.escalated',
        jsonb_build_array(jsonb_build_object('field', 'escalationLevel', 'before', e.previous_level, 'after', e.level)),
        jsonb_build_object('escalationId', e.id, 'trigger', e.trigger, 'reason', e.reason,
          'deadlineId', e.deadline_id, 'targets', e.targets)
      FROM unnest(v_due) AS w
      JOIN unnest(v_made) AS e ON e.id = w.escalation_id
    ) AS entry
    ORDER BY entry.i, entry.step;

    -- The wake-up's event, then the escalation's. Read after the writes above, so the complaint in
    -- an escalation's event shows its new level and next deadline. The tenant, complaint, reference
    -- and sequence go in columns and the subjects in data: toEventEnvelope makes the envelope.
    INSERT INTO events (id, tenant_id, type, complaint_id, sequence, reference, occurred_at, data)
    SELECT event.id, event.tenant_id, event.type, event.complaint_id, event.sequence, event.reference, v_at,
      event.data
    FROM (
      SELECT w.i, 0 AS step, w.event_id AS id, c.tenant_id, c.id AS complaint_id,
        CASE WHEN w.warning_index < 0 THEN 'deadline.breached' ELSE 'deadline.warning' END AS type,
        n.sequence, c.reference,
        jsonb_build_object('deadline', deadline_view(d))
        || CASE WHEN w.warning_index < 0 THEN '{}'::jsonb ELSE jsonb_build_object('warning', jsonb_build_object(
             'index', w.warning_index, 'fraction', d.warn_fractions[w.warning_index + 1]::numeric)) END AS data
      FROM unnest(v_due) AS w
      JOIN complaints c ON c.tenant_id = w.tenant_id AND c.id = w.complaint_id
      JOIN deadlines d ON d.tenant_id = w.tenant_id AND d.id = w.deadline_id
      -- The escalation, if any, took the complaint's last number; the wake-up's event the one before.
      CROSS JOIN LATERAL (
        SELECT c.event_sequence - (w.escalation_id = ANY (v_escalated) IS TRUE)::int AS sequence
      ) AS n
      UNION ALL
      SELECT w.i, 1, w.escalation_event_id, c.tenant_id, c.id, 'complaint.escalated', c.event_sequence,
        c.reference,
        jsonb_build_object(
          'escalation', escalation_view(e),
          'complaint', complaint_view(c),
          'deadline', deadline_view(d),
          'actor', p_actor)
      FROM unnest(v_due) AS w
      JOIN complaints c ON c.tenant_id = w.tenant_id AND c.id = w.complaint_id
      JOIN deadlines d ON d.tenant_id = w.tenant_id AND d.id = w.deadline_id
      JOIN unnest(v_made) AS e ON e.id = w.escalation_id
    ) AS event
    ORDER BY event.i, event.step;

    v_recorded := v_recorded || v_due;
    v_escalated_all := v_escalated_all || v_escalated;
  END LOOP;

  RETURN QUERY
  SELECT w.i, w.deadline_id, w.kind, w.status, w.tenant_id, w.complaint_id, w.due_at, w.warn_ats, w.warnings_fired,
    w.breached_at, coalesce(w.escalation_id = ANY (v_escalated_all), false)
  FROM unnest(v_recorded) AS w;
END
$$;

-- One wake-up on its own: a batch of one, with the same rules passed in. Kept for callers that
-- record a single wake-up (the deadline benchmark's baseline, bench/deadlines.bench.ts).
CREATE OR REPLACE FUNCTION record_deadline_wake_up(
  p_deadline_id uuid,
  p_armed_for timestamptz,
  p_warning_index int,
  p_at timestamptz,
  p_event_id text,
  p_escalation_id uuid,
  p_escalation_event_id text,
  p_actor jsonb,
  p_top_level smallint,
  p_finished_statuses complaint_status[]
) RETURNS TABLE (id uuid, kind deadline_kind, status deadline_status, tenant_id uuid, complaint_id uuid, due_at timestamptz,
  warn_ats timestamptz[], warnings_fired smallint, breached_at timestamptz, escalated boolean)
LANGUAGE sql AS $$
  SELECT r.id, r.kind, r.status, r.tenant_id, r.complaint_id, r.due_at, r.warn_ats, r.warnings_fired, r.breached_at,
    r.escalated
  FROM record_deadline_wake_ups(
    jsonb_build_array(jsonb_build_object('i', 0, 'deadlineId', p_deadline_id, 'armedFor', p_armed_for,
      'warningIndex', p_warning_index, 'eventId', p_event_id, 'escalationId', p_escalation_id,
      'escalationEventId', p_escalation_event_id)),
    p_at, p_actor, p_top_level, p_finished_statuses) AS r
$$;
