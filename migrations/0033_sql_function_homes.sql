-- One home for each SQL function and trigger: each stands as it is now in a file of its module's
-- sql/ folder (iso_utc in src/db/sql/), and src/db/migration-functions.test.ts holds the migrations
-- to those files. What this migration defines is copied from them.
-- - Rules that TypeScript holds are passed in rather than copied. record_deadline_wake_ups and its
--   one-item wrapper record_deadline_wake_up take the top escalation level and the finished
--   statuses, so their old signatures go: a worker built before this migration cannot record
--   wake-ups after it, so deploy the worker with it. The open-stretch triggers take the open
--   statuses, and the relay's commit trigger its channel, as trigger arguments, which
--   src/db/trigger-arguments.test.ts holds to the TypeScript constants.
-- - iso_utc, the JSON views, notify_events_inserted and timeline_entry_defaults are defined again
--   as they were, under comments that say why they are as they are.
-- - complaint_timeline_keep_lean is created again, naming its table as it is called now: it was
--   created on complaint_timeline_compact, before that table was renamed complaint_timeline.

-- An instant as the API writes it, for the JSON built in SQL: UTC to the millisecond, as
-- Date.prototype.toISOString gives it. PL/pgSQL, as are the views that call it, because a
-- SQL-language function called from another function is parsed again on every call, while
-- PL/pgSQL keeps its plans for the session.
CREATE OR REPLACE FUNCTION iso_utc(ts timestamptz) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  RETURN to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
END
$$;
--> statement-breakpoint
-- A deadline as the REST API shows it, built in SQL for the events the worker's functions write.
-- It must stay field for field equal to toDeadlineView (src/modules/deadlines/deadline-views.ts):
-- test/sla-api.test.ts compares the two on every status.
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
-- The complaint as the REST API, GraphQL and events show it, built in SQL for the events the
-- worker's functions write and for the timeline's rebuilt complaint (complaint_unwound). It must
-- stay field for field equal to toComplaintView (src/modules/complaints/complaint-views.ts):
-- test/escalations.test.ts compares the two.
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
    'complainantRelation', c.complainant_relation,
    'complainantAuthorised', c.complainant_authorised,
    'rejection', CASE WHEN c.rejection_code IS NULL THEN NULL
      ELSE jsonb_build_object('code', c.rejection_code, 'detail', c.rejection_detail) END,
    'acceptanceOverride', c.acceptance_override,
    'responsibility', c.responsibility,
    'upstreamParty', c.upstream_party,
    'needType', c.need_type,
    'liability', CASE WHEN c.liability_finding IS NULL THEN NULL
      ELSE jsonb_build_object('finding', c.liability_finding, 'reason', c.liability_reason, 'note', c.liability_note) END,
    'majorReasons', to_jsonb(c.major_reasons),
    'majorSince', iso_utc(c.major_since),
    'mediaExposure', c.media_exposure,
    'regulatorInvolved', c.regulator_involved,
    'incidentKey', c.incident_key,
    'subjectStaff', to_jsonb(c.subject_staff),
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
-- An escalation as the REST API shows it, built in SQL for the complaint.escalated events that
-- escalate_complaint and record_deadline_wake_ups write. It must stay field for field equal to
-- toEscalationView (src/modules/escalations/escalations.service.ts): test/escalations.test.ts
-- compares the two.
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
-- Every inserted event joins the outbox relay's work list in the statement that inserts it, so no
-- code path can forget it. The relay is woken as the transaction commits (notify_relay_at_commit).
CREATE OR REPLACE FUNCTION notify_events_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_outbox (position) SELECT position FROM inserted_events;
  RETURN NULL;
END
$$;
--> statement-breakpoint
DROP TRIGGER events_committed_notify ON events;
--> statement-breakpoint
-- Wakes the outbox relay as a transaction that inserted events commits, unless the relay is awake
-- (outbox_relay_state): NOTIFY serialises committing transactions on a global lock, so writers
-- skip it while the relay polls anyway. It decides at commit, not at insert, so that a
-- transaction committing after the relay went back to sleep still wakes it. TG_ARGV[0]: the
-- channel the relay listens on (EVENTS_CHANNEL in src/modules/events/event-relay.ts).
CREATE OR REPLACE FUNCTION notify_relay_at_commit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- Constraint triggers fire per row; the first of a transaction decides for all of them.
  IF current_setting('redress.relay_checked', true) IS DISTINCT FROM 'yes' THEN
    PERFORM set_config('redress.relay_checked', 'yes', true);
    IF NOT EXISTS (SELECT 1 FROM outbox_relay_state WHERE awake_until > clock_timestamp()) THEN
      PERFORM pg_notify(TG_ARGV[0], '');
    END IF;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- Deferred, so that it runs as the transaction commits. Its argument is EVENTS_CHANNEL, which
