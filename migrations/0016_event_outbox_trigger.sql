-- Every inserted event joins the relay's work list in the statement that inserts it, so no code
-- path can forget it; the same statement-level trigger wakes the relay when it may be asleep.
CREATE OR REPLACE FUNCTION notify_events_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_outbox (position) SELECT position FROM inserted_events;
  IF NOT EXISTS (SELECT 1 FROM outbox_relay_state WHERE awake_until > clock_timestamp()) THEN
    PERFORM pg_notify('redress_events', '');
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
DROP TRIGGER events_inserted_notify ON events;
--> statement-breakpoint
CREATE TRIGGER events_inserted_notify
AFTER INSERT ON events
REFERENCING NEW TABLE AS inserted_events
FOR EACH STATEMENT EXECUTE FUNCTION notify_events_inserted();
