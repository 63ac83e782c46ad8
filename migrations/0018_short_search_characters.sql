-- Searches of one or two characters (a Chinese surname or given name, a word such as 退款) have no
-- trigram for complaints_search_trgm_idx to look up and read every complaint of the tenant. This
-- indexes each complaint's lower-cased characters (src/db/schema/complaints.ts searchCharacters):
-- such a search then reads only complaints holding every character it names.
CREATE INDEX "complaints_search_chars_idx" ON "complaints" USING gin (string_to_array(lower("subject" || ' ' || "description" || ' ' || coalesce("customer_name", '')), null));
