-- Complaints and deadlines are keyed by tenant first, and every row that hangs off a complaint
-- refers to it by tenant and id, as 0036-0038 did for the rest (src/db/distribution.ts): the
-- tenant-led data model now holds for every table. A wake-up job names its deadline only, to keep
-- its id short in Redis, so the live backlog's index, which the metrics gauge counts by status,
-- now holds the deadline's id after its status (deadlines_open_id_idx), in place of its tenant;
-- record_deadline_wake_ups finds its deadlines there and addresses everything after by tenant and
-- id, as escalate_complaint does. Adding the foreign keys checks every row that refers to a
-- complaint: about a minute per million complaints.
ALTER TABLE "communications" DROP CONSTRAINT "communications_complaint_id_complaints_id_fk";
--> statement-breakpoint
ALTER TABLE "complaint_conflicts" DROP CONSTRAINT "complaint_conflicts_complaint_id_complaints_id_fk";
--> statement-breakpoint
ALTER TABLE "complaint_timeline" DROP CONSTRAINT "complaint_timeline_complaint_id_complaints_id_fk";
--> statement-breakpoint
ALTER TABLE "escalations" DROP CONSTRAINT "escalations_complaint_id_complaints_id_fk";
--> statement-breakpoint
ALTER TABLE "follow_ups" DROP CONSTRAINT "follow_ups_complaint_id_complaints_id_fk";
--> statement-breakpoint
ALTER TABLE "complaint_open_spans" DROP CONSTRAINT "complaint_open_spans_complaint_id_complaints_id_fk";
--> statement-breakpoint
ALTER TABLE "pre_refunds" DROP CONSTRAINT "pre_refunds_complaint_id_complaints_id_fk";
--> statement-breakpoint
ALTER TABLE "resolutions" DROP CONSTRAINT "resolutions_complaint_id_complaints_id_fk";
--> statement-breakpoint
ALTER TABLE "deadlines" DROP CONSTRAINT "deadlines_complaint_id_complaints_id_fk";
--> statement-breakpoint
ALTER TABLE "complaints" DROP CONSTRAINT "complaints_pkey";
--> statement-breakpoint
ALTER TABLE "deadlines" DROP CONSTRAINT "deadlines_pkey";
--> statement-breakpoint
ALTER TABLE "complaints" ADD CONSTRAINT "complaints_pkey" PRIMARY KEY("tenant_id","id");
--> statement-breakpoint
ALTER TABLE "deadlines" ADD CONSTRAINT "deadlines_pkey" PRIMARY KEY("tenant_id","id");
--> statement-breakpoint
ALTER TABLE "communications" ADD CONSTRAINT "communications_complaint_fk" FOREIGN KEY ("tenant_id","complaint_id") REFERENCES "public"."complaints"("tenant_id","id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "complaint_conflicts" ADD CONSTRAINT "complaint_conflicts_complaint_fk" FOREIGN KEY ("tenant_id","complaint_id") REFERENCES "public"."complaints"("tenant_id","id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "complaint_timeline" ADD CONSTRAINT "complaint_timeline_complaint_fk" FOREIGN KEY ("tenant_id","complaint_id") REFERENCES "public"."complaints"("tenant_id","id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "escalations" ADD CONSTRAINT "escalations_complaint_fk" FOREIGN KEY ("tenant_id","complaint_id") REFERENCES "public"."complaints"("tenant_id","id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "follow_ups" ADD CONSTRAINT "follow_ups_complaint_fk" FOREIGN KEY ("tenant_id","complaint_id") REFERENCES "public"."complaints"("tenant_id","id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "complaint_open_spans" ADD CONSTRAINT "complaint_open_spans_complaint_fk" FOREIGN KEY ("tenant_id","complaint_id") REFERENCES "public"."complaints"("tenant_id","id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "pre_refunds" ADD CONSTRAINT "pre_refunds_complaint_fk" FOREIGN KEY ("tenant_id","complaint_id") REFERENCES "public"."complaints"("tenant_id","id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "resolutions" ADD CONSTRAINT "resolutions_complaint_fk" FOREIGN KEY ("tenant_id","complaint_id") REFERENCES "public"."complaints"("tenant_id","id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "deadlines" ADD CONSTRAINT "deadlines_complaint_fk" FOREIGN KEY ("tenant_id","complaint_id") REFERENCES "public"."complaints"("tenant_id","id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
DROP INDEX "deadlines_open_status_idx";
--> statement-breakpoint
CREATE INDEX "deadlines_open_id_idx" ON "deadlines" USING btree ("status","id") WHERE "deadlines"."status" in ('pending', 'paused');
--> statement-breakpoint
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
--> statement-breakpoint
-- Raises a complaint to p_level and records why: the escalation, the timeline entry and the
-- complaint.escalated event (its subjects in data, the rest in columns: toEventEnvelope makes the
-- envelope). The caller holds the complaint's row lock (or this takes it).
-- p_written_at_level: the complaint was inserted at p_level already (a major complaint at intake),
-- so its level and version are left as they are. Returns NULL, writing nothing, when the
-- escalation's breach was escalated before.
CREATE OR REPLACE FUNCTION escalate_complaint(
  p_escalation_id uuid,
  p_event_id text,
  p_tenant_id uuid,
  p_complaint_id uuid,
  p_level smallint,
  p_trigger escalation_trigger,
  p_reason text,
  p_deadline_id uuid,
  p_targets jsonb,
  p_actor jsonb,
  p_at timestamptz,
  p_written_at_level boolean
) RETURNS escalations
LANGUAGE plpgsql AS $$
DECLARE
  c complaints;
  e escalations;
  v_previous smallint;
BEGIN
  SELECT * INTO c FROM complaints WHERE tenant_id = p_tenant_id AND id = p_complaint_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  v_previous := CASE WHEN p_written_at_level THEN 0 ELSE c.escalation_level END;
  INSERT INTO escalations (id, tenant_id, complaint_id, level, previous_level, trigger, reason, deadline_id, targets, actor, created_at)
  VALUES (p_escalation_id, p_tenant_id, p_complaint_id, p_level, v_previous, p_trigger, p_reason, p_deadline_id, p_targets, p_actor, p_at)
  ON CONFLICT DO NOTHING
  RETURNING * INTO e;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  UPDATE complaints SET
    escalation_level = CASE WHEN p_written_at_level THEN escalation_level ELSE p_level END,
    version = CASE WHEN p_written_at_level THEN version ELSE version + 1 END,
    updated_at = CASE WHEN p_written_at_level THEN updated_at ELSE p_at END,
    event_sequence = event_sequence + 1
  WHERE tenant_id = c.tenant_id AND id = c.id
  RETURNING * INTO c;
  INSERT INTO complaint_timeline (tenant_id, complaint_id, type, actor_type, actor_id, actor_name,
    actor_on_behalf_of, occurred_at, changes, data)
  VALUES (p_tenant_id, p_complaint_id, 'complaint.escalated', (p_actor ->> 'type')::actor_type,
    (p_actor ->> 'id')::uuid, p_actor ->> 'name', p_actor ->> 'onBehalfOf', p_at,
    jsonb_build_array(jsonb_build_object('field', 'escalationLevel', 'before', v_previous, 'after', p_level)),
    jsonb_build_object('escalationId', e.id, 'trigger', e.trigger, 'reason', e.reason,
      'deadlineId', e.deadline_id, 'targets', e.targets));
  INSERT INTO events (id, tenant_id, type, complaint_id, sequence, reference, occurred_at, data)
  VALUES (p_event_id, p_tenant_id, 'complaint.escalated', c.id, c.event_sequence, c.reference, p_at,
    jsonb_build_object(
      'escalation', escalation_view(e),
      'complaint', complaint_view(c),
      'deadline', (SELECT deadline_view(d) FROM deadlines d WHERE d.tenant_id = p_tenant_id AND d.id = p_deadline_id),
      'actor', p_actor));
  RETURN e;
END
$$;
