-- The report counts run on Citus: the fold and the recount go a tenant at a time, each statement
-- naming its tenant and its zone as values, under a lock on the tenant's row here in place of one
-- advisory lock for all tenants; the inventory's triggers write a tenant at a time.
CREATE TABLE "report_count_locks" (
	"tenant_id" uuid PRIMARY KEY NOT NULL
);
--> statement-breakpoint
ALTER TABLE "report_count_locks" ADD CONSTRAINT "report_count_locks_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Takes the lock that the fold and the recount of one tenant's counts take, so that neither moves
-- that tenant's counts while the other reckons them: the tenant's row in report_count_locks, FOR
-- UPDATE (made the first time it is asked for). A row, not an advisory lock: an advisory lock holds
-- only on the server that grants it, and on Citus every coordinator grants its own, while the row
-- lies with the tenant's other rows, where every coordinator locks the same one. Only a fold or a
-- recount of the same tenant waits for it; writes never do. With p_skip_locked (a fold) it takes
-- the lock only if no one holds it, and says whether it did: a tenant being recounted folds next
-- time.
CREATE OR REPLACE FUNCTION lock_report_counts(p_tenant_id uuid, p_skip_locked boolean) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO report_count_locks (tenant_id) VALUES (p_tenant_id) ON CONFLICT DO NOTHING;
  IF p_skip_locked THEN
    PERFORM 1 FROM report_count_locks l WHERE l.tenant_id = p_tenant_id FOR UPDATE SKIP LOCKED;
  ELSE
    PERFORM 1 FROM report_count_locks l WHERE l.tenant_id = p_tenant_id FOR UPDATE;
  END IF;
  RETURN FOUND;
