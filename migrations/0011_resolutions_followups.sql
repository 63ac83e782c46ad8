CREATE TYPE "public"."follow_up_outcome" AS ENUM('satisfied', 'unsatisfied', 'unreachable', 'declined');--> statement-breakpoint
CREATE TYPE "public"."follow_up_status" AS ENUM('pending', 'completed', 'cancelled');--> statement-breakpoint
CREATE TYPE "public"."pre_refund_status" AS ENUM('awaiting_verification', 'confirmed', 'disputed');--> statement-breakpoint
CREATE TYPE "public"."resolution_approval" AS ENUM('not_required', 'pending', 'approved', 'rejected');--> statement-breakpoint
CREATE TYPE "public"."resolution_option_kind" AS ENUM('refund', 'exchange', 'repair', 'compensation', 'apology', 'explanation', 'other');--> statement-breakpoint
CREATE TYPE "public"."resolution_status" AS ENUM('awaiting_approval', 'proposed', 'chosen', 'executed', 'rejected', 'declined');--> statement-breakpoint
ALTER TYPE "public"."escalation_trigger" ADD VALUE 'unsatisfied';--> statement-breakpoint
ALTER TYPE "public"."deadline_kind" ADD VALUE 'pre_refund_verification';--> statement-breakpoint
CREATE TABLE "customer_preferences" (
	"tenant_id" uuid NOT NULL,
	"customer_key" text NOT NULL,
	"follow_ups_declined_at" timestamp (3) with time zone,
	"source_complaint_id" uuid,
	"actor" jsonb NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customer_preferences_tenant_id_customer_key_pk" PRIMARY KEY("tenant_id","customer_key")
);
--> statement-breakpoint
CREATE TABLE "follow_ups" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"complaint_id" uuid NOT NULL,
	"resolution_id" uuid,
	"deadline_id" uuid NOT NULL,
	"attempt" smallint NOT NULL,
	"status" "follow_up_status" DEFAULT 'pending' NOT NULL,
	"due_at" timestamp (3) with time zone NOT NULL,
	"outcome" "follow_up_outcome",
	"score" smallint,
	"comment" text,
	"contacted_by" text,
	"completed_at" timestamp (3) with time zone,
	"recorded_by" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "follow_ups_score_range" CHECK ("follow_ups"."score" is null or "follow_ups"."score" between 1 and 5)
);
--> statement-breakpoint
CREATE TABLE "reply_templates" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"key" text NOT NULL,
	"locale" text NOT NULL,
	"name" text NOT NULL,
	"subject" text,
	"body" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pre_refunds" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"complaint_id" uuid NOT NULL,
	"amount" numeric(19, 4) NOT NULL,
	"currency" text NOT NULL,
	"refunded_by" jsonb NOT NULL,
	"payment_reference" text,
	"note" text,
	"refunded_at" timestamp (3) with time zone NOT NULL,
	"status" "pre_refund_status" DEFAULT 'awaiting_verification' NOT NULL,
	"deadline_id" uuid NOT NULL,
	"verified_at" timestamp (3) with time zone,
	"verified_by" jsonb,
	"verification_note" text,
	"actor" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "resolution_options" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"resolution_id" uuid NOT NULL,
	"position" smallint NOT NULL,
	"kind" "resolution_option_kind" NOT NULL,
	"description" text NOT NULL,
	"amount" numeric(19, 4),
	"currency" text,
	"approval" "resolution_approval" NOT NULL,
	"decided_by" jsonb,
	"decided_at" timestamp (3) with time zone,
	"decision_note" text,
	CONSTRAINT "resolution_options_money_whole" CHECK (("resolution_options"."amount" is null) = ("resolution_options"."currency" is null) and ("resolution_options"."amount" is null or "resolution_options"."amount" >= 0))
);
--> statement-breakpoint
CREATE TABLE "resolutions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"complaint_id" uuid NOT NULL,
	"status" "resolution_status" NOT NULL,
	"proposed_by" jsonb NOT NULL,
	"note" text,
	"chosen_option_id" uuid,
	"choice_note" text,
	"choice_recorded_at" timestamp (3) with time zone,
	"executed_at" timestamp (3) with time zone,
	"executed_by" text,
	"notice_communication_id" uuid,
	"notice" jsonb,
	"actor" jsonb NOT NULL,
	"version" smallint DEFAULT 1 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "communications" ADD COLUMN "template_id" uuid;--> statement-breakpoint
ALTER TABLE "communications" ADD COLUMN "template_version" integer;--> statement-breakpoint
ALTER TABLE "customer_preferences" ADD CONSTRAINT "customer_preferences_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "follow_ups" ADD CONSTRAINT "follow_ups_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "follow_ups" ADD CONSTRAINT "follow_ups_complaint_id_complaints_id_fk" FOREIGN KEY ("complaint_id") REFERENCES "public"."complaints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reply_templates" ADD CONSTRAINT "reply_templates_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pre_refunds" ADD CONSTRAINT "pre_refunds_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pre_refunds" ADD CONSTRAINT "pre_refunds_complaint_id_complaints_id_fk" FOREIGN KEY ("complaint_id") REFERENCES "public"."complaints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "resolution_options" ADD CONSTRAINT "resolution_options_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "resolution_options" ADD CONSTRAINT "resolution_options_resolution_id_resolutions_id_fk" FOREIGN KEY ("resolution_id") REFERENCES "public"."resolutions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "resolutions" ADD CONSTRAINT "resolutions_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "resolutions" ADD CONSTRAINT "resolutions_complaint_id_complaints_id_fk" FOREIGN KEY ("complaint_id") REFERENCES "public"."complaints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "follow_ups_tenant_due_idx" ON "follow_ups" USING btree ("tenant_id","status","due_at","id");--> statement-breakpoint
CREATE INDEX "follow_ups_complaint_idx" ON "follow_ups" USING btree ("tenant_id","complaint_id","attempt");--> statement-breakpoint
CREATE INDEX "follow_ups_completed_idx" ON "follow_ups" USING btree ("tenant_id","completed_at") WHERE "follow_ups"."outcome" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "follow_ups_one_pending_key" ON "follow_ups" USING btree ("complaint_id") WHERE "follow_ups"."status" = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "reply_templates_key_locale_key" ON "reply_templates" USING btree ("tenant_id","key","locale");--> statement-breakpoint
CREATE INDEX "pre_refunds_complaint_idx" ON "pre_refunds" USING btree ("tenant_id","complaint_id","created_at");--> statement-breakpoint
CREATE INDEX "resolution_options_resolution_idx" ON "resolution_options" USING btree ("resolution_id","position");--> statement-breakpoint
CREATE INDEX "resolutions_complaint_idx" ON "resolutions" USING btree ("tenant_id","complaint_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "resolutions_one_open_key" ON "resolutions" USING btree ("tenant_id","complaint_id") WHERE "resolutions"."status" in ('awaiting_approval', 'proposed', 'chosen');