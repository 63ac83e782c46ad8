CREATE TABLE "complaint_incidents" (
	"tenant_id" uuid NOT NULL,
	"incident_key" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "complaint_incidents_pkey" PRIMARY KEY("tenant_id","incident_key")
);
--> statement-breakpoint
ALTER TABLE "complaint_incidents" ADD CONSTRAINT "complaint_incidents_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;