CREATE TYPE "public"."communication_direction" AS ENUM('inbound', 'outbound');--> statement-breakpoint
CREATE TYPE "public"."complaint_channel" AS ENUM('phone', 'email', 'web', 'app', 'chat', 'social_media', 'online_forum', 'walk_in', 'letter', 'fax', 'partner_api');--> statement-breakpoint
CREATE TYPE "public"."complaint_priority" AS ENUM('low', 'normal', 'high', 'urgent');--> statement-breakpoint
CREATE TYPE "public"."complaint_severity" AS ENUM('general', 'major');--> statement-breakpoint
CREATE TYPE "public"."complaint_status" AS ENUM('received', 'acknowledged', 'investigating', 'awaiting_customer', 'resolved', 'closed', 'rejected', 'withdrawn');--> statement-breakpoint
CREATE TYPE "public"."idempotency_state" AS ENUM('in_progress', 'completed');--> statement-breakpoint
CREATE TABLE "communications" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"complaint_id" uuid NOT NULL,
	"direction" "communication_direction" NOT NULL,
	"channel" "complaint_channel" NOT NULL,
	"body" text NOT NULL,
	"contact_made" boolean NOT NULL,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	"recorded_by" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "complaint_timeline" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "complaint_timeline_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"tenant_id" uuid NOT NULL,
	"complaint_id" uuid NOT NULL,
	"type" text NOT NULL,
	"actor" jsonb NOT NULL,
	"changes" jsonb,
	"data" jsonb,
	"occurred_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "complaints" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"reference" text NOT NULL,
	"status" "complaint_status" DEFAULT 'received' NOT NULL,
	"channel" "complaint_channel" NOT NULL,
	"severity" "complaint_severity" DEFAULT 'general' NOT NULL,
	"priority" "complaint_priority" DEFAULT 'normal' NOT NULL,
	"category" text,
	"subject" text NOT NULL,
	"description" text NOT NULL,
	"customer_name" text,
	"customer_phone" text,
	"customer_email" text,
	"customer_address" text,
	"customer_external_id" text,
	"desired_outcome" text,
	"occurred_at" timestamp (3) with time zone,
	"received_at" timestamp (3) with time zone NOT NULL,
	"received_by" text NOT NULL,
	"assignee" text,
	"escalation_level" smallint DEFAULT 0 NOT NULL,
	"external_ref" text,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "complaints_escalation_level_range" CHECK ("complaints"."escalation_level" between 0 and 3),
	CONSTRAINT "complaints_version_positive" CHECK ("complaints"."version" >= 1)
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"tenant_id" uuid NOT NULL,
	"key" text NOT NULL,
	"request_fingerprint" text NOT NULL,
	"state" "idempotency_state" DEFAULT 'in_progress' NOT NULL,
	"locked_until" timestamp (3) with time zone NOT NULL,
	"resource_id" uuid,
	"response_status" integer,
	"response_headers" jsonb,
	"response_body" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "idempotency_keys_tenant_id_key_pk" PRIMARY KEY("tenant_id","key")
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"secret_hash" text NOT NULL,
	"scopes" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp (3) with time zone,
	"expires_at" timestamp (3) with time zone,
	"revoked_at" timestamp (3) with time zone,
	CONSTRAINT "api_keys_prefix_unique" UNIQUE("prefix"),
	CONSTRAINT "api_keys_secret_hash_unique" UNIQUE("secret_hash")
);
--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "communications" ADD CONSTRAINT "communications_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "communications" ADD CONSTRAINT "communications_complaint_id_complaints_id_fk" FOREIGN KEY ("complaint_id") REFERENCES "public"."complaints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "complaint_timeline" ADD CONSTRAINT "complaint_timeline_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "complaint_timeline" ADD CONSTRAINT "complaint_timeline_complaint_id_complaints_id_fk" FOREIGN KEY ("complaint_id") REFERENCES "public"."complaints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "complaints" ADD CONSTRAINT "complaints_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "communications_complaint_idx" ON "communications" USING btree ("tenant_id","complaint_id","occurred_at");--> statement-breakpoint
CREATE INDEX "complaint_timeline_complaint_idx" ON "complaint_timeline" USING btree ("tenant_id","complaint_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "complaints_tenant_reference_key" ON "complaints" USING btree ("tenant_id","reference");--> statement-breakpoint
CREATE UNIQUE INDEX "complaints_tenant_external_ref_key" ON "complaints" USING btree ("tenant_id","external_ref") WHERE "complaints"."external_ref" is not null;--> statement-breakpoint
CREATE INDEX "complaints_tenant_received_idx" ON "complaints" USING btree ("tenant_id","received_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "complaints_tenant_status_idx" ON "complaints" USING btree ("tenant_id","status","received_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "complaints_tenant_assignee_idx" ON "complaints" USING btree ("tenant_id","assignee","received_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "complaints_search_trgm_idx" ON "complaints" USING gin ("subject" gin_trgm_ops,"description" gin_trgm_ops,"customer_name" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "idempotency_keys_expires_idx" ON "idempotency_keys" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "api_keys_tenant_idx" ON "api_keys" USING btree ("tenant_id","created_at");