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
ALTER TABLE "promises" ADD CONSTRAINT "promises_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promises" ADD CONSTRAINT "promises_complaint_fk" FOREIGN KEY ("tenant_id","complaint_id") REFERENCES "public"."complaints"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "promises_complaint_idx" ON "promises" USING btree ("tenant_id","complaint_id","made_at","id");