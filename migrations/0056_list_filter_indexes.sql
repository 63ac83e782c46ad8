-- The complaint list filtered by any combination of channel and category costs a page, not a
-- history (see complaints_tenant_channel_category_idx in src/db/schema/complaints.ts), and the
-- status index leaves out closed complaints, the bulk of a tenant's history, which a list of closed
-- complaints never needed it for.
DROP INDEX "complaints_tenant_status_idx";--> statement-breakpoint
CREATE INDEX "complaints_tenant_channel_category_idx" ON "complaints" USING btree ("tenant_id","channel","category","received_at" DESC NULLS FIRST,"id" DESC NULLS FIRST) WHERE "complaints"."category" is not null;--> statement-breakpoint
CREATE INDEX "complaints_tenant_status_idx" ON "complaints" USING btree ("tenant_id","status","received_at" DESC NULLS FIRST) WHERE "complaints"."status" <> 'closed';
--> statement-breakpoint
-- The planner multiplies the shares of channel and category as if they were unrelated; they are
-- not (a category can be fax's own, or never arrive by fax). Whether a list of channels and a
-- category is read by walking an index until the page is full or by fetching every match and
-- sorting turns on how many complaints the combination holds, so it is counted as a combination.
-- The migrate step analyses complaints once these statistics exist and have never been built
-- (analyzeStaleTables in src/db/statistics.ts), and autovacuum's analyses keep them fresh.
CREATE STATISTICS complaints_channel_category_stats (dependencies, mcv) ON channel, category FROM complaints;
