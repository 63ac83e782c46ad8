-- The worker's writes run as functions: one round trip each (round trips, not SQL, dominate the
-- cost of a breach), and each takes its locks in the order the API does, complaint row first,
-- so the worker and a request touching the same complaint can never deadlock.
--
-- The JSON views below must stay field for field equal to their TypeScript counterparts
-- (toDeadlineView, toComplaintView, toEscalationView); a test compares each pair. They are
-- PL/pgSQL because a SQL-language function called from another function is parsed again on
-- every call; PL/pgSQL keeps its plans for the session (three times faster here).

CREATE OR REPLACE FUNCTION iso_utc(ts timestamptz) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  RETURN to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION deadline_view(d deadlines) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
  RETURN jsonb_build_object(
    'id', d.id,
    'complaintId', d.complaint_id,
    'kind', d.kind,
    'status', d.status,
    'startsAt', iso_utc(d.starts_at),
    'dueAt', iso_utc(d.due_at),
    'warnAts', coalesce((SELECT jsonb_agg(iso_utc(w) ORDER BY o) FROM unnest(d.warn_ats) WITH ORDINALITY AS u(w, o)), '[]'::jsonb),
    'warningsFired', d.warnings_fired,
    'clock', d.clock,
    'targetDuration', d.target_duration,
    'remainingMs', d.remaining_ms,
    'pausedAt', iso_utc(d.paused_at),
    'metAt', iso_utc(d.met_at),
    'breachedAt', iso_utc(d.breached_at),
    'cancelledAt', iso_utc(d.cancelled_at),
    'metLate', d.met_at IS NOT NULL AND d.met_at > d.due_at,
    'policyId', d.policy_id,
    'policyVersion', d.policy_version,
    'createdAt', iso_utc(d.created_at)
  );
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION complaint_view(c complaints) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
  RETURN jsonb_build_object(
    'id', c.id,
    'reference', c.reference,
    'status', c.status,
    'channel', c.channel,
    'severity', c.severity,
    'priority', c.priority,
    'category', c.category,
    'subject', c.subject,
    'description', c.description,
    'customer', jsonb_build_object(
      'name', c.customer_name,
      'phone', c.customer_phone,
      'email', c.customer_email,
      'address', c.customer_address,
      'externalId', c.customer_external_id
    ),
    'desiredOutcome', c.desired_outcome,
    'occurredAt', iso_utc(c.occurred_at),
    'receivedAt', iso_utc(c.received_at),
    'receivedBy', c.received_by,
    'assignee', c.assignee,
    'escalationLevel', c.escalation_level,
    'externalRef', c.external_ref,
    'tags', to_jsonb(c.tags),
    'metadata', c.metadata,
    'version', c.version,
    'nextDeadline', (
      SELECT jsonb_build_object('id', d.id, 'kind', d.kind, 'dueAt', iso_utc(d.due_at))
      FROM deadlines d
      WHERE d.tenant_id = c.tenant_id AND d.complaint_id = c.id AND d.status = 'pending'
      ORDER BY d.due_at LIMIT 1
    ),
    'createdAt', iso_utc(c.created_at),
    'updatedAt', iso_utc(c.updated_at)
  );
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION escalation_view(e escalations) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
  RETURN jsonb_build_object(
    'id', e.id,
    'complaintId', e.complaint_id,
    'level', e.level,
    'previousLevel', e.previous_level,
    'trigger', e.trigger,
    'reason', e.reason,
    'deadlineId', e.deadline_id,
    'targets', e.targets,
    'actor', e.actor,
    'createdAt', iso_utc(e.created_at)
  );
END
$$;
--> statement-breakpoint
-- Raises a complaint to p_level and records why: the escalation, the timeline entry and the
-- complaint.escalated event. The caller holds the complaint's row lock (or this takes it).
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
  WHERE id = c.id
  RETURNING * INTO c;
  INSERT INTO complaint_timeline (tenant_id, complaint_id, type, actor, occurred_at, changes, data)
  VALUES (p_tenant_id, p_complaint_id, 'complaint.escalated', p_actor, p_at,
    jsonb_build_array(jsonb_build_object('field', 'escalationLevel', 'before', v_previous, 'after', p_level)),
    jsonb_build_object('escalationId', e.id, 'trigger', e.trigger, 'reason', e.reason,
      'deadlineId', e.deadline_id, 'targets', e.targets));
  INSERT INTO events (id, tenant_id, type, complaint_id, sequence, occurred_at, data)
  VALUES (p_event_id, p_tenant_id, 'complaint.escalated', c.id, c.event_sequence, p_at,
    jsonb_build_object(
      'tenantId', p_tenant_id, 'complaintId', c.id, 'reference', c.reference, 'sequence', c.event_sequence,
      'escalation', escalation_view(e),
      'complaint', complaint_view(c),
      'deadline', (SELECT deadline_view(d) FROM deadlines d WHERE d.id = p_deadline_id),
      'actor', p_actor));
  RETURN e;
END
$$;
--> statement-breakpoint
-- Records a deadline's warning (p_warning_index >= 0) or breach (p_warning_index = -1) if it is
-- still due as armed, with its event and, for a breach, its timeline entry and the escalation it
-- sets off: the complaint one level up (at most 3) with the targets of the deadline's policy
-- version. Returns no row, writing nothing, when nothing was due (a repeated or stale job).
CREATE OR REPLACE FUNCTION record_deadline_wake_up(
  p_deadline_id uuid,
  p_armed_for timestamptz,
  p_warning_index int,
  p_at timestamptz,
  p_event_id text,
  p_escalation_id uuid,
  p_escalation_event_id text,
  p_actor jsonb
) RETURNS TABLE (id uuid, kind deadline_kind, status deadline_status, tenant_id uuid, complaint_id uuid, due_at timestamptz,
  warn_ats timestamptz[], warnings_fired smallint, breached_at timestamptz, escalated boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_breach boolean := p_warning_index < 0;
  v_complaint_id uuid;
  c complaints;
  d deadlines;
  v_level smallint;
  v_targets jsonb;
  e escalations;
BEGIN
  SELECT x.complaint_id INTO v_complaint_id FROM deadlines x WHERE x.id = p_deadline_id;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  -- Complaint first, as every API transaction does.
  SELECT * INTO c FROM complaints x WHERE x.id = v_complaint_id FOR UPDATE;
  -- Read and checked by primary key, so no planner estimate can turn this into a scan.
  SELECT * INTO d FROM deadlines x WHERE x.id = p_deadline_id FOR UPDATE;
  IF d.status <> 'pending' OR d.due_at <> p_armed_for OR (NOT v_breach AND d.warnings_fired > p_warning_index) THEN
    RETURN;
  END IF;
  UPDATE deadlines x SET
    status = CASE WHEN v_breach THEN 'breached'::deadline_status ELSE x.status END,
    breached_at = CASE WHEN v_breach THEN greatest(p_at, x.due_at) ELSE x.breached_at END,
    warnings_fired = CASE WHEN v_breach THEN x.warnings_fired ELSE p_warning_index + 1 END,
    updated_at = p_at
  WHERE x.id = p_deadline_id
  RETURNING * INTO d;
  UPDATE complaints x SET event_sequence = x.event_sequence + 1 WHERE x.id = c.id RETURNING * INTO c;
  INSERT INTO events (id, tenant_id, type, complaint_id, sequence, occurred_at, data)
  VALUES (p_event_id, c.tenant_id, CASE WHEN v_breach THEN 'deadline.breached' ELSE 'deadline.warning' END,
    c.id, c.event_sequence, p_at,
    jsonb_build_object('tenantId', c.tenant_id, 'complaintId', c.id, 'reference', c.reference,
      'sequence', c.event_sequence, 'deadline', deadline_view(d))
    || CASE WHEN v_breach THEN '{}'::jsonb ELSE jsonb_build_object('warning', jsonb_build_object(
         'index', p_warning_index, 'fraction', d.warn_fractions[p_warning_index + 1]::numeric)) END);
  IF v_breach THEN
    INSERT INTO complaint_timeline (tenant_id, complaint_id, type, actor, occurred_at, data)
    VALUES (d.tenant_id, d.complaint_id, 'deadline.breached', p_actor, p_at,
      jsonb_build_object('deadlineId', d.id, 'kind', d.kind, 'dueAt', iso_utc(d.due_at)));
    IF c.escalation_level < 3 AND c.status NOT IN ('closed', 'rejected', 'withdrawn') THEN
      v_level := c.escalation_level + 1;
      SELECT coalesce(
          (SELECT v.snapshot -> 'escalationTargets' -> v_level::text FROM sla_policy_versions v
            WHERE v.policy_id = d.policy_id AND v.version = d.policy_version),
          (SELECT p.escalation_targets -> v_level::text FROM sla_policies p WHERE p.id = d.policy_id),
          '[]'::jsonb)
        INTO v_targets;
      e := escalate_complaint(p_escalation_id, p_escalation_event_id, c.tenant_id, c.id, v_level, 'breach',
        format('The %s deadline due %s was breached.', replace(d.kind::text, '_', ' '), iso_utc(d.due_at)),
        d.id, v_targets, p_actor, p_at, false);
    END IF;
  END IF;
  RETURN QUERY SELECT d.id, d.kind, d.status, d.tenant_id, d.complaint_id, d.due_at, d.warn_ats, d.warnings_fired,
    d.breached_at, e.id IS NOT NULL;
END
$$;
--> statement-breakpoint
-- NOTIFY serialises committing transactions on a global lock, so a notice per transaction caps
-- the whole service's write rate. Writers only wake the relay when it may be asleep: while it
-- works it stamps awake_until ahead of now and keeps polling a little past it (event-relay.ts).
-- Unlogged: after a crash the row is gone, and a missing row means "notify".
CREATE UNLOGGED TABLE outbox_relay_state (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  awake_until timestamptz NOT NULL
);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION notify_events_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM outbox_relay_state WHERE awake_until > clock_timestamp()) THEN
    PERFORM pg_notify('redress_events', '');
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- The worker records the wake-ups that fall due together in one call: a round trip and a commit
-- per batch instead of per wake-up, which doubles what the worker keeps up with. Complaints are
-- taken in id order, so two batches, or a batch and a request, never wait on each other in a
-- circle. p_items: [{"i", "deadlineId", "armedFor", "warningIndex", "eventId", "escalationId",
-- "escalationEventId"}]; each recorded wake-up comes back with its item's "i".
CREATE OR REPLACE FUNCTION record_deadline_wake_ups(p_items jsonb, p_at timestamptz, p_actor jsonb)
RETURNS TABLE (i int, id uuid, kind deadline_kind, status deadline_status, tenant_id uuid, complaint_id uuid,
  due_at timestamptz, warn_ats timestamptz[], warnings_fired smallint, breached_at timestamptz, escalated boolean)
LANGUAGE plpgsql AS $$
DECLARE
  item record;
BEGIN
  FOR item IN
    SELECT x.*
    FROM jsonb_to_recordset(p_items) AS x("i" int, "deadlineId" uuid, "armedFor" timestamptz, "warningIndex" int,
      "eventId" text, "escalationId" uuid, "escalationEventId" text)
    LEFT JOIN deadlines d ON d.id = x."deadlineId"
    ORDER BY d.complaint_id, x."i"
  LOOP
    RETURN QUERY SELECT item."i", r.*
      FROM record_deadline_wake_up(item."deadlineId", item."armedFor", item."warningIndex", p_at, item."eventId",
        item."escalationId", item."escalationEventId", p_actor) AS r;
  END LOOP;
END
$$;
