-- The webhook tables, the events and the relay's work list are keyed by tenant first, as every
-- tenant table will be (src/db/distribution.ts): primary keys (tenant_id, id), unique event ids
-- per tenant, and foreign keys that name the tenant, so a distributed PostgreSQL keeps each
-- tenant's rows, and the checks between them, on one node. event_outbox takes the tenant of each
-- event waiting in it. Every query that addresses these rows names the tenant as well, so the
-- new keys serve them. The tables are rewritten under their locks: the webhook tables are small,
-- and events hold 30 days.
ALTER TABLE "webhook_deliveries" DROP CONSTRAINT "webhook_deliveries_subscription_id_webhook_subscriptions_id_fk";
--> statement-breakpoint
ALTER TABLE "webhook_deliveries" DROP CONSTRAINT "webhook_deliveries_event_id_events_id_fk";
--> statement-breakpoint
ALTER TABLE "webhook_delivery_attempts" DROP CONSTRAINT "webhook_delivery_attempts_delivery_id_webhook_deliveries_id_fk";
--> statement-breakpoint
ALTER TABLE "webhook_secrets" DROP CONSTRAINT "webhook_secrets_subscription_id_webhook_subscriptions_id_fk";
--> statement-breakpoint
ALTER TABLE "events" DROP CONSTRAINT "events_id_unique";
--> statement-breakpoint
ALTER TABLE "events" DROP CONSTRAINT "events_pkey";
--> statement-breakpoint
ALTER TABLE "event_outbox" DROP CONSTRAINT "event_outbox_pkey";
--> statement-breakpoint
ALTER TABLE "webhook_deliveries" DROP CONSTRAINT "webhook_deliveries_pkey";
--> statement-breakpoint
ALTER TABLE "webhook_delivery_attempts" DROP CONSTRAINT "webhook_delivery_attempts_pkey";
--> statement-breakpoint
ALTER TABLE "webhook_secrets" DROP CONSTRAINT "webhook_secrets_pkey";
--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" DROP CONSTRAINT "webhook_subscriptions_pkey";
--> statement-breakpoint
DROP INDEX "webhook_deliveries_due_idx";
--> statement-breakpoint
DROP INDEX "webhook_deliveries_event_idx";
--> statement-breakpoint
DROP INDEX "webhook_delivery_attempts_delivery_idx";
--> statement-breakpoint
DROP INDEX "webhook_secrets_subscription_idx";
--> statement-breakpoint
ALTER TABLE "event_outbox" ADD COLUMN "tenant_id" uuid;
--> statement-breakpoint
UPDATE event_outbox o SET tenant_id = e.tenant_id FROM events e WHERE e.position = o.position;
--> statement-breakpoint
-- A position whose event is gone has nothing left to relay.
DELETE FROM event_outbox WHERE tenant_id IS NULL;
--> statement-breakpoint
ALTER TABLE "event_outbox" ALTER COLUMN "tenant_id" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "event_outbox" ADD CONSTRAINT "event_outbox_pkey" PRIMARY KEY("tenant_id","position");
--> statement-breakpoint
CREATE INDEX "event_outbox_position_idx" ON "event_outbox" USING btree ("position");
--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_pkey" PRIMARY KEY("tenant_id","position");
--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_tenant_id_key" UNIQUE("tenant_id","id");
--> statement-breakpoint
ALTER TABLE "webhook_subscriptions" ADD CONSTRAINT "webhook_subscriptions_pkey" PRIMARY KEY("tenant_id","id");
--> statement-breakpoint
ALTER TABLE "webhook_secrets" ADD CONSTRAINT "webhook_secrets_pkey" PRIMARY KEY("tenant_id","id");
--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY("tenant_id","id");
--> statement-breakpoint
ALTER TABLE "webhook_delivery_attempts" ADD CONSTRAINT "webhook_delivery_attempts_pkey" PRIMARY KEY("tenant_id","id");
--> statement-breakpoint
ALTER TABLE "webhook_secrets" ADD CONSTRAINT "webhook_secrets_subscription_fk" FOREIGN KEY ("tenant_id","subscription_id") REFERENCES "public"."webhook_subscriptions"("tenant_id","id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_subscription_fk" FOREIGN KEY ("tenant_id","subscription_id") REFERENCES "public"."webhook_subscriptions"("tenant_id","id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_event_fk" FOREIGN KEY ("tenant_id","event_id") REFERENCES "public"."events"("tenant_id","id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "webhook_delivery_attempts" ADD CONSTRAINT "webhook_delivery_attempts_delivery_fk" FOREIGN KEY ("tenant_id","delivery_id") REFERENCES "public"."webhook_deliveries"("tenant_id","id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" USING btree ("tenant_id","subscription_id","next_attempt_at") WHERE "webhook_deliveries"."status" = 'pending';
--> statement-breakpoint
CREATE INDEX "webhook_deliveries_event_idx" ON "webhook_deliveries" USING btree ("tenant_id","event_id");
--> statement-breakpoint
CREATE INDEX "webhook_delivery_attempts_delivery_idx" ON "webhook_delivery_attempts" USING btree ("tenant_id","delivery_id","id");
--> statement-breakpoint
CREATE INDEX "webhook_secrets_subscription_idx" ON "webhook_secrets" USING btree ("tenant_id","subscription_id","created_at");
--> statement-breakpoint
-- Every inserted event joins the outbox relay's work list in the statement that inserts it, so no
-- code path can forget it. The relay is woken as the transaction commits (notify_relay_at_commit).
CREATE OR REPLACE FUNCTION notify_events_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_outbox (tenant_id, position) SELECT tenant_id, position FROM inserted_events;
  RETURN NULL;
END
$$;
