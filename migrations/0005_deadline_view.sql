-- The worker records a breach or warning, its event and its timeline entry in one statement, so
-- the deadline's JSON (as the REST API shows it) is built in SQL there. deadline_view must stay
-- field for field equal to toDeadlineView in src/modules/deadlines/deadline-views.ts; a test
-- compares the two on every status.
CREATE OR REPLACE FUNCTION iso_utc(ts timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION deadline_view(d deadlines) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT jsonb_build_object(
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
    'metLate', d.met_at IS NOT NULL AND d.breached_at IS NOT NULL,
    'policyId', d.policy_id,
    'policyVersion', d.policy_version,
    'createdAt', iso_utc(d.created_at)
  )
$$;
