-- The outbox relay LISTENs on redress_events. A statement-level trigger notifies for every
-- statement that inserts events, so no code path can forget to; PostgreSQL sends the notice only
-- on commit and folds repeats within one transaction into one.
CREATE OR REPLACE FUNCTION notify_events_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('redress_events', '');
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER events_inserted_notify
AFTER INSERT ON events
FOR EACH STATEMENT EXECUTE FUNCTION notify_events_inserted();
--> statement-breakpoint
-- Events written before the relay existed had nobody to go to; they stay in the feed but are
-- not delivered again to subscriptions made from now on.
UPDATE events SET relayed_at = occurred_at WHERE relayed_at IS NULL;