-- src/db/trigger-arguments.test.ts holds it to.
CREATE CONSTRAINT TRIGGER events_committed_notify
AFTER INSERT ON events
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION notify_relay_at_commit('redress_events');
--> statement-breakpoint
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
--> statement-breakpoint
DROP TRIGGER complaint_timeline_keep_lean ON complaint_timeline;
--> statement-breakpoint
CREATE TRIGGER complaint_timeline_keep_lean BEFORE INSERT ON complaint_timeline
  FOR EACH ROW EXECUTE FUNCTION keep_timeline_entry_lean();
--> statement-breakpoint
DROP FUNCTION record_deadline_wake_up(uuid, timestamptz, int, timestamptz, text, uuid, text, jsonb);
--> statement-breakpoint
DROP FUNCTION record_deadline_wake_ups(jsonb, timestamptz, jsonb);
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
      x."escalationEventId", x.complaint_id, x.round, NULL, NULL, NULL, NULL, NULL, NULL, NULL)::deadline_wake_up),
    max(x.round)
  INTO v_work, v_rounds
  FROM (
    SELECT item.*, d.complaint_id, row_number() OVER (PARTITION BY d.complaint_id ORDER BY item."i")::int AS round
    FROM jsonb_to_recordset(p_items) AS item("i" int, "deadlineId" uuid, "armedFor" timestamptz, "warningIndex" int,
      "eventId" text, "escalationId" uuid, "escalationEventId" text)
    JOIN deadlines d ON d.id = item."deadlineId"
  ) AS x;
  IF v_work IS NULL THEN
    RETURN;
  END IF;

  -- Complaint first, as every API transaction does.
  SELECT max(locked.updated_at) INTO v_last_change
  FROM (
    SELECT c.updated_at FROM complaints c
    WHERE c.id IN (SELECT w.complaint_id FROM unnest(v_work) AS w)
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
      WHERE w.round = v_round AND d.id = w.deadline_id AND d.status = 'pending' AND d.due_at = w.armed_for
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
            WHERE v.policy_id = d.policy_id AND v.version = d.policy_version),
          (SELECT p.escalation_targets -> (c.escalation_level + 1)::text FROM sla_policies p WHERE p.id = d.policy_id),
          '[]'::jsonb),
        p_actor, v_at
      FROM unnest(v_due) AS w
      JOIN complaints c ON c.id = w.complaint_id
      JOIN deadlines d ON d.id = w.deadline_id
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
    FROM (SELECT w.complaint_id, w.escalation_id = ANY (v_escalated) IS TRUE AS escalated FROM unnest(v_due) AS w) AS x
    WHERE c.id = x.complaint_id;

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
    -- an escalation's event shows its new level and next deadline.
    INSERT INTO events (id, tenant_id, type, complaint_id, sequence, occurred_at, data)
    SELECT event.id, event.tenant_id, event.type, event.complaint_id, event.sequence, v_at, event.data
    FROM (
      SELECT w.i, 0 AS step, w.event_id AS id, c.tenant_id, c.id AS complaint_id,
        CASE WHEN w.warning_index < 0 THEN 'deadline.breached' ELSE 'deadline.warning' END AS type,
        n.sequence,
        jsonb_build_object('tenantId', c.tenant_id, 'complaintId', c.id, 'reference', c.reference,
          'sequence', n.sequence, 'deadline', deadline_view(d))
        || CASE WHEN w.warning_index < 0 THEN '{}'::jsonb ELSE jsonb_build_object('warning', jsonb_build_object(
             'index', w.warning_index, 'fraction', d.warn_fractions[w.warning_index + 1]::numeric)) END AS data
      FROM unnest(v_due) AS w
      JOIN complaints c ON c.id = w.complaint_id
      JOIN deadlines d ON d.id = w.deadline_id
      -- The escalation, if any, took the complaint's last number; the wake-up's event the one before.
      CROSS JOIN LATERAL (
        SELECT c.event_sequence - (w.escalation_id = ANY (v_escalated) IS TRUE)::int AS sequence
      ) AS n
      UNION ALL
      SELECT w.i, 1, w.escalation_event_id, c.tenant_id, c.id, 'complaint.escalated', c.event_sequence,
        jsonb_build_object(
          'tenantId', c.tenant_id, 'complaintId', c.id, 'reference', c.reference, 'sequence', c.event_sequence,
          'escalation', escalation_view(e),
          'complaint', complaint_view(c),
          'deadline', deadline_view(d),
          'actor', p_actor)
      FROM unnest(v_due) AS w
      JOIN complaints c ON c.id = w.complaint_id
      JOIN deadlines d ON d.id = w.deadline_id
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
--> statement-breakpoint
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
DROP TRIGGER complaints_open_spans_changed ON complaints;
--> statement-breakpoint
-- Keeps complaint_open_spans (src/db/schema/reports.ts) as a complaint's status changes: a change
-- that ends its handling (to a status not among the open ones) ends the open stretch at that
-- change; one that takes it up again (a reopening, an acceptance override) starts another.
-- `updated_at` is the instant the change records on the timeline. A complaint declined at intake
-- (the only change that sets a rejection code) was never open: as intake left it. Each stretch
-- carries the complaint's handler and severity as they are now (regroup_report_counts keeps them
-- when they change). Intake opens the first stretch (open_complaint_spans). The trigger's
-- arguments are the open statuses (OPEN_STATUSES in src/modules/complaints/complaint-status.ts).
CREATE OR REPLACE FUNCTION track_complaint_open_spans() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  open_statuses complaint_status[] := TG_ARGV::complaint_status[];
  was_open boolean := OLD.status = ANY (open_statuses);
  is_open boolean := NEW.status = ANY (open_statuses);
BEGIN
  IF was_open = is_open THEN
    RETURN NULL;
  ELSIF is_open THEN
    INSERT INTO complaint_open_spans (tenant_id, complaint_id, open_during, assignee, severity)
      VALUES (NEW.tenant_id, NEW.id, tstzrange(NEW.updated_at, NULL, '[)'), NEW.assignee, NEW.severity);
  ELSIF OLD.rejection_code IS NULL AND NEW.rejection_code IS NOT NULL THEN
    DELETE FROM complaint_open_spans s
      WHERE s.tenant_id = NEW.tenant_id AND s.complaint_id = NEW.id AND upper_inf(s.open_during);
  ELSE
    UPDATE complaint_open_spans s
      SET open_during = tstzrange(lower(s.open_during), greatest(lower(s.open_during), NEW.updated_at),
        CASE WHEN lower_inc(s.open_during) THEN '[)' ELSE '()' END)
      WHERE s.tenant_id = NEW.tenant_id AND s.complaint_id = NEW.id AND upper_inf(s.open_during);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- The trigger arguments are OPEN_STATUSES, which src/db/trigger-arguments.test.ts holds them to.
-- ENABLE ALWAYS, as every trigger that keeps the reports' counts: the stretches follow every write,
-- including those of a session that copies rows in bulk with session_replication_role = replica,
-- which skips ordinary triggers.
CREATE TRIGGER complaints_open_spans_changed AFTER UPDATE OF status ON complaints FOR EACH ROW
  WHEN (OLD.status <> NEW.status)
  EXECUTE FUNCTION track_complaint_open_spans('received', 'acknowledged', 'investigating', 'awaiting_customer');
--> statement-breakpoint
ALTER TABLE complaints ENABLE ALWAYS TRIGGER complaints_open_spans_changed;
--> statement-breakpoint
DROP TRIGGER complaints_open_spans_inserted ON complaints;
--> statement-breakpoint
-- Complaints taken in together, open, in one statement: each open from just after its receipt.
-- The trigger's arguments are the open statuses (OPEN_STATUSES, as track_complaint_open_spans).
CREATE OR REPLACE FUNCTION open_complaint_spans() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO complaint_open_spans (tenant_id, complaint_id, open_during, assignee, severity)
    SELECT n.tenant_id, n.id, tstzrange(n.received_at, NULL, '()'), n.assignee, n.severity
    FROM new_complaints n
    WHERE n.status = ANY (TG_ARGV::complaint_status[]);
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- The trigger arguments are OPEN_STATUSES, which src/db/trigger-arguments.test.ts holds them to.
CREATE TRIGGER complaints_open_spans_inserted AFTER INSERT ON complaints
  REFERENCING NEW TABLE AS new_complaints FOR EACH STATEMENT
  EXECUTE FUNCTION open_complaint_spans('received', 'acknowledged', 'investigating', 'awaiting_customer');
--> statement-breakpoint
ALTER TABLE complaints ENABLE ALWAYS TRIGGER complaints_open_spans_inserted;
