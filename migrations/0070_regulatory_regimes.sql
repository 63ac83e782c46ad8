ALTER TABLE "deadlines" ADD COLUMN "extensions" smallint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sla_policies" ADD COLUMN "regime" text;