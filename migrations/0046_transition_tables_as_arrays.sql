-- Every inserted event joins the outbox relay's work list in the statement that inserts it, so no
-- code path can forget it. The relay is woken as the transaction commits (notify_relay_at_commit).
--
-- The inserted rows are read out of the transition table into arrays before anything is written,
-- as in every trigger here that reads one. On Citus the trigger runs on the node that holds the
-- rows, and a statement there that reads a transition table and writes a distributed table is
-- run in steps that no longer see the transition table ("could not find named tuplestore"); a
-- statement that reads only the transition table runs as on one server, and one that writes from
-- arrays is a plain insert of the rows. On one server it costs two array copies of a few rows.
CREATE OR REPLACE FUNCTION notify_events_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  tenant_ids uuid[];
  positions bigint[];
BEGIN
  SELECT array_agg(i.tenant_id), array_agg(i.position) INTO tenant_ids, positions FROM inserted_events i;
  INSERT INTO event_outbox (tenant_id, position) SELECT * FROM unnest(tenant_ids, positions);
  RETURN NULL;
END
$$;

-- Complaints taken in together, open, in one statement: each open from just after its receipt.
-- The trigger's arguments are the open statuses (OPEN_STATUSES, as track_complaint_open_spans).
-- The transition table is read into arrays first (see notify_events_inserted).
CREATE OR REPLACE FUNCTION open_complaint_spans() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  tenant_ids uuid[];
  complaint_ids uuid[];
  stretches tstzrange[];
BEGIN
  SELECT array_agg(n.tenant_id), array_agg(n.id), array_agg(tstzrange(n.received_at, NULL, '()'))
    INTO tenant_ids, complaint_ids, stretches
    FROM new_complaints n
    WHERE n.status = ANY (TG_ARGV::complaint_status[]);
  INSERT INTO complaint_open_spans (tenant_id, complaint_id, open_during)
    SELECT * FROM unnest(tenant_ids, complaint_ids, stretches);
  RETURN NULL;
END
$$;

