CREATE TABLE "event_outbox" (
	"position" bigint PRIMARY KEY NOT NULL
);
--> statement-breakpoint
-- Events not yet relayed keep their place in the relay's work list.
INSERT INTO "event_outbox" ("position") SELECT "position" FROM "events" WHERE "relayed_at" IS NULL;--> statement-breakpoint
DROP INDEX "events_unrelayed_idx";--> statement-breakpoint
ALTER TABLE "events" DROP COLUMN "relayed_at";
