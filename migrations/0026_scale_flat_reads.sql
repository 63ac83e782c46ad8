-- Reads that grew with a tenant's history, made to cost the same at any size (a trial at 10k, 100k
-- and 1M complaints in one tenant, plus 1M over 1,000 tenants):
-- - The pull feed narrowed by type reads each type's range of events_tenant_type_feed_idx (see
--   feedPage in src/modules/events/events.repository.ts), not the whole feed filtered on type.
-- - The complaint list walks the index of its most selective filter: channel, category and major
--   complaints get one each, in listing order (see complaints_tenant_channel_idx in
--   src/db/schema/complaints.ts).
-- - /metrics counts pending and paused deadlines from deadlines_open_status_idx, the live backlog,
--   and breached ones from counts kept by a trigger (deadline_breach_counts in src/db/schema/sla.ts),
--   instead of scanning every tenant's deadlines.
CREATE TABLE "deadline_breach_changes" (
	"tenant_id" uuid NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "deadline_breach_changes_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"change" integer NOT NULL,
	CONSTRAINT "deadline_breach_changes_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "deadline_breach_counts" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"breached" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "complaints_tenant_channel_idx" ON "complaints" USING btree ("tenant_id","channel","received_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "complaints_tenant_category_idx" ON "complaints" USING btree ("tenant_id","category","received_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "complaints_tenant_major_received_idx" ON "complaints" USING btree ("tenant_id","received_at" DESC NULLS FIRST,"id" DESC NULLS FIRST) WHERE "complaints"."severity" = 'major';--> statement-breakpoint
CREATE INDEX "events_tenant_type_feed_idx" ON "events" USING btree ("tenant_id","type","txid","position") WHERE "events"."subscription_id" is null;--> statement-breakpoint
CREATE INDEX "deadlines_open_status_idx" ON "deadlines" USING btree ("tenant_id","status") WHERE "deadlines"."status" in ('pending', 'paused');
--> statement-breakpoint
-- The trigger function's current text lives in src/modules/deadlines/sql/count_deadline_breaches.sql.
-- Keeps the breach counts of the redress_deadlines gauge (see deadline_breach_counts in
-- src/db/schema/sla.ts): +1 for a deadline that becomes breached, -1 for one that stops being
-- breached (met late) or is deleted with its complaint or tenant. The triggers call it only for
-- such changes, so a warning, a pause or a deadline met in time costs nothing here.
CREATE OR REPLACE FUNCTION count_deadline_breaches() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'breached' THEN
    INSERT INTO deadline_breach_changes (tenant_id, change) VALUES (OLD.tenant_id, -1);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'breached' THEN
    INSERT INTO deadline_breach_changes (tenant_id, change) VALUES (NEW.tenant_id, 1);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- ENABLE ALWAYS: the count follows every write, including those of a session that copies rows in
-- bulk with session_replication_role = replica, which skips ordinary triggers.
CREATE TRIGGER deadlines_count_breaches_inserted AFTER INSERT ON deadlines FOR EACH ROW
  WHEN (NEW.status = 'breached') EXECUTE FUNCTION count_deadline_breaches();--> statement-breakpoint
CREATE TRIGGER deadlines_count_breaches_changed AFTER UPDATE OF status ON deadlines FOR EACH ROW
  WHEN ((OLD.status = 'breached') <> (NEW.status = 'breached')) EXECUTE FUNCTION count_deadline_breaches();--> statement-breakpoint
CREATE TRIGGER deadlines_count_breaches_deleted AFTER DELETE ON deadlines FOR EACH ROW
  WHEN (OLD.status = 'breached') EXECUTE FUNCTION count_deadline_breaches();--> statement-breakpoint
ALTER TABLE deadlines ENABLE ALWAYS TRIGGER deadlines_count_breaches_inserted;--> statement-breakpoint
ALTER TABLE deadlines ENABLE ALWAYS TRIGGER deadlines_count_breaches_changed;--> statement-breakpoint
ALTER TABLE deadlines ENABLE ALWAYS TRIGGER deadlines_count_breaches_deleted;--> statement-breakpoint
-- The breaches so far, counted once. Creating the triggers locked deadlines against writes until
-- this migration commits, so no breach falls between this count and the triggers.
INSERT INTO deadline_breach_counts (tenant_id, breached)
  SELECT tenant_id, count(*) FROM deadlines WHERE status = 'breached' GROUP BY tenant_id;--> statement-breakpoint
-- Statistics kept fresh as these tables grow: the planner picks the list's and the feed's indexes
-- from them. At the default (a tenth of the table changed), a table of 1M rows goes 100,000 rows
-- between analyses; at 2% it is 20,000. Deadlines are also vacuumed sooner, so that counting the
-- backlog for /metrics reads the index alone (an index-only scan needs the visibility map). Not a
-- substitute for autovacuum, which must be on for any of this to run (see src/db/server-settings.ts);
-- the migrate step also analyses what has gone stale (src/db/statistics.ts).
ALTER TABLE complaints SET (autovacuum_analyze_scale_factor = 0.02);--> statement-breakpoint
ALTER TABLE events SET (autovacuum_analyze_scale_factor = 0.02);--> statement-breakpoint
ALTER TABLE deadlines SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_scale_factor = 0.05,
  autovacuum_vacuum_insert_scale_factor = 0.05);
