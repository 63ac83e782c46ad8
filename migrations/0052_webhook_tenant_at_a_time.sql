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
CREATE OR REPLACE FUNCTION lease_due_webhook_deliveries(p_limit int, p_per_subscription int,
  p_busy_subscriptions uuid[], p_busy_counts int[], p_lease_ms int)
RETURNS TABLE (id uuid, tenant_id uuid, subscription_id uuid, event_id text, attempt_count smallint,
  redelivery_of uuid, lease text, event_type text, occurred_ms float8, event_complaint_id uuid,
  event_reference text, event_sequence bigint, event_data jsonb, url text, secrets text[])
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
            ORDER BY ws.expires_at DESC NULLS FIRST, ws.created_at DESC)
    FROM leased l
    JOIN events e ON e.tenant_id = v_tenant AND e.id = l.event_id
    JOIN webhook_subscriptions s ON s.tenant_id = v_tenant AND s.id = l.subscription_id;
  END LOOP;
END
$$;
--> statement-breakpoint
-- Records what a batch of the dispatcher's attempts came to: each attempt in the log, each
-- delivery's new state (only while the attempt's lease still holds it: a lease that ran out means
-- another dispatcher has the delivery now), each subscription's run of failures, and disabling.
-- Returns the subscriptions it disabled; the caller writes their webhook.disabled events.
--
-- One element per attempt in p_tenant_ids .. p_next_attempt_ats; an attempt whose delivery is gone
-- meanwhile (its subscription deleted, its event past retention) is dropped, so it cannot fail
-- the whole batch on the foreign key. One element per subscription attempted in
-- p_subscription_tenant_ids .. p_gone: `reset` sets failing_since to `since` (a success ended the
-- run; `since` is a failure after it, or null), otherwise a run already under way keeps its
-- start; a subscription is disabled as 'gone' when p_gone (its endpoint answered 410), or as
-- 'failing' when it has failed since p_failing_before or earlier. Both lists come grouped by
-- tenant (src/modules/webhooks/webhooks.repository.ts sorts them).
--
-- A tenant at a time, in one call: every statement names its tenant, so on Citus it is a router
-- query run where that tenant's rows are (Citus refuses a lock across shards). Tenants are taken
-- in key order, and each one's subscriptions are locked first in key order, so recorders in two
-- workers touching the same subscriptions queue rather than deadlock. NO KEY UPDATE leaves the
-- relay's foreign-key checks (KEY SHARE) unblocked.
-- Planned afresh on every call (plan_cache_mode): the plans PL/pgSQL would otherwise keep, made
-- for any tenant and any arrays, reached the deliveries through scans, and the dispatcher lost two
-- fifths of its burst throughput (npm run bench -- webhooks).
CREATE OR REPLACE FUNCTION record_webhook_attempts(
  p_tenant_ids uuid[], p_delivery_ids uuid[], p_leases timestamptz[], p_attempt_numbers int[],
  p_attempted_ats timestamptz[], p_response_statuses int[], p_latencies_ms int[], p_errors text[],
  p_response_excerpts text[], p_statuses webhook_delivery_status[], p_next_attempt_ats timestamptz[],
  p_subscription_tenant_ids uuid[], p_subscription_ids uuid[], p_run_resets boolean[],
  p_run_sinces timestamptz[], p_gone boolean[], p_failing_before timestamptz, p_at timestamptz)
RETURNS SETOF webhook_subscriptions
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  v_tenant uuid;
  a_from int;
  a_to int;
  s_from int;
  s_to int;
  v_grouped boolean;
  v_runs_move boolean;
BEGIN
  -- Each tenant's slice of both lists: a tenant's elements are in one run when the run is as long
  -- as their count.
  FOR v_tenant, a_from, a_to, s_from, s_to, v_grouped IN
    SELECT coalesce(a.tenant_id, s.tenant_id), a.first, a.last, s.first, s.last,
      a.last - a.first + 1 = a.n AND s.last - s.first + 1 = s.n
    FROM (
      SELECT x.tenant_id, min(x.i)::int AS first, max(x.i)::int AS last, count(*) AS n
      FROM unnest(p_tenant_ids) WITH ORDINALITY AS x(tenant_id, i) GROUP BY x.tenant_id
    ) AS a
    FULL JOIN (
      SELECT x.tenant_id, min(x.i)::int AS first, max(x.i)::int AS last, count(*) AS n
      FROM unnest(p_subscription_tenant_ids) WITH ORDINALITY AS x(tenant_id, i) GROUP BY x.tenant_id
    ) AS s ON s.tenant_id = a.tenant_id
    ORDER BY 1
  LOOP
    IF v_grouped IS NOT TRUE THEN
      RAISE EXCEPTION 'record_webhook_attempts: attempts and subscriptions come grouped by tenant, with the same tenants';
    END IF;

    -- The lock reads whether any run of failures moves: after a success, as most batches are,
    -- none does, and the update below is skipped.
    SELECT coalesce(bool_or(locked.moves), false) INTO v_runs_move
    FROM (
      SELECT s.failing_since IS DISTINCT FROM
          (CASE WHEN v.reset THEN v.since ELSE coalesce(s.failing_since, v.since) END) AS moves
      FROM webhook_subscriptions s
      JOIN unnest(p_subscription_ids[s_from:s_to], p_run_resets[s_from:s_to], p_run_sinces[s_from:s_to])
        AS v(id, reset, since) ON v.id = s.id
      WHERE s.tenant_id = v_tenant
      ORDER BY s.id
      FOR NO KEY UPDATE OF s
    ) AS locked;

    INSERT INTO webhook_delivery_attempts
      (tenant_id, delivery_id, attempt_number, attempted_at, response_status, latency_ms, error, response_excerpt)
    SELECT v_tenant, v.delivery_id, v.attempt_number, v.attempted_at, v.response_status, v.latency_ms, v.error,
      v.response_excerpt
    FROM unnest(p_delivery_ids[a_from:a_to], p_attempt_numbers[a_from:a_to], p_attempted_ats[a_from:a_to],
      p_response_statuses[a_from:a_to], p_latencies_ms[a_from:a_to], p_errors[a_from:a_to],
      p_response_excerpts[a_from:a_to])
      AS v(delivery_id, attempt_number, attempted_at, response_status, latency_ms, error, response_excerpt)
    JOIN webhook_deliveries d ON d.tenant_id = v_tenant AND d.id = v.delivery_id;

    -- A statement of its own: on Citus, an INSERT in a WITH of this UPDATE reached the worker
    -- without the types of the parameters only it uses.
    UPDATE webhook_deliveries d SET
      status = v.status,
      attempt_count = v.attempt_number,
      next_attempt_at = coalesce(v.next_attempt_at, d.next_attempt_at),
      leased_until = NULL,
      last_attempt_at = v.attempted_at,
      last_response_status = v.response_status,
      last_error = v.error,
      completed_at = CASE WHEN v.status = 'pending' THEN NULL ELSE v.attempted_at END
    FROM unnest(p_delivery_ids[a_from:a_to], p_leases[a_from:a_to], p_statuses[a_from:a_to],
      p_attempt_numbers[a_from:a_to], p_next_attempt_ats[a_from:a_to], p_attempted_ats[a_from:a_to],
      p_response_statuses[a_from:a_to], p_errors[a_from:a_to])
      AS v(id, lease, status, attempt_number, next_attempt_at, attempted_at, response_status, error)
    WHERE d.tenant_id = v_tenant AND d.id = v.id AND d.status = 'pending' AND d.leased_until = v.lease;

    IF v_runs_move THEN
      UPDATE webhook_subscriptions s
      SET failing_since = CASE WHEN v.reset THEN v.since ELSE coalesce(s.failing_since, v.since) END
      FROM unnest(p_subscription_ids[s_from:s_to], p_run_resets[s_from:s_to], p_run_sinces[s_from:s_to])
        AS v(id, reset, since)
      WHERE s.tenant_id = v_tenant AND s.id = v.id
        AND s.failing_since IS DISTINCT FROM (CASE WHEN v.reset THEN v.since ELSE coalesce(s.failing_since, v.since) END);
    END IF;

    -- Only a 410 or a failure can disable: most batches skip this statement.
    IF true = ANY (p_gone[s_from:s_to]) OR EXISTS (
        SELECT FROM unnest(p_run_sinces[s_from:s_to]) AS since WHERE since IS NOT NULL) THEN
      RETURN QUERY
      WITH disabled AS (
        UPDATE webhook_subscriptions s SET
          active = false,
          disabled_reason = CASE WHEN v.gone THEN 'gone' ELSE 'failing' END,
          disabled_at = p_at,
          version = s.version + 1,
          updated_at = p_at
        FROM unnest(p_subscription_ids[s_from:s_to], p_gone[s_from:s_to], p_run_sinces[s_from:s_to])
          AS v(id, gone, since)
        WHERE s.tenant_id = v_tenant AND s.id = v.id AND s.active
          AND (v.gone OR (v.since IS NOT NULL AND s.failing_since <= p_failing_before))
        RETURNING s.*
      )
      SELECT * FROM disabled;
    END IF;
  END LOOP;
END
$$;
