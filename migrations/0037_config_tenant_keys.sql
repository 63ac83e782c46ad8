-- A tenant's calendars, SLA policies with their versions, and reply templates are keyed by
-- tenant first, as the webhook tables were in 0036: primary keys (tenant_id, id), and foreign keys
-- that name the tenant (src/db/distribution.ts).
ALTER TABLE "sla_policies" DROP CONSTRAINT "sla_policies_calendar_id_calendars_id_fk";
--> statement-breakpoint
ALTER TABLE "sla_policy_versions" DROP CONSTRAINT "sla_policy_versions_policy_id_sla_policies_id_fk";
--> statement-breakpoint
ALTER TABLE "sla_policy_versions" DROP CONSTRAINT "sla_policy_versions_policy_id_version_pk";
--> statement-breakpoint
ALTER TABLE "sla_policies" DROP CONSTRAINT "sla_policies_pkey";
--> statement-breakpoint
ALTER TABLE "calendars" DROP CONSTRAINT "calendars_pkey";
--> statement-breakpoint
ALTER TABLE "reply_templates" DROP CONSTRAINT "reply_templates_pkey";
--> statement-breakpoint
ALTER TABLE "reply_templates" ADD CONSTRAINT "reply_templates_pkey" PRIMARY KEY("tenant_id","id");
--> statement-breakpoint
ALTER TABLE "calendars" ADD CONSTRAINT "calendars_pkey" PRIMARY KEY("tenant_id","id");
--> statement-breakpoint
ALTER TABLE "sla_policies" ADD CONSTRAINT "sla_policies_pkey" PRIMARY KEY("tenant_id","id");
--> statement-breakpoint
ALTER TABLE "sla_policy_versions" ADD CONSTRAINT "sla_policy_versions_pkey" PRIMARY KEY("tenant_id","policy_id","version");
--> statement-breakpoint
ALTER TABLE "sla_policies" ADD CONSTRAINT "sla_policies_calendar_fk" FOREIGN KEY ("tenant_id","calendar_id") REFERENCES "public"."calendars"("tenant_id","id") ON DELETE restrict ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "sla_policy_versions" ADD CONSTRAINT "sla_policy_versions_policy_fk" FOREIGN KEY ("tenant_id","policy_id") REFERENCES "public"."sla_policies"("tenant_id","id") ON DELETE cascade ON UPDATE no action;
