-- When each waiting event was queued, so /metrics can show the relay's lag (outboxBacklog). A default
-- of now() is stored once in the catalogue: adding the column rewrites nothing.
ALTER TABLE "event_outbox" ADD COLUMN "queued_at" timestamp (3) with time zone DEFAULT now() NOT NULL;