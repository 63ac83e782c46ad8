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