END
$$;
--> statement-breakpoint
-- Brings the kept counts of one tenant, or of all when p_tenant_id is null, to what the deadlines
-- and follow-ups say, on the days of each tenant's time zone (report_time_zone): each group's
-- difference is added to its day row, and rows left counting nothing (a day of the zone before a
-- change of zone) are deleted. A write committed before a tenant's statement is in both the source
-- and the changes it read; one committed after is in neither and folds in later; so the counts are
-- exact however busy the tenant. The fold of the tenant takes the same lock (lock_report_counts),
-- so no fold moves its changes while the difference is reckoned. A tenant at a time, each statement
-- naming its tenant and its zone as values: on Citus each then runs on the node that holds the
-- tenant, where a function that reads another table (report_time_zone) could not run. Returns the
-- groups changed.
CREATE OR REPLACE FUNCTION recount_report_counts(p_tenant_id uuid, p_default_time_zone text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  tenant uuid;
  time_zone text;
  v_groups bigint := 0;
BEGIN
  FOR tenant IN SELECT t.id FROM tenants t WHERE p_tenant_id IS NULL OR t.id = p_tenant_id ORDER BY t.id LOOP
    PERFORM lock_report_counts(tenant, false);
    time_zone := report_time_zone(tenant, p_default_time_zone);
    WITH differences AS (
      SELECT day, kind, dimension, value, sum(counted) AS counted, sum(met_on_time) AS met_on_time,
        sum(met_late) AS met_late, sum(breached) AS breached, sum(pending) AS pending
      FROM (
        -- What the deadlines say,
        SELECT (d.due_at AT TIME ZONE time_zone)::date AS day, d.kind, g.dimension, g.value,
          k.counted, k.met_on_time, k.met_late, k.breached, k.pending
        FROM deadlines d
          JOIN complaints c ON c.tenant_id = tenant AND c.id = d.complaint_id
          CROSS JOIN LATERAL deadline_report_counts(d.status, d.due_at, d.met_at) AS k
          CROSS JOIN LATERAL report_groups(c.channel, c.category, c.severity, c.assignee) AS g
        WHERE d.tenant_id = tenant
        UNION ALL
        -- less what the day rows
        SELECT r.day, r.kind, r.dimension, r.value, -r.counted, -r.met_on_time, -r.met_late, -r.breached,
          -r.pending
        FROM report_deadline_days r WHERE r.tenant_id = tenant
        UNION ALL
        -- and the changes not yet folded say.
        SELECT (x.due_at AT TIME ZONE time_zone)::date, x.kind, g.dimension, g.value, -x.counted,
          -x.met_on_time, -x.met_late, -x.breached, -x.pending
        FROM report_deadline_changes x
          CROSS JOIN LATERAL report_groups(x.channel, x.category, x.severity, x.assignee) AS g
        WHERE x.tenant_id = tenant
      ) AS terms
      GROUP BY 1, 2, 3, 4
    ), corrected AS (
      INSERT INTO report_deadline_days AS days (tenant_id, day, kind, dimension, value, counted, met_on_time,
          met_late, breached, pending)
        SELECT tenant, f.* FROM differences f
        WHERE (f.counted, f.met_on_time, f.met_late, f.breached, f.pending) <> (0, 0, 0, 0, 0)
        ORDER BY f.dimension, f.day, f.kind, f.value
      ON CONFLICT ON CONSTRAINT report_deadline_days_group DO UPDATE SET
        counted = days.counted + excluded.counted, met_on_time = days.met_on_time + excluded.met_on_time,
        met_late = days.met_late + excluded.met_late, breached = days.breached + excluded.breached,
        pending = days.pending + excluded.pending
      RETURNING 1
    )
    SELECT v_groups + count(*) INTO v_groups FROM corrected;
    DELETE FROM report_deadline_days r
      WHERE r.tenant_id = tenant AND (r.counted, r.met_on_time, r.met_late, r.breached, r.pending) = (0, 0, 0, 0, 0);

    WITH differences AS (
      SELECT day, dimension, value, sum(counted) AS counted, sum(satisfied) AS satisfied,
        sum(unsatisfied) AS unsatisfied, sum(unreachable) AS unreachable, sum(declined) AS declined,
        sum(scored) AS scored, sum(score_sum) AS score_sum
      FROM (
        SELECT (f.completed_at AT TIME ZONE time_zone)::date AS day, g.dimension, g.value,
          k.counted, k.satisfied, k.unsatisfied, k.unreachable, k.declined, k.scored, k.score_sum
        FROM follow_ups f
          JOIN complaints c ON c.tenant_id = tenant AND c.id = f.complaint_id
          CROSS JOIN LATERAL follow_up_report_counts(f.outcome, f.score, f.completed_at) AS k
          CROSS JOIN LATERAL report_groups(c.channel, c.category, c.severity, c.assignee) AS g
        WHERE f.tenant_id = tenant
        UNION ALL
        SELECT r.day, r.dimension, r.value, -r.counted, -r.satisfied, -r.unsatisfied, -r.unreachable,
          -r.declined, -r.scored, -r.score_sum
        FROM report_follow_up_days r WHERE r.tenant_id = tenant
        UNION ALL
        SELECT (x.completed_at AT TIME ZONE time_zone)::date, g.dimension, g.value, -x.counted, -x.satisfied,
          -x.unsatisfied, -x.unreachable, -x.declined, -x.scored, -x.score_sum
        FROM report_follow_up_changes x
          CROSS JOIN LATERAL report_groups(x.channel, x.category, x.severity, x.assignee) AS g
        WHERE x.tenant_id = tenant
      ) AS terms
      GROUP BY 1, 2, 3
    ), corrected AS (
      INSERT INTO report_follow_up_days AS days (tenant_id, day, dimension, value, counted, satisfied,
          unsatisfied, unreachable, declined, scored, score_sum)
        SELECT tenant, f.* FROM differences f
        WHERE (f.counted, f.satisfied, f.unsatisfied, f.unreachable, f.declined, f.scored, f.score_sum)
          <> (0, 0, 0, 0, 0, 0, 0)
        ORDER BY f.dimension, f.day, f.value
      ON CONFLICT ON CONSTRAINT report_follow_up_days_group DO UPDATE SET
        counted = days.counted + excluded.counted, satisfied = days.satisfied + excluded.satisfied,
        unsatisfied = days.unsatisfied + excluded.unsatisfied, unreachable = days.unreachable + excluded.unreachable,
        declined = days.declined + excluded.declined, scored = days.scored + excluded.scored,
        score_sum = days.score_sum + excluded.score_sum
      RETURNING 1
    )
    SELECT v_groups + count(*) INTO v_groups FROM corrected;
    DELETE FROM report_follow_up_days r
      WHERE r.tenant_id = tenant
        AND (r.counted, r.satisfied, r.unsatisfied, r.unreachable, r.declined, r.scored, r.score_sum)
          = (0, 0, 0, 0, 0, 0, 0);
  END LOOP;
  RETURN v_groups;
END
$$;
--> statement-breakpoint
-- Moves the changes written since the last fold into the day rows, each on its day in its tenant's
-- time zone (report_time_zone), so a report never reads more than a few minutes of them. A tenant
-- at a time, as recount_report_counts, under its lock; a tenant whose lock another holds (a fold
-- from another worker, a recount) is left for the next fold. Safe at any time and from several
-- workers. Returns the changes moved.
CREATE OR REPLACE FUNCTION fold_report_counts(p_default_time_zone text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  tenant uuid;
  time_zone text;
  v_moved bigint := 0;
BEGIN
  FOR tenant IN
    SELECT x.tenant_id FROM report_deadline_changes x
    UNION
    SELECT x.tenant_id FROM report_follow_up_changes x
    ORDER BY 1
  LOOP
    CONTINUE WHEN NOT lock_report_counts(tenant, true);
    time_zone := report_time_zone(tenant, p_default_time_zone);
    WITH moved AS (
      DELETE FROM report_deadline_changes x WHERE x.tenant_id = tenant RETURNING x.*
    ), folded AS (
      INSERT INTO report_deadline_days AS days (tenant_id, day, kind, dimension, value, counted, met_on_time,
          met_late, breached, pending)
        SELECT tenant, (m.due_at AT TIME ZONE time_zone)::date, m.kind, g.dimension, g.value,
          sum(m.counted), sum(m.met_on_time), sum(m.met_late), sum(m.breached), sum(m.pending)
        FROM moved m
          CROSS JOIN LATERAL report_groups(m.channel, m.category, m.severity, m.assignee) AS g
        GROUP BY 2, 3, 4, 5
        ORDER BY 4, 2, 3, 5
      ON CONFLICT ON CONSTRAINT report_deadline_days_group DO UPDATE SET
        counted = days.counted + excluded.counted, met_on_time = days.met_on_time + excluded.met_on_time,
        met_late = days.met_late + excluded.met_late, breached = days.breached + excluded.breached,
        pending = days.pending + excluded.pending
    )
    SELECT v_moved + count(*) INTO v_moved FROM moved;

    WITH moved AS (
      DELETE FROM report_follow_up_changes x WHERE x.tenant_id = tenant RETURNING x.*
    ), folded AS (
      INSERT INTO report_follow_up_days AS days (tenant_id, day, dimension, value, counted, satisfied,
          unsatisfied, unreachable, declined, scored, score_sum)
        SELECT tenant, (m.completed_at AT TIME ZONE time_zone)::date, g.dimension, g.value,
          sum(m.counted), sum(m.satisfied), sum(m.unsatisfied), sum(m.unreachable), sum(m.declined),
          sum(m.scored), sum(m.score_sum)
        FROM moved m
          CROSS JOIN LATERAL report_groups(m.channel, m.category, m.severity, m.assignee) AS g
        GROUP BY 2, 3, 4
        ORDER BY 3, 2, 4
      ON CONFLICT ON CONSTRAINT report_follow_up_days_group DO UPDATE SET
        counted = days.counted + excluded.counted, satisfied = days.satisfied + excluded.satisfied,
        unsatisfied = days.unsatisfied + excluded.unsatisfied, unreachable = days.unreachable + excluded.unreachable,
        declined = days.declined + excluded.declined, scored = days.scored + excluded.scored,
        score_sum = days.score_sum + excluded.score_sum
    )
    SELECT v_moved + count(*) INTO v_moved FROM moved;
  END LOOP;
  RETURN v_moved;
END
$$;
--> statement-breakpoint
-- Complaints taken in or deleted together: each is noted once, a tenant at a time, as
-- count_report_new_deadlines reads its transition table: on Citus the trigger runs on the shard,
-- where a statement may write only rows of one tenant, named as a value, and intake's batches hold
-- one tenant each.
CREATE OR REPLACE FUNCTION touch_report_inventory_complaints() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  tenant uuid;
  complaint_ids uuid[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    FOR tenant, complaint_ids IN
      SELECT n.tenant_id, array_agg(n.id) FROM changed n GROUP BY n.tenant_id ORDER BY n.tenant_id
    LOOP
      INSERT INTO report_inventory_touches (tenant_id, complaint_id) SELECT tenant, unnest(complaint_ids);
    END LOOP;
  ELSE
    FOR tenant, complaint_ids IN
      SELECT o.tenant_id, array_agg(o.id) FROM gone o GROUP BY o.tenant_id ORDER BY o.tenant_id
    LOOP
      INSERT INTO report_inventory_touches (tenant_id, complaint_id) SELECT tenant, unnest(complaint_ids);
    END LOOP;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- Deadlines written together (intake's batch, a complaint's deadlines cancelled at once): their
-- complaints, each once, a tenant at a time (see touch_report_inventory_complaints).
CREATE OR REPLACE FUNCTION touch_report_inventory_deadlines() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  tenant uuid;
  complaint_ids uuid[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    FOR tenant, complaint_ids IN
      SELECT n.tenant_id, array_agg(DISTINCT n.complaint_id) FROM changed n GROUP BY n.tenant_id ORDER BY n.tenant_id
    LOOP
      INSERT INTO report_inventory_touches (tenant_id, complaint_id) SELECT tenant, unnest(complaint_ids);
    END LOOP;
  ELSE
    FOR tenant, complaint_ids IN
      SELECT o.tenant_id, array_agg(DISTINCT o.complaint_id) FROM gone o GROUP BY o.tenant_id ORDER BY o.tenant_id
    LOOP
      INSERT INTO report_inventory_touches (tenant_id, complaint_id) SELECT tenant, unnest(complaint_ids);
    END LOOP;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- Complaints taken in together, open, in one statement: each open from just after its receipt.
-- The trigger's arguments are the open statuses (OPEN_STATUSES, as track_complaint_open_spans).
-- A tenant at a time (see touch_report_inventory_complaints).
CREATE OR REPLACE FUNCTION open_complaint_spans() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  tenant uuid;
  complaint_ids uuid[];
  stretches tstzrange[];
BEGIN
  FOR tenant, complaint_ids, stretches IN
    SELECT n.tenant_id, array_agg(n.id), array_agg(tstzrange(n.received_at, NULL, '()'))
    FROM new_complaints n
    WHERE n.status = ANY (TG_ARGV::complaint_status[])
    GROUP BY n.tenant_id ORDER BY n.tenant_id
  LOOP
    INSERT INTO complaint_open_spans (tenant_id, complaint_id, open_during)
      SELECT tenant, * FROM unnest(complaint_ids, stretches);
  END LOOP;
  RETURN NULL;
END
$$;