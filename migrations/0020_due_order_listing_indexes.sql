-- The deadline and follow-up listings page in due order. Narrowed to one status they read
-- (tenant_id, status, due_at); unnarrowed, each page sorted every deadline or follow-up the tenant
-- ever had (243 ms a page at 635,000 deadlines). These serve them in order.
CREATE INDEX "follow_ups_tenant_due_any_status_idx" ON "follow_ups" USING btree ("tenant_id","due_at","id");--> statement-breakpoint
CREATE INDEX "deadlines_tenant_due_idx" ON "deadlines" USING btree ("tenant_id","due_at","id");
