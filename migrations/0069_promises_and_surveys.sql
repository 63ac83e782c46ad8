ALTER TYPE "public"."deadline_kind" ADD VALUE 'promise';--> statement-breakpoint
CREATE TABLE "promises" (
	"id" uuid NOT NULL,
	"tenant_id" uuid NOT NULL,
	"complaint_id" uuid NOT NULL,
	"description" text NOT NULL,
	"made_by" text,
	"made_at" timestamp (3) with time zone NOT NULL,
	"deadline_id" uuid NOT NULL,
	"kept_note" text,
	"kept_by" jsonb,
	"withdrawal_reason" text,
	"withdrawn_by" jsonb,
	"actor" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "promises_pkey" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "satisfaction_surveys" (
	"id" uuid NOT NULL,
	"tenant_id" uuid NOT NULL,
	"complaint_id" uuid NOT NULL,
	"channel" "complaint_channel" NOT NULL,
	"sent_at" timestamp (3) with time zone NOT NULL,
	"sent_by" jsonb NOT NULL,
	"score" smallint,
	"comment" text,
	"answered_at" timestamp (3) with time zone,
	"answered_by" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "satisfaction_surveys_pkey" PRIMARY KEY("tenant_id","id"),
	CONSTRAINT "satisfaction_surveys_answer_check" CHECK (("satisfaction_surveys"."answered_at" is null) = ("satisfaction_surveys"."score" is null) and ("satisfaction_surveys"."score" is null or "satisfaction_surveys"."score" between 1 and 5))
);
--> statement-breakpoint
ALTER TABLE "promises" ADD CONSTRAINT "promises_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promises" ADD CONSTRAINT "promises_complaint_fk" FOREIGN KEY ("tenant_id","complaint_id") REFERENCES "public"."complaints"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "satisfaction_surveys" ADD CONSTRAINT "satisfaction_surveys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "satisfaction_surveys" ADD CONSTRAINT "satisfaction_surveys_complaint_fk" FOREIGN KEY ("tenant_id","complaint_id") REFERENCES "public"."complaints"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "promises_complaint_idx" ON "promises" USING btree ("tenant_id","complaint_id","made_at","id");--> statement-breakpoint
CREATE INDEX "satisfaction_surveys_complaint_idx" ON "satisfaction_surveys" USING btree ("tenant_id","complaint_id","sent_at","id");--> statement-breakpoint
CREATE INDEX "satisfaction_surveys_answered_idx" ON "satisfaction_surveys" USING btree ("tenant_id","answered_at") WHERE "satisfaction_surveys"."answered_at" is not null;