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
