-- Leases up to p_limit due deliveries, fairly: at most p_per_subscription from each active
-- subscription, less what the caller already has in flight to it (p_busy_subscriptions with
-- p_busy_counts), taken in turns across all subscriptions (each one's oldest due first, then each
-- one's second ...), so one subscription's backlog cannot crowd out the others. Each lease runs
-- p_lease_ms from PostgreSQL's clock; it comes back as text, the token that settling checks.
--
-- A tenant at a time, in one call: every statement that locks or writes names its tenant, so on
-- Citus it is a router query run where that tenant's rows are (Citus refuses a lock across
-- shards, and a LIMIT in a subquery that a statement over many shards correlates). Only the first
-- statement, which finds where work waits, reads across tenants, and it locks nothing.
-- Only the tenants of the p_limit oldest waiting deliveries (one per subscription) are visited:
-- the first turn alone takes from those, and when there are fewer, every tenant with work is.
-- Planned afresh on every call (plan_cache_mode): the plans PL/pgSQL would otherwise keep, made
-- for any tenant and any arrays, reached the chosen deliveries through scans, and the dispatcher
-- lost two fifths of its burst throughput (npm run bench -- webhooks).
-- Each delivery comes back with its event's trace context, which the attempt's span continues,
-- and whether its subscription takes personal data in clear or masked.
CREATE OR REPLACE FUNCTION lease_due_webhook_deliveries(p_limit int, p_per_subscription int,
  p_busy_subscriptions uuid[], p_busy_counts int[], p_lease_ms int)
RETURNS TABLE (id uuid, tenant_id uuid, subscription_id uuid, event_id text, attempt_count smallint,
  redelivery_of uuid, lease text, event_type text, occurred_ms float8, event_complaint_id uuid,
  event_reference text, event_sequence bigint, event_data jsonb, url text, secrets text[],
  event_trace_context jsonb, personal_data webhook_personal_data)
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  v_full uuid[];
  v_tenants uuid[];
  v_tenant uuid;
  v_found_tenants uuid[] := '{}';
  v_found_ids uuid[] := '{}';
  v_found_due timestamptz[] := '{}';
  v_found_turns bigint[] := '{}';
  v_chosen_tenants uuid[];
  v_chosen_ids uuid[];
BEGIN
  SELECT coalesce(array_agg(b.id), '{}') INTO v_full
  FROM unnest(p_busy_subscriptions, p_busy_counts) AS b(id, in_flight)
  WHERE b.in_flight >= p_per_subscription;

  SELECT array_agg(DISTINCT head.tenant_id) INTO v_tenants
  FROM (
    SELECT s.tenant_id
    FROM webhook_subscriptions s
    CROSS JOIN LATERAL (
      SELECT d.next_attempt_at FROM webhook_deliveries d
      WHERE d.tenant_id = s.tenant_id AND d.subscription_id = s.id AND d.status = 'pending'
        AND d.next_attempt_at <= now() AND (d.leased_until IS NULL OR d.leased_until < now())
      ORDER BY d.next_attempt_at LIMIT 1
    ) AS due
    WHERE s.active AND s.id <> ALL (v_full)
    ORDER BY due.next_attempt_at
    LIMIT p_limit
  ) AS head;
  IF v_tenants IS NULL THEN
    RETURN;
  END IF;

  -- Each tenant's candidates, locked; rows another dispatcher holds are skipped. No subscription
  -- can have more than p_limit chosen, so no more are locked.
  FOREACH v_tenant IN ARRAY v_tenants LOOP
    SELECT v_found_tenants || array_agg(c.tenant_id), v_found_ids || array_agg(c.id),
      v_found_due || array_agg(c.next_attempt_at), v_found_turns || array_agg(c.turn)
    INTO v_found_tenants, v_found_ids, v_found_due, v_found_turns
    FROM (
      SELECT due.tenant_id, due.id, due.next_attempt_at,
        row_number() OVER (PARTITION BY s.id ORDER BY due.next_attempt_at) AS turn
      FROM webhook_subscriptions s
      LEFT JOIN unnest(p_busy_subscriptions, p_busy_counts) AS busy(id, in_flight) ON busy.id = s.id
      CROSS JOIN LATERAL (
        SELECT d.tenant_id, d.id, d.next_attempt_at
        FROM webhook_deliveries d
        WHERE d.tenant_id = v_tenant AND d.subscription_id = s.id AND d.status = 'pending'
          AND d.next_attempt_at <= now() AND (d.leased_until IS NULL OR d.leased_until < now())
        ORDER BY d.next_attempt_at
        LIMIT least(p_limit, greatest(0, p_per_subscription - coalesce(busy.in_flight, 0)))
        FOR UPDATE SKIP LOCKED
      ) AS due
      WHERE s.tenant_id = v_tenant AND s.active
    ) AS c;
  END LOOP;

  SELECT array_agg(c.tenant_id ORDER BY c.tenant_id, c.id), array_agg(c.id ORDER BY c.tenant_id, c.id)
  INTO v_chosen_tenants, v_chosen_ids
  FROM (
    SELECT f.tenant_id, f.id
    FROM unnest(v_found_tenants, v_found_ids, v_found_due, v_found_turns) AS f(tenant_id, id, due, turn)
    ORDER BY f.turn, f.due
    LIMIT p_limit
  ) AS c;
  IF v_chosen_ids IS NULL THEN
    RETURN;
  END IF;

  -- The leases first, each delivery by its key alone: joined in the same statement as its event
  -- and subscription, the planner could reach the chosen deliveries through all of their
  -- subscriptions' deliveries instead.
  FOREACH v_tenant IN ARRAY ARRAY(SELECT DISTINCT t FROM unnest(v_chosen_tenants) AS t) LOOP
    RETURN QUERY
    WITH leased AS (
      UPDATE webhook_deliveries d
      SET leased_until = now() + make_interval(secs => p_lease_ms / 1000.0)
      WHERE d.tenant_id = v_tenant
        AND d.id = ANY (ARRAY(SELECT c.id FROM unnest(v_chosen_tenants, v_chosen_ids) AS c(tenant_id, id)
                              WHERE c.tenant_id = v_tenant))
      RETURNING d.id, d.subscription_id, d.event_id, d.attempt_count, d.redelivery_of, d.leased_until
    )
    SELECT l.id, v_tenant, l.subscription_id, l.event_id, l.attempt_count, l.redelivery_of,
      l.leased_until::text, e.type, (extract(epoch FROM e.occurred_at) * 1000)::float8, e.complaint_id,
      e.reference, e.sequence, e.data, s.url,
      ARRAY(SELECT ws.secret FROM webhook_secrets ws
            WHERE ws.tenant_id = v_tenant AND ws.subscription_id = l.subscription_id
              AND (ws.expires_at IS NULL OR ws.expires_at > now())
            ORDER BY ws.expires_at DESC NULLS FIRST, ws.created_at DESC),
      e.trace_context, s.personal_data
    FROM leased l
    JOIN events e ON e.tenant_id = v_tenant AND e.id = l.event_id
    JOIN webhook_subscriptions s ON s.tenant_id = v_tenant AND s.id = l.subscription_id;
  END LOOP;
END
$$;
