CREATE TABLE "complaint_reference_counters" (
	"tenant_id" uuid NOT NULL,
	"last_number" bigint NOT NULL,
	CONSTRAINT "complaint_reference_counters_pkey" PRIMARY KEY("tenant_id")
);
--> statement-breakpoint
ALTER TABLE "complaint_reference_counters" ADD CONSTRAINT "complaint_reference_counters_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Each tenant's count moves from its sequence (complaint_reference_<tenant id without hyphens>) to
-- its row, at the last number the sequence handed out, and the sequence goes: intake no longer
-- asks it. A tenant whose sequence never handed out a number starts at 0, as a new tenant does.
DO $$
DECLARE
  tenant record;
  sequence_name regclass;
  last_number bigint;
BEGIN
  FOR tenant IN SELECT id FROM tenants LOOP
    sequence_name := to_regclass(format('%I', 'complaint_reference_' || replace(tenant.id::text, '-', '')));
    CONTINUE WHEN sequence_name IS NULL;
    EXECUTE format('SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM %s', sequence_name)
      INTO last_number;
    INSERT INTO complaint_reference_counters (tenant_id, last_number) VALUES (tenant.id, last_number);
    EXECUTE format('DROP SEQUENCE %s', sequence_name);
  END LOOP;
END $$;