-- Complaints taken in or deleted together: each is noted once, in one statement. The transition
-- table is read into arrays first (see notify_events_inserted).
CREATE OR REPLACE FUNCTION touch_report_inventory_complaints() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  tenant_ids uuid[];
  complaint_ids uuid[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(n.tenant_id), array_agg(n.id) INTO tenant_ids, complaint_ids FROM changed n;
  ELSE
    SELECT array_agg(o.tenant_id), array_agg(o.id) INTO tenant_ids, complaint_ids FROM gone o;
  END IF;
  INSERT INTO report_inventory_touches (tenant_id, complaint_id) SELECT * FROM unnest(tenant_ids, complaint_ids);
  RETURN NULL;
END
$$;

-- Deadlines written together (intake's batch, a complaint's deadlines cancelled at once): their
-- complaints, each once. The transition table is read into arrays first (see
-- notify_events_inserted).
CREATE OR REPLACE FUNCTION touch_report_inventory_deadlines() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  tenant_ids uuid[];
  complaint_ids uuid[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(d.tenant_id), array_agg(d.complaint_id) INTO tenant_ids, complaint_ids
      FROM (SELECT DISTINCT n.tenant_id, n.complaint_id FROM changed n) AS d;
  ELSE
    SELECT array_agg(d.tenant_id), array_agg(d.complaint_id) INTO tenant_ids, complaint_ids
      FROM (SELECT DISTINCT o.tenant_id, o.complaint_id FROM gone o) AS d;
  END IF;
  INSERT INTO report_inventory_touches (tenant_id, complaint_id) SELECT * FROM unnest(tenant_ids, complaint_ids);
  RETURN NULL;
END
$$;

-- Deadlines taken in together (intake writes a batch of complaints' deadlines in one statement),
-- as change rows in one statement per tenant, their complaints locked first in id order as
-- count_report_deadlines locks one. The transition table is read into arrays first (see
-- notify_events_inserted), a tenant at a time: every statement then names its tenant, so that on
-- Citus it runs where that tenant's complaints are, which a lock or a join needs. Intake's batches
-- hold one tenant each. The arrays have no statistics, so each complaint is looked up by its key
-- (LATERAL) rather than left to a join the planner may make a scan of.
CREATE OR REPLACE FUNCTION count_report_new_deadlines() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  tenant uuid;
  complaint_ids uuid[];
  due_ats timestamptz[];
  kinds deadline_kind[];
  statuses deadline_status[];
  met_ats timestamptz[];
BEGIN
  FOR tenant, complaint_ids, due_ats, kinds, statuses, met_ats IN
    SELECT n.tenant_id, array_agg(n.complaint_id), array_agg(n.due_at), array_agg(n.kind), array_agg(n.status),
      array_agg(n.met_at)
    FROM new_deadlines n GROUP BY n.tenant_id ORDER BY n.tenant_id
  LOOP
    PERFORM 1 FROM complaints c
      WHERE c.tenant_id = tenant AND c.id = ANY (complaint_ids)
      ORDER BY c.id FOR NO KEY UPDATE;
    INSERT INTO report_deadline_changes (tenant_id, due_at, kind, channel, category, severity, assignee,
        counted, met_on_time, met_late, breached, pending)
      SELECT tenant, report_quarter_hour(n.due_at), n.kind, c.channel, c.category, c.severity,
        c.assignee, sum(k.counted), sum(k.met_on_time), sum(k.met_late), sum(k.breached), sum(k.pending)
      FROM unnest(complaint_ids, due_ats, kinds, statuses, met_ats) AS n(complaint_id, due_at, kind, status, met_at)
        CROSS JOIN LATERAL (SELECT c.channel, c.category, c.severity, c.assignee FROM complaints c
          WHERE c.tenant_id = tenant AND c.id = n.complaint_id) AS c
        CROSS JOIN LATERAL deadline_report_counts(n.status, n.due_at, n.met_at) AS k
      -- A batch's deadlines due in one quarter hour, of one kind and grouping are one change.
      GROUP BY 1, 2, 3, 4, 5, 6, 7;
  END LOOP;
  RETURN NULL;
END
$$;

-- One complaint or deadline changed in what the inventory counts it by: its complaint, noted.
-- TG_ARGV[0] names the trigger's table. TG_TABLE_NAME would not: on Citus the trigger runs on a
-- shard, named after its table with a number after it.
CREATE OR REPLACE FUNCTION touch_report_inventory() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_ARGV[0] = 'complaints' THEN
    INSERT INTO report_inventory_touches (tenant_id, complaint_id) VALUES (NEW.tenant_id, NEW.id);
  ELSE
    INSERT INTO report_inventory_touches (tenant_id, complaint_id) VALUES (NEW.tenant_id, NEW.complaint_id);
  END IF;
  RETURN NULL;
END
$$;

DROP TRIGGER complaints_report_inventory_changed ON complaints;
DROP TRIGGER deadlines_report_inventory_changed ON deadlines;

CREATE TRIGGER complaints_report_inventory_changed AFTER UPDATE ON complaints FOR EACH ROW
  WHEN ((OLD.status, OLD.assignee, OLD.severity, OLD.received_at)
    IS DISTINCT FROM (NEW.status, NEW.assignee, NEW.severity, NEW.received_at))
  EXECUTE FUNCTION touch_report_inventory('complaints');
CREATE TRIGGER deadlines_report_inventory_changed AFTER UPDATE ON deadlines FOR EACH ROW
  WHEN ((OLD.status, OLD.due_at, OLD.met_at, OLD.cancelled_at, OLD.paused_at)
    IS DISTINCT FROM (NEW.status, NEW.due_at, NEW.met_at, NEW.cancelled_at, NEW.paused_at))
  EXECUTE FUNCTION touch_report_inventory('deadlines');
ALTER TABLE complaints ENABLE ALWAYS TRIGGER complaints_report_inventory_changed;
ALTER TABLE deadlines ENABLE ALWAYS TRIGGER deadlines_report_inventory_changed;
