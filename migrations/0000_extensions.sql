-- Trigram matching backs substring search on complaints in any script (Chinese included).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
