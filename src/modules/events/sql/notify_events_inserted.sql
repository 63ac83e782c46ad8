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

CREATE TRIGGER events_inserted_notify
AFTER INSERT ON events
REFERENCING NEW TABLE AS inserted_events
FOR EACH STATEMENT EXECUTE FUNCTION notify_events_inserted();
