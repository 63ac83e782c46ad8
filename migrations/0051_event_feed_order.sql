-- The pull feed's order moves from (transaction id, position) behind the committed horizon, which
-- means nothing across the nodes of a Citus cluster, to a per-tenant feed position that the outbox
-- relay hands out as it claims events (event_feed, event_feed_heads; claimUnrelayed in
-- src/modules/events/events.repository.ts).
--
-- Every event already written is placed here, in today's (txid, position) order, whether relayed
-- or still on the relay's work list: the old feed showed both, so a reader that had read past an
-- event not yet relayed must not be handed it again, and an old cursor (txid, position) names an
-- event that has its place now (the relay leaves an event placed here where it is). Numbered in
-- the old order, the events at or before an old cursor are exactly those before its event's
-- place, so the feed decodes the cursor to that place (events.service.ts).
CREATE TABLE "event_feed" (
	"tenant_id" uuid NOT NULL,
	"feed_position" bigint NOT NULL,
	"event_position" bigint NOT NULL,
	"type" text NOT NULL,
	CONSTRAINT "event_feed_pkey" PRIMARY KEY("tenant_id","feed_position"),
	CONSTRAINT "event_feed_tenant_event_key" UNIQUE("tenant_id","event_position")
);
--> statement-breakpoint
CREATE TABLE "event_feed_heads" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"last_position" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
INSERT INTO "event_feed" ("tenant_id", "feed_position", "event_position", "type")
SELECT "tenant_id", row_number() OVER (PARTITION BY "tenant_id" ORDER BY "txid", "position"), "position", "type"
FROM "events" WHERE "subscription_id" IS NULL;--> statement-breakpoint
INSERT INTO "event_feed_heads" ("tenant_id", "last_position")
SELECT "tenant_id", max("feed_position") FROM "event_feed" GROUP BY "tenant_id";--> statement-breakpoint
DROP INDEX "events_tenant_feed_idx";--> statement-breakpoint
DROP INDEX "events_tenant_type_feed_idx";--> statement-breakpoint
ALTER TABLE "event_feed" ADD CONSTRAINT "event_feed_event_fk" FOREIGN KEY ("tenant_id","event_position") REFERENCES "public"."events"("tenant_id","position") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "event_feed_heads" ADD CONSTRAINT "event_feed_heads_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "event_feed_tenant_type_idx" ON "event_feed" USING btree ("tenant_id","type","feed_position");--> statement-breakpoint
ALTER TABLE "events" DROP COLUMN "txid";
