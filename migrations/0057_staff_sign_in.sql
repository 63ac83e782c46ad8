ALTER TYPE "public"."actor_type" ADD VALUE 'user';--> statement-breakpoint
CREATE TABLE "identity_providers" (
	"tenant_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"name" text NOT NULL,
	"issuer" text NOT NULL,
	"audience" text NOT NULL,
	"jwks_uri" text,
	"scope_claim" text NOT NULL,
	"scope_map" jsonb NOT NULL,
	"name_claim" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "identity_providers_pkey" PRIMARY KEY("tenant_id","id"),
	CONSTRAINT "identity_providers_issuer_audience_key" UNIQUE("issuer","audience")
);
--> statement-breakpoint
ALTER TABLE "complaint_timeline" ADD COLUMN "actor_subject" text;--> statement-breakpoint
ALTER TABLE "identity_providers" ADD CONSTRAINT "identity_providers_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Keys made before X-On-Behalf-Of needed a scope keep what they could do: every key that is not
-- admin (admin holds every scope) gets actors:impersonate. Keys made from now on name it or
-- cannot set the header.
UPDATE api_keys SET scopes = array_append(scopes, 'actors:impersonate')
WHERE NOT ('admin' = ANY (scopes)) AND NOT ('actors:impersonate' = ANY (scopes));--> statement-breakpoint
-- A person signed in with an access token is an actor whose id is their subject, kept in
-- actor_subject.
-- Raises a complaint to p_level and records why: the escalation, the timeline entry and the
-- complaint.escalated event (its subjects in data, the rest in columns: toEventEnvelope makes the
-- envelope). The caller holds the complaint's row lock (or this takes it).
-- p_written_at_level: the complaint was inserted at p_level already (a major complaint at intake),
-- so its level and version are left as they are. Returns NULL, writing nothing, when the
-- escalation's breach was escalated before.
-- The event's subjects are put together before the INSERT, from rows read whole into variables:
-- on Citus an INSERT cannot hold a subquery, a statement sent to a shard knows a row of it by the
-- shard's type rather than the table's, and complaint_view reads the complaint's next deadline,
-- which it may do from the coordinator but not from a statement sent to a shard.
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
  d deadlines;
  v_complaint jsonb;
  v_deadline jsonb;
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
    actor_on_behalf_of, actor_subject, occurred_at, changes, data)
  VALUES (p_tenant_id, p_complaint_id, 'complaint.escalated', (p_actor ->> 'type')::actor_type,
    (CASE WHEN p_actor ->> 'type' <> 'user' THEN p_actor ->> 'id' END)::uuid, p_actor ->> 'name',
    p_actor ->> 'onBehalfOf', CASE WHEN p_actor ->> 'type' = 'user' THEN p_actor ->> 'id' END, p_at,
    jsonb_build_array(jsonb_build_object('field', 'escalationLevel', 'before', v_previous, 'after', p_level)),
    jsonb_build_object('escalationId', e.id, 'trigger', e.trigger, 'reason', e.reason,
      'deadlineId', e.deadline_id, 'targets', e.targets));
  v_complaint := complaint_view(c);
  SELECT * INTO d FROM deadlines WHERE tenant_id = p_tenant_id AND id = p_deadline_id;
  IF FOUND THEN
    v_deadline := deadline_view(d);
  END IF;
  INSERT INTO events (id, tenant_id, type, complaint_id, sequence, reference, occurred_at, data)
  VALUES (p_event_id, p_tenant_id, 'complaint.escalated', c.id, c.event_sequence, c.reference, p_at,
    jsonb_build_object('escalation', escalation_view(e), 'complaint', v_complaint, 'deadline', v_deadline,
      'actor', p_actor));
  RETURN e;
END
$$;
