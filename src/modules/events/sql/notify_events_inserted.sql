-- Every inserted event joins the outbox relay's work list in the statement that inserts it, so no
-- code path can forget it. The relay is woken as the transaction commits (notify_relay_at_commit).
CREATE OR REPLACE FUNCTION notify_events_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_outbox (tenant_id, position) SELECT tenant_id, position FROM inserted_events;
  RETURN NULL;
END
$$;

CREATE TRIGGER events_inserted_notify
AFTER INSERT ON events
REFERENCING NEW TABLE AS inserted_events
FOR EACH STATEMENT EXECUTE FUNCTION notify_events_inserted();
