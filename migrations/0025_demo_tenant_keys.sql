CREATE TABLE "demo_tenant_keys" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"api_key_id" uuid NOT NULL,
	"api_key" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "demo_tenant_keys" ADD CONSTRAINT "demo_tenant_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "demo_tenant_keys" ADD CONSTRAINT "demo_tenant_keys_api_key_id_api_keys_id_fk" FOREIGN KEY ("api_key_id") REFERENCES "public"."api_keys"("id") ON DELETE cascade ON UPDATE no action;