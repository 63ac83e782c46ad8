-- deadlines_overdue_during_idx holds only deadlines recorded as overdue (breached, or met or
-- cancelled late): intake and deadlines met in time no longer write to it, and the daily inventory
-- reads those past due and not yet breached from the live backlog. INCLUDE as in 0028.
DROP INDEX "deadlines_overdue_during_idx";--> statement-breakpoint
CREATE INDEX "deadlines_overdue_during_idx" ON "deadlines" USING gist ("tenant_id",tstzrange("due_at", case when least("met_at", "cancelled_at") is not null then greatest("due_at", least("met_at", "cancelled_at")) end, '()')) INCLUDE ("complaint_id","status","paused_at","due_at","met_at","cancelled_at") WHERE ("deadlines"."status" = 'breached' or "deadlines"."met_at" > "deadlines"."due_at" or "deadlines"."cancelled_at" > "deadlines"."due_at");