CREATE TYPE "public"."acceptance_rejection_code" AS ENUM('outside_acceptance_window', 'not_a_stakeholder');--> statement-breakpoint
CREATE TYPE "public"."complainant_relation" AS ENUM('self', 'immediate_family', 'representative', 'other');--> statement-breakpoint
CREATE TYPE "public"."complaint_need_type" AS ENUM('immediate', 'long_term', 'emotional');--> statement-breakpoint
CREATE TYPE "public"."complaint_responsibility" AS ENUM('own', 'upstream', 'external');--> statement-breakpoint
CREATE TYPE "public"."liability_finding" AS ENUM('liable', 'not_liable');--> statement-breakpoint
CREATE TYPE "public"."major_reason" AS ENUM('manual', 'safety_category', 'collective', 'repeat', 'media_exposure', 'regulator_involved');--> statement-breakpoint
CREATE TYPE "public"."non_liability_reason" AS ENUM('third_party', 'force_majeure', 'emergency_avoidance', 'self_defence', 'customer_intent');--> statement-breakpoint
CREATE TABLE "complaint_conflicts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"complaint_id" uuid NOT NULL,
	"staff" text NOT NULL,
	"reason" text NOT NULL,
	"declared_by" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "complaints" ADD COLUMN "complainant_relation" "complainant_relation" DEFAULT 'self' NOT NULL;--> statement-breakpoint
ALTER TABLE "complaints" ADD COLUMN "complainant_authorised" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "complaints" ADD COLUMN "rejection_code" "acceptance_rejection_code";--> statement-breakpoint
ALTER TABLE "complaints" ADD COLUMN "rejection_detail" text;--> statement-breakpoint
ALTER TABLE "complaints" ADD COLUMN "acceptance_override" jsonb;--> statement-breakpoint
ALTER TABLE "complaints" ADD COLUMN "responsibility" "complaint_responsibility";--> statement-breakpoint
ALTER TABLE "complaints" ADD COLUMN "upstream_party" text;--> statement-breakpoint
ALTER TABLE "complaints" ADD COLUMN "need_type" "complaint_need_type";--> statement-breakpoint
ALTER TABLE "complaints" ADD COLUMN "liability_finding" "liability_finding";--> statement-breakpoint
ALTER TABLE "complaints" ADD COLUMN "liability_reason" "non_liability_reason";--> statement-breakpoint
ALTER TABLE "complaints" ADD COLUMN "liability_note" text;--> statement-breakpoint
ALTER TABLE "complaints" ADD COLUMN "major_reasons" "major_reason"[] DEFAULT '{}'::major_reason[] NOT NULL;--> statement-breakpoint
ALTER TABLE "complaints" ADD COLUMN "major_since" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "complaints" ADD COLUMN "media_exposure" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "complaints" ADD COLUMN "regulator_involved" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "complaints" ADD COLUMN "incident_key" text;--> statement-breakpoint
ALTER TABLE "complaints" ADD COLUMN "customer_key" text;--> statement-breakpoint
ALTER TABLE "complaints" ADD COLUMN "subject_staff" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "complaint_conflicts" ADD CONSTRAINT "complaint_conflicts_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "complaint_conflicts" ADD CONSTRAINT "complaint_conflicts_complaint_id_complaints_id_fk" FOREIGN KEY ("complaint_id") REFERENCES "public"."complaints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "complaint_conflicts_staff_key" ON "complaint_conflicts" USING btree ("complaint_id",lower("staff"));--> statement-breakpoint
CREATE INDEX "complaint_conflicts_complaint_idx" ON "complaint_conflicts" USING btree ("tenant_id","complaint_id","created_at");--> statement-breakpoint
CREATE INDEX "complaints_tenant_customer_category_idx" ON "complaints" USING btree ("tenant_id","customer_key","category","received_at") WHERE "complaints"."customer_key" is not null;--> statement-breakpoint
CREATE INDEX "complaints_tenant_incident_idx" ON "complaints" USING btree ("tenant_id","incident_key") WHERE "complaints"."incident_key" is not null;--> statement-breakpoint
CREATE INDEX "complaints_tenant_major_idx" ON "complaints" USING btree ("tenant_id","major_since" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "complaints"."major_since" is not null;--> statement-breakpoint
ALTER TABLE "complaints" ADD CONSTRAINT "complaints_upstream_party_iff_upstream" CHECK (("complaints"."responsibility" is not distinct from 'upstream') = ("complaints"."upstream_party" is not null));--> statement-breakpoint
ALTER TABLE "complaints" ADD CONSTRAINT "complaints_liability_reason_iff_not_liable" CHECK (("complaints"."liability_finding" is not distinct from 'not_liable') = ("complaints"."liability_reason" is not null));--> statement-breakpoint
ALTER TABLE "complaints" ADD CONSTRAINT "complaints_rejection_whole" CHECK (("complaints"."rejection_code" is null) = ("complaints"."rejection_detail" is null));