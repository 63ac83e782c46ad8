-- Writers skip NOTIFY while the outbox relay is awake (migration 0016), but they decided when the
-- event was inserted. A transaction that inserted while the relay was awake and committed after
-- it had gone back to sleep woke nobody, and its events waited for the relay's fallback poll.
-- The decision now happens at commit, in a deferred constraint trigger, once per transaction.
CREATE OR REPLACE FUNCTION notify_events_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_outbox (position) SELECT position FROM inserted_events;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION notify_relay_at_commit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- Constraint triggers fire per row; the first of a transaction decides for all of them.
  IF current_setting('redress.relay_checked', true) IS DISTINCT FROM 'yes' THEN
    PERFORM set_config('redress.relay_checked', 'yes', true);
    IF NOT EXISTS (SELECT 1 FROM outbox_relay_state WHERE awake_until > clock_timestamp()) THEN
      PERFORM pg_notify('redress_events', '');
    END IF;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER events_committed_notify
AFTER INSERT ON events
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION notify_relay_at_commit();
