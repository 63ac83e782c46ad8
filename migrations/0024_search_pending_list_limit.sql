-- The search indexes' pending lists are merged by the insert that finds them full, while its
-- request waits: at the default 4 MB a merge of the trigram list held an intake batch for about
-- 45 ms. At 512 kB each merge is an eighth the size (see complaints_search_trgm_idx in
-- src/db/schema/complaints.ts). drizzle-kit would drop and rebuild both indexes to change this;
-- a storage parameter changes in place, without a rebuild, and applies to the next merge.
ALTER INDEX "complaints_search_trgm_idx" SET (gin_pending_list_limit = 512);--> statement-breakpoint
ALTER INDEX "complaints_search_chars_idx" SET (gin_pending_list_limit = 512);
