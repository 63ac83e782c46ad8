-- Lean timeline: a `complaint.created` entry no longer stores the whole complaint again. It keeps
-- what intake set that later changes overwrite without recording a `before` (the status, which
-- the daily inventory reads as data -> 'complaint' ->> 'status', the version, the next deadline
-- …: takenInEntryData in src/modules/complaints/complaint-views.ts), and the timeline API shows
-- the complaint as it was taken in, exactly as before, by undoing every later change on the
-- complaint as it stands (complaint_as_taken_in). This migration adds those functions and slims
-- the entries written before.
--
-- The functions' current text lives in src/modules/complaints/sql/.
-- The complaint as it stood just after its timeline entry p_after: the complaint as it stands
-- now (complaint_view), with the `before` of every change recorded after that entry put back,
-- newest first. A change naming a field the view does not have is passed over. STABLE, so it
-- reads the complaint and its entries in the snapshot of the statement that calls it: the two
-- always agree, as every change commits with its entry.
CREATE OR REPLACE FUNCTION complaint_unwound(p_tenant_id uuid, p_complaint_id uuid, p_after bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  c complaints;
  v jsonb;
  undo record;
BEGIN
  SELECT * INTO c FROM complaints WHERE tenant_id = p_tenant_id AND id = p_complaint_id;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  v := complaint_view(c);
  FOR undo IN
    SELECT string_to_array(x.change ->> 'field', '.') AS path, coalesce(x.change -> 'before', 'null') AS before
    FROM complaint_timeline t
    CROSS JOIN LATERAL jsonb_array_elements(
      CASE WHEN jsonb_typeof(t.changes) = 'array' THEN t.changes END) WITH ORDINALITY AS x(change, n)
    WHERE t.tenant_id = p_tenant_id AND t.complaint_id = p_complaint_id AND t.id > p_after
    ORDER BY t.id DESC, x.n DESC
  LOOP
    v := jsonb_set(v, undo.path, undo.before, false);
  END LOOP;
  RETURN v;
END
$$;
--> statement-breakpoint
-- The complaint as it was taken in, which the `complaint.created` timeline entry `t` shows. The
-- entry keeps only what intake set that later changes overwrite without recording a `before`
-- (takenInEntryData in src/modules/complaints/complaint-views.ts); the rest is the complaint now
-- with every later change undone (complaint_unwound). An entry that still holds a whole copy (it
-- has the complaint's `id`: one the lean_timeline migration could not rebuild exactly) is that copy.
CREATE OR REPLACE FUNCTION complaint_as_taken_in(t complaint_timeline) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  kept jsonb := coalesce(t.data -> 'complaint', '{}');
BEGIN
  IF kept ? 'id' THEN
    RETURN kept;
  END IF;
  RETURN coalesce(complaint_unwound(t.tenant_id, t.complaint_id, t.id), '{}') || kept;
END
$$;
--> statement-breakpoint
-- The timeline is append-only (refuse_timeline_rewrite); this one sanctioned rewrite lifts the
-- guard inside its own transaction. Why one UPDATE is safe, even over millions of entries:
-- - drizzle's migrator applies every pending migration in one transaction, so the guard is
--   off only inside it, and ALTER TABLE holds complaint_timeline against every other writer
--   until it commits: nothing is written, or rewritten, unguarded. Timeline writes (intake
--   among them) wait meanwhile, so run it when the API is stopped or quiet. Each entry costs
--   the same whatever the size of the table: its complaint by primary key, its later entries
--   by complaint_timeline_complaint_idx (about 50,000 entries in 9 s on two cores).
-- - It rewrites only `complaint.created` entries that still hold a whole copy (they have the
--   complaint's `id`), and only to what composes back to exactly that copy (see
--   lean_created_entry below). So no entry shows anything other than before, and running it
--   again leaves every entry as it is.
-- - The old versions of the rewritten rows are dead tuples: autovacuum reuses the space;
--   VACUUM FULL (or pg_repack) complaint_timeline returns it to the operating system.
ALTER TABLE complaint_timeline DISABLE TRIGGER complaint_timeline_append_only;
--> statement-breakpoint
-- What an entry holding a whole copy keeps of it: what an entry written at intake keeps (this
-- list is KEPT_AT_INTAKE's in src/modules/complaints/complaint-views.ts as this migration was
-- written; a test holds the two together), and every other value that the complaint now, with
-- later changes undone, does not reproduce (one changed before the timeline recorded such
-- changes). A copy lacking a field the complaint view has now (older than that field) stays
-- whole: a rebuild would add the field. One function call per entry, so each complaint is
-- rebuilt once.
CREATE FUNCTION pg_temp.lean_created_entry(t complaint_timeline) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  copy jsonb := t.data -> 'complaint';
  rebuilt jsonb := complaint_unwound(t.tenant_id, t.complaint_id, t.id);
BEGIN
  IF rebuilt IS NULL OR rebuilt -> 'id' IS DISTINCT FROM copy -> 'id'
    OR EXISTS (SELECT 1 FROM jsonb_object_keys(rebuilt) AS r(key) WHERE NOT copy ? r.key) THEN
    RETURN t.data;
  END IF;
  RETURN t.data || jsonb_build_object('complaint', (
    SELECT coalesce(jsonb_object_agg(k.key, k.value), '{}') FROM jsonb_each(copy) AS k
    WHERE k.key = ANY (ARRAY['status', 'version', 'updatedAt', 'rejection', 'acceptanceOverride',
        'majorSince', 'escalationLevel', 'nextDeadline'])
      OR (rebuilt -> k.key) IS DISTINCT FROM k.value));
END
$$;
--> statement-breakpoint
UPDATE complaint_timeline t SET data = pg_temp.lean_created_entry(t)
WHERE t.type = 'complaint.created' AND jsonb_typeof(t.data -> 'complaint') = 'object'
  AND t.data -> 'complaint' ? 'id';
--> statement-breakpoint
DROP FUNCTION pg_temp.lean_created_entry(complaint_timeline);
--> statement-breakpoint
ALTER TABLE complaint_timeline ENABLE TRIGGER complaint_timeline_append_only;
