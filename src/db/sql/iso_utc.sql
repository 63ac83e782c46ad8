-- An instant as the API writes it, for the JSON built in SQL: UTC to the millisecond, as
-- Date.prototype.toISOString gives it. PL/pgSQL, as are the views that call it, because a
-- SQL-language function called from another function is parsed again on every call, while
-- PL/pgSQL keeps its plans for the session.
CREATE OR REPLACE FUNCTION iso_utc(ts timestamptz) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  RETURN to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
END
$$;
