-- Wakes the outbox relay as a transaction that inserted events commits, unless the relay is awake
-- (outbox_relay_state): NOTIFY serialises committing transactions on a global lock, so writers
-- skip it while the relay polls anyway. It decides at commit, not at insert, so that a
-- transaction committing after the relay went back to sleep still wakes it. TG_ARGV[0]: the
-- channel the relay listens on (EVENTS_CHANNEL in src/modules/events/event-relay.ts).
CREATE OR REPLACE FUNCTION notify_relay_at_commit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- Constraint triggers fire per row; the first of a transaction decides for all of them.
  IF current_setting('redress.relay_checked', true) IS DISTINCT FROM 'yes' THEN
    PERFORM set_config('redress.relay_checked', 'yes', true);
    IF NOT EXISTS (SELECT 1 FROM outbox_relay_state WHERE awake_until > clock_timestamp()) THEN
      PERFORM pg_notify(TG_ARGV[0], '');
    END IF;
  END IF;
  RETURN NULL;
END
$$;

-- Deferred, so that it runs as the transaction commits. Its argument is EVENTS_CHANNEL, which
-- src/db/trigger-arguments.test.ts holds it to.
CREATE CONSTRAINT TRIGGER events_committed_notify
AFTER INSERT ON events
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION notify_relay_at_commit('redress_events');
