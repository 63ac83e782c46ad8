-- What a complaint holds besides its deadlines and timeline is keyed by tenant first, as 0036 and
-- 0037 keyed the webhook and configuration tables: communications, conflicts, escalations,
-- follow-ups, resolutions with their options and pre-refunds get primary keys (tenant_id, id), and
-- their unique keys lead with the tenant. The open stretches and the report days, which had no
-- primary key, are numbered for one: a group's value may be null, so its own columns cannot be
-- the key. Their foreign keys to complaints name the tenant once complaints are keyed so.
ALTER TABLE "resolution_options" DROP CONSTRAINT "resolution_options_resolution_id_resolutions_id_fk";
--> statement-breakpoint
ALTER TABLE "communications" DROP CONSTRAINT "communications_pkey";
--> statement-breakpoint
ALTER TABLE "complaint_conflicts" DROP CONSTRAINT "complaint_conflicts_pkey";
--> statement-breakpoint
ALTER TABLE "escalations" DROP CONSTRAINT "escalations_pkey";
--> statement-breakpoint
ALTER TABLE "follow_ups" DROP CONSTRAINT "follow_ups_pkey";
--> statement-breakpoint
ALTER TABLE "pre_refunds" DROP CONSTRAINT "pre_refunds_pkey";
--> statement-breakpoint
ALTER TABLE "resolution_options" DROP CONSTRAINT "resolution_options_pkey";
--> statement-breakpoint
ALTER TABLE "resolutions" DROP CONSTRAINT "resolutions_pkey";
--> statement-breakpoint
DROP INDEX "complaint_open_spans_complaint_idx";
--> statement-breakpoint
DROP INDEX "complaint_conflicts_staff_key";
--> statement-breakpoint
DROP INDEX "escalations_deadline_key";
--> statement-breakpoint
DROP INDEX "follow_ups_one_pending_key";
--> statement-breakpoint
DROP INDEX "resolution_options_resolution_idx";
--> statement-breakpoint
ALTER TABLE "communications" ADD CONSTRAINT "communications_pkey" PRIMARY KEY("tenant_id","id");
--> statement-breakpoint
ALTER TABLE "complaint_conflicts" ADD CONSTRAINT "complaint_conflicts_pkey" PRIMARY KEY("tenant_id","id");
--> statement-breakpoint
ALTER TABLE "escalations" ADD CONSTRAINT "escalations_pkey" PRIMARY KEY("tenant_id","id");
--> statement-breakpoint
ALTER TABLE "follow_ups" ADD CONSTRAINT "follow_ups_pkey" PRIMARY KEY("tenant_id","id");
--> statement-breakpoint
ALTER TABLE "pre_refunds" ADD CONSTRAINT "pre_refunds_pkey" PRIMARY KEY("tenant_id","id");
--> statement-breakpoint
ALTER TABLE "resolutions" ADD CONSTRAINT "resolutions_pkey" PRIMARY KEY("tenant_id","id");
--> statement-breakpoint
ALTER TABLE "resolution_options" ADD CONSTRAINT "resolution_options_pkey" PRIMARY KEY("tenant_id","id");
--> statement-breakpoint
ALTER TABLE "resolution_options" ADD CONSTRAINT "resolution_options_resolution_fk" FOREIGN KEY ("tenant_id","resolution_id") REFERENCES "public"."resolutions"("tenant_id","id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "complaint_open_spans" ADD COLUMN "id" bigint NOT NULL GENERATED ALWAYS AS IDENTITY (sequence name "complaint_open_spans_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1);
--> statement-breakpoint
ALTER TABLE "complaint_open_spans" ADD CONSTRAINT "complaint_open_spans_pkey" PRIMARY KEY("tenant_id","complaint_id","id");
--> statement-breakpoint
ALTER TABLE "report_deadline_days" ADD COLUMN "id" bigint NOT NULL GENERATED ALWAYS AS IDENTITY (sequence name "report_deadline_days_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1);
--> statement-breakpoint
ALTER TABLE "report_deadline_days" ADD CONSTRAINT "report_deadline_days_pkey" PRIMARY KEY("tenant_id","id");
--> statement-breakpoint
ALTER TABLE "report_follow_up_days" ADD COLUMN "id" bigint NOT NULL GENERATED ALWAYS AS IDENTITY (sequence name "report_follow_up_days_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1);
--> statement-breakpoint
ALTER TABLE "report_follow_up_days" ADD CONSTRAINT "report_follow_up_days_pkey" PRIMARY KEY("tenant_id","id");
--> statement-breakpoint
CREATE UNIQUE INDEX "complaint_conflicts_staff_key" ON "complaint_conflicts" USING btree ("tenant_id","complaint_id",lower("staff"));
--> statement-breakpoint
CREATE UNIQUE INDEX "escalations_deadline_key" ON "escalations" USING btree ("tenant_id","deadline_id") WHERE "escalations"."deadline_id" is not null;
--> statement-breakpoint
CREATE UNIQUE INDEX "follow_ups_one_pending_key" ON "follow_ups" USING btree ("tenant_id","complaint_id") WHERE "follow_ups"."status" = 'pending';
--> statement-breakpoint
CREATE INDEX "resolution_options_resolution_idx" ON "resolution_options" USING btree ("tenant_id","resolution_id","position");
