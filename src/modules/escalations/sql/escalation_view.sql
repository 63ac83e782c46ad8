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
