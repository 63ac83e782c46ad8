-- The groups a complaint counts in, one per grouping the inventory offers: in total, by severity
-- and by handler (report_inventory_counts_dimension holds the counts to them).
CREATE OR REPLACE FUNCTION report_inventory_groups(p_severity complaint_severity, p_assignee text)
RETURNS TABLE (dimension text, value text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  VALUES ('none', NULL::text), ('severity', p_severity::text), ('assignee', p_assignee)
$$;

-- What one complaint's marks add to the kept counts, on the days of p_time_zone, under each
-- grouping of its handler and severity (report_inventory_groups): one received on the day of its
-- receipt, one due on each day a deadline of it falls due, and the turns of its open and overdue
-- stretches on their days.
CREATE OR REPLACE FUNCTION report_inventory_contributions(p_assignee text, p_severity complaint_severity,
  p_received_at timestamptz, p_due_at timestamptz[], p_open tstzmultirange, p_overdue tstzmultirange,
  p_time_zone text)
RETURNS TABLE (dimension text, value text, day date, received int, due int, open_change int, overdue_change int)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT g.dimension, g.value, x.day, x.received, x.due, x.open_change, x.overdue_change
  FROM report_inventory_groups(p_severity, p_assignee) AS g
    CROSS JOIN (
      SELECT (p_received_at AT TIME ZONE p_time_zone)::date AS day, 1 AS received, 0 AS due,
        0 AS open_change, 0 AS overdue_change
      UNION ALL
      SELECT DISTINCT (u.due_at AT TIME ZONE p_time_zone)::date, 0, 1, 0, 0 FROM unnest(p_due_at) AS u (due_at)
      UNION ALL
      SELECT (t.before AT TIME ZONE p_time_zone)::date, 0, 0, t.change, 0 FROM report_inventory_turns(p_open) AS t
      UNION ALL
      SELECT (t.before AT TIME ZONE p_time_zone)::date, 0, 0, 0, t.change FROM report_inventory_turns(p_overdue) AS t
    ) AS x
$$;
