/**
 * The timeline's entries in the shape they had before migration compact_timeline: the actor as
 * JSON, and each entry's `data` whole, but for a complaint.created entry, which kept what
 * KEPT_AT_INTAKE names. For tests that run a migration written against that shape.
 */
export const TIMELINE_BEFORE_COMPACTING = `
  select t.id, t.tenant_id, t.complaint_id, t.type,
    jsonb_build_object('type', t.actor_type, 'id', t.actor_id, 'name', t.actor_name,
      'onBehalfOf', t.actor_on_behalf_of) as actor,
    t.changes,
    case when t.type = 'complaint.created'
      then jsonb_build_object('complaint', timeline_entry_defaults(t.tenant_id, t.type, t.changes, t.data,
        t.occurred_at, t.subject_id) || (t.data -> 'complaint'))
      else timeline_entry_data(t.tenant_id, t.complaint_id, t.id, t.type, t.changes, t.data, t.occurred_at,
        t.subject_id)
    end as data,
    t.occurred_at
  from complaint_timeline t`;
