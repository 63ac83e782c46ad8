CREATE TYPE "public"."deadline_kind" AS ENUM('first_contact', 'online_reply', 'resolution', 'follow_up', 'major_report', 'progress_update');--> statement-breakpoint
CREATE TYPE "public"."deadline_status" AS ENUM('pending', 'met', 'breached', 'paused', 'cancelled');--> statement-breakpoint
CREATE TYPE "public"."sla_clock" AS ENUM('calendar', 'business');--> statement-breakpoint
CREATE TABLE "events" (
	"position" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "events_position_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"id" text NOT NULL,
	"tenant_id" uuid NOT NULL,
	"type" text NOT NULL,
	"complaint_id" uuid,
	"sequence" bigint,
	"data" jsonb NOT NULL,
	"occurred_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "events_id_unique" UNIQUE("id")
);
--> statement-breakpoint
CREATE TABLE "calendars" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"time_zone" text NOT NULL,
	"weekly_hours" jsonb NOT NULL,
	"holidays" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"extra_working_days" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deadlines" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"complaint_id" uuid NOT NULL,
	"kind" "deadline_kind" NOT NULL,
	"status" "deadline_status" DEFAULT 'pending' NOT NULL,
	"starts_at" timestamp (3) with time zone NOT NULL,
	"due_at" timestamp (3) with time zone NOT NULL,
	"warn_ats" timestamp (3) with time zone[] DEFAULT '{}'::timestamptz[] NOT NULL,
	"warn_fractions" real[] DEFAULT '{}'::real[] NOT NULL,
	"warnings_fired" smallint DEFAULT 0 NOT NULL,
	"clock" "sla_clock" NOT NULL,
	"target_duration" text,
	"duration_ms" bigint NOT NULL,
	"remaining_ms" bigint,
	"paused_at" timestamp (3) with time zone,
	"met_at" timestamp (3) with time zone,
	"breached_at" timestamp (3) with time zone,
	"cancelled_at" timestamp (3) with time zone,
	"policy_id" uuid NOT NULL,
	"policy_version" integer NOT NULL,
	"calendar_id" uuid,
	"source_id" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sla_policies" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"priority" integer NOT NULL,
	"match" jsonb NOT NULL,
	"calendar_id" uuid,
	"warn_at" real[] NOT NULL,
	"targets" jsonb NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sla_policy_versions" (
	"policy_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"tenant_id" uuid NOT NULL,
	"snapshot" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sla_policy_versions_policy_id_version_pk" PRIMARY KEY("policy_id","version")
);
--> statement-breakpoint
ALTER TABLE "complaints" ADD COLUMN "event_sequence" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "calendars" ADD CONSTRAINT "calendars_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deadlines" ADD CONSTRAINT "deadlines_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deadlines" ADD CONSTRAINT "deadlines_complaint_id_complaints_id_fk" FOREIGN KEY ("complaint_id") REFERENCES "public"."complaints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sla_policies" ADD CONSTRAINT "sla_policies_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sla_policies" ADD CONSTRAINT "sla_policies_calendar_id_calendars_id_fk" FOREIGN KEY ("calendar_id") REFERENCES "public"."calendars"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sla_policy_versions" ADD CONSTRAINT "sla_policy_versions_policy_id_sla_policies_id_fk" FOREIGN KEY ("policy_id") REFERENCES "public"."sla_policies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sla_policy_versions" ADD CONSTRAINT "sla_policy_versions_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "events_tenant_position_idx" ON "events" USING btree ("tenant_id","position");--> statement-breakpoint
CREATE INDEX "events_occurred_idx" ON "events" USING btree ("occurred_at");--> statement-breakpoint
CREATE INDEX "calendars_tenant_idx" ON "calendars" USING btree ("tenant_id","created_at");--> statement-breakpoint
CREATE INDEX "deadlines_complaint_idx" ON "deadlines" USING btree ("tenant_id","complaint_id","created_at");--> statement-breakpoint
CREATE INDEX "deadlines_open_due_idx" ON "deadlines" USING btree ("due_at") WHERE "deadlines"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "deadlines_tenant_status_due_idx" ON "deadlines" USING btree ("tenant_id","status","due_at");--> statement-breakpoint
CREATE INDEX "sla_policies_tenant_priority_idx" ON "sla_policies" USING btree ("tenant_id","priority");--> statement-breakpoint
CREATE UNIQUE INDEX "sla_policies_one_default_key" ON "sla_policies" USING btree ("tenant_id") WHERE "sla_policies"."is_default";