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
    'qualityClass', c.quality_class,
    'cause', c.cause,
    'rootCauseNote', c.root_cause_note,
    'liability', CASE WHEN c.liability_finding IS NULL THEN NULL
      ELSE jsonb_build_object('finding', c.liability_finding, 'reason', c.liability_reason, 'note', c.liability_note) END,
    'majorReasons', to_jsonb(c.major_reasons),
    'majorSince', iso_utc(c.major_since),
    'mediaExposure', c.media_exposure,
    'regulatorInvolved', c.regulator_involved,
    'premisesBlocked', c.premises_blocked,
    'highValueReturn', c.high_value_return,
    'negativeMediaCoverage', c.negative_media_coverage,
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
