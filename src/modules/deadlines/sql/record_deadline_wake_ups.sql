-- Records the wake-ups that fall due together: a warning (warningIndex >= 0) or breach
-- (warningIndex = -1) only if the deadline is still due as armed, with its event and, for a
-- breach, its timeline entry and the escalation it sets off (the complaint one level up, with the
-- targets of the deadline's policy version). A complaint at p_top_level already, or in one of
-- p_finished_statuses, is not escalated: the caller passes TOP_LEVEL
-- (src/modules/escalations/escalation-levels.ts) and FINISHED_STATUSES
-- (src/modules/complaints/complaint-status.ts).
--
-- The batch is recorded a tenant at a time, tenants in id order, and each tenant's complaints are
-- locked first, in id order, so two batches, or a batch and a request, never wait on each other in
-- a circle. A complaint's wake-ups are then taken in rounds, one per complaint per round in item
-- order, so that each round updates a complaint row once and a complaint's second breach escalates
-- from where its first left it.
--
-- Every statement after the first names its tenant, so on Citus it runs on the node that holds the
-- tenant's rows. The rows such a statement returns come back as jsonb and are made rows again here:
-- a statement sent to a shard knows a row by the shard's type rather than the table's. The events'
-- subjects are put together here, before they are inserted, as complaint_view reads the
-- complaint's next deadline, which it may do from here but not from a statement sent to a shard.
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
  v_wanted uuid[];
  v_found_ids uuid[];
  v_found_tenants uuid[];
  v_found_complaints uuid[];
  v_work deadline_wake_up[];
  v_rounds int;
  v_tenant uuid;
  v_tenant_work deadline_wake_up[];
  v_last_change timestamptz;
  v_at timestamptz;
  v_round_work deadline_wake_up[];
  v_rows jsonb[];
  v_deadlines deadlines[];
  v_due deadline_wake_up[];
  v_made escalations[];
  v_escalated uuid[];
  v_complaints complaints[];
  v_event_ids text[];
  v_event_types text[];
  v_event_complaints uuid[];
  v_event_sequences bigint[];
  v_event_references text[];
  v_event_data jsonb[];
  v_recorded deadline_wake_up[] := '{}';
  v_escalated_all uuid[] := '{}';
BEGIN
  -- A wake-up names its deadline only (its job id must stay short): only a pending deadline can
  -- be due, and deadlines_open_id_idx finds those by id alone, on every node. Everything after
  -- goes by tenant and id.
  v_wanted := ARRAY(SELECT (item ->> 'deadlineId')::uuid FROM jsonb_array_elements(p_items) AS item);
  SELECT array_agg(d.id), array_agg(d.tenant_id), array_agg(d.complaint_id)
  INTO v_found_ids, v_found_tenants, v_found_complaints
  FROM deadlines d
  WHERE d.id = ANY (v_wanted) AND d.status = 'pending';
  IF v_found_ids IS NULL THEN
    RETURN;
  END IF;

  SELECT array_agg(ROW(x."i", x."deadlineId", x."armedFor", x."warningIndex", x."eventId", x."escalationId",
      x."escalationEventId", x.complaint_id, x.round, x.tenant_id, NULL, NULL, NULL, NULL, NULL, NULL)::deadline_wake_up),
    max(x.round)
  INTO v_work, v_rounds
  FROM (
    SELECT item.*, found.tenant_id, found.complaint_id,
      row_number() OVER (PARTITION BY found.tenant_id, found.complaint_id ORDER BY item."i")::int AS round
    FROM jsonb_to_recordset(p_items) AS item("i" int, "deadlineId" uuid, "armedFor" timestamptz, "warningIndex" int,
      "eventId" text, "escalationId" uuid, "escalationEventId" text)
    JOIN unnest(v_found_ids, v_found_tenants, v_found_complaints) AS found(id, tenant_id, complaint_id)
      ON found.id = item."deadlineId"
  ) AS x;

  FOR v_tenant IN SELECT DISTINCT w.tenant_id FROM unnest(v_work) AS w ORDER BY 1 LOOP
    v_tenant_work := ARRAY(SELECT w FROM unnest(v_work) AS w WHERE w.tenant_id = v_tenant);

    -- Complaint first, as every API transaction does.
    SELECT max(locked.updated_at) INTO v_last_change
    FROM (
      SELECT c.updated_at FROM complaints c
      WHERE c.tenant_id = v_tenant AND c.id = ANY (ARRAY(SELECT w.complaint_id FROM unnest(v_tenant_work) AS w))
      ORDER BY c.id
      FOR UPDATE
    ) AS locked;
    -- What this batch writes is timed when it was taken up, or just after the last change to its
    -- complaints if that is later: a batch that waited for a lock behind a later one must not
    -- record a complaint's second escalation before its first.
    v_at := greatest(p_at, v_last_change + interval '1 millisecond');

    FOR v_round IN 1..v_rounds LOOP
      v_round_work := ARRAY(SELECT w FROM unnest(v_tenant_work) AS w WHERE w.round = v_round);
      CONTINUE WHEN cardinality(v_round_work) = 0;

      -- The deadlines still due as armed. The complaint locks above keep them as this reads them.
      WITH recorded AS (
        UPDATE deadlines d SET
          status = CASE WHEN w.warning_index < 0 THEN 'breached'::deadline_status ELSE d.status END,
          breached_at = CASE WHEN w.warning_index < 0 THEN greatest(v_at, d.due_at) ELSE d.breached_at END,
          warnings_fired = CASE WHEN w.warning_index < 0 THEN d.warnings_fired ELSE w.warning_index + 1 END,
          updated_at = v_at
        FROM unnest(v_round_work) AS w
        WHERE d.tenant_id = v_tenant AND d.id = w.deadline_id AND d.status = 'pending'
          AND d.due_at = w.armed_for
          AND (w.warning_index < 0 OR d.warnings_fired <= w.warning_index)
        RETURNING d.*
      )
      SELECT array_agg(to_jsonb(recorded)) INTO v_rows FROM recorded;
      CONTINUE WHEN v_rows IS NULL;
      v_deadlines := ARRAY(SELECT jsonb_populate_record(NULL::deadlines, r) FROM unnest(v_rows) AS r);
      SELECT array_agg(ROW(w.i, w.deadline_id, w.armed_for, w.warning_index, w.event_id, w.escalation_id,
          w.escalation_event_id, w.complaint_id, w.round, d.tenant_id, d.kind, d.status, d.due_at, d.warn_ats,
          d.warnings_fired, d.breached_at)::deadline_wake_up ORDER BY w.i)
      INTO v_due
      FROM unnest(v_round_work) AS w JOIN unnest(v_deadlines) AS d ON d.id = w.deadline_id;

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
              WHERE v.tenant_id = v_tenant AND v.policy_id = d.policy_id AND v.version = d.policy_version),
            (SELECT p.escalation_targets -> (c.escalation_level + 1)::text FROM sla_policies p
              WHERE p.tenant_id = v_tenant AND p.id = d.policy_id),
            '[]'::jsonb),
          p_actor, v_at
        FROM unnest(v_due) AS w
        JOIN unnest(v_deadlines) AS d ON d.id = w.deadline_id
        JOIN complaints c ON c.tenant_id = v_tenant AND c.id = w.complaint_id
        WHERE w.warning_index < 0 AND c.escalation_level < p_top_level AND c.status <> ALL (p_finished_statuses)
        ON CONFLICT DO NOTHING
        RETURNING *
      )
      SELECT array_agg(to_jsonb(made)) INTO v_rows FROM made;
      v_made := ARRAY(SELECT jsonb_populate_record(NULL::escalations, r) FROM unnest(v_rows) AS r);
      v_escalated := ARRAY(SELECT e.id FROM unnest(v_made) AS e);

      -- One update per complaint: the next event number for the wake-up's event, and for the
      -- escalation's event after it, with the level it rose to.
      WITH updated AS (
        UPDATE complaints c SET
          event_sequence = c.event_sequence + 1 + x.escalated::int,
          escalation_level = c.escalation_level + x.escalated::int,
          version = c.version + x.escalated::int,
          updated_at = CASE WHEN x.escalated THEN v_at ELSE c.updated_at END
        FROM (SELECT w.complaint_id, w.escalation_id = ANY (v_escalated) IS TRUE AS escalated
              FROM unnest(v_due) AS w) AS x
        WHERE c.tenant_id = v_tenant AND c.id = x.complaint_id
        RETURNING c.*
      )
      SELECT array_agg(to_jsonb(updated)) INTO v_rows FROM updated;
      v_complaints := ARRAY(SELECT jsonb_populate_record(NULL::complaints, r) FROM unnest(v_rows) AS r);

      INSERT INTO complaint_timeline (tenant_id, complaint_id, type, actor_type, actor_id, actor_name,
        actor_on_behalf_of, occurred_at, changes, data)
      SELECT v_tenant, entry.complaint_id, entry.type, (p_actor ->> 'type')::actor_type,
        (p_actor ->> 'id')::uuid, p_actor ->> 'name', p_actor ->> 'onBehalfOf', v_at, entry.changes, entry.data
      FROM (
        SELECT w.i, 0 AS step, w.complaint_id, 'deadline.breached' AS type, NULL::jsonb AS changes,
          jsonb_build_object('deadlineId', w.deadline_id, 'kind', w.kind, 'dueAt', iso_utc(w.due_at)) AS data
        FROM unnest(v_due) AS w
        WHERE w.warning_index < 0
        UNION ALL
        SELECT w.i, 1, e.complaint_id, 'complaint.escalated',
          jsonb_build_array(jsonb_build_object('field', 'escalationLevel', 'before', e.previous_level, 'after', e.level)),
          jsonb_build_object('escalationId', e.id, 'trigger', e.trigger, 'reason', e.reason,
            'deadlineId', e.deadline_id, 'targets', e.targets)
        FROM unnest(v_due) AS w
        JOIN unnest(v_made) AS e ON e.id = w.escalation_id
      ) AS entry
      ORDER BY entry.i, entry.step;

      -- The wake-up's event, then the escalation's, from the rows as written above, so the complaint
      -- in an escalation's event shows its new level and next deadline. The tenant, complaint,
      -- reference and sequence go in columns and the subjects in data: toEventEnvelope makes the
      -- envelope.
      SELECT array_agg(event.id ORDER BY event.i, event.step), array_agg(event.type ORDER BY event.i, event.step),
        array_agg(event.complaint_id ORDER BY event.i, event.step),
        array_agg(event.sequence ORDER BY event.i, event.step),
        array_agg(event.reference ORDER BY event.i, event.step), array_agg(event.data ORDER BY event.i, event.step)
      INTO v_event_ids, v_event_types, v_event_complaints, v_event_sequences, v_event_references, v_event_data
      FROM (
        SELECT w.i, 0 AS step, w.event_id AS id, c.id AS complaint_id,
          CASE WHEN w.warning_index < 0 THEN 'deadline.breached' ELSE 'deadline.warning' END AS type,
          -- The escalation, if any, took the complaint's last number; the wake-up's event the one before.
          c.event_sequence - (w.escalation_id = ANY (v_escalated) IS TRUE)::int AS sequence, c.reference,
          jsonb_build_object('deadline', deadline_view(d))
          || CASE WHEN w.warning_index < 0 THEN '{}'::jsonb ELSE jsonb_build_object('warning', jsonb_build_object(
               'index', w.warning_index, 'fraction', d.warn_fractions[w.warning_index + 1]::numeric)) END AS data
        FROM unnest(v_due) AS w
        JOIN unnest(v_complaints) AS c ON c.id = w.complaint_id
        JOIN unnest(v_deadlines) AS d ON d.id = w.deadline_id
        UNION ALL
        SELECT w.i, 1, w.escalation_event_id, c.id, 'complaint.escalated', c.event_sequence, c.reference,
          jsonb_build_object(
            'escalation', escalation_view(e),
            'complaint', complaint_view(c),
            'deadline', deadline_view(d),
            'actor', p_actor)
        FROM unnest(v_due) AS w
        JOIN unnest(v_complaints) AS c ON c.id = w.complaint_id
        JOIN unnest(v_deadlines) AS d ON d.id = w.deadline_id
        JOIN unnest(v_made) AS e ON e.id = w.escalation_id
      ) AS event;
      INSERT INTO events (id, tenant_id, type, complaint_id, sequence, reference, occurred_at, data)
      SELECT event.id, v_tenant, event.type, event.complaint_id, event.sequence, event.reference, v_at, event.data
      FROM unnest(v_event_ids, v_event_types, v_event_complaints, v_event_sequences, v_event_references, v_event_data)
        WITH ORDINALITY AS event(id, type, complaint_id, sequence, reference, data, n)
      ORDER BY event.n;

      v_recorded := v_recorded || v_due;
      v_escalated_all := v_escalated_all || v_escalated;
    END LOOP;
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
