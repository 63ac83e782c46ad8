-- The canonical content of a timeline entry as stored, the bytes its link in the hash chain covers:
-- the UTF-8 text of one jsonb array, in this order,
--   ["redress.timeline.v1", tenant_id, complaint_id, id, occurred_at in microseconds since
--    1970-01-01 UTC, type, actor_type, actor_id, actor_name, actor_on_behalf_of, actor_subject,
--    [changes] or null, [data] or null, subject_id]
-- uuids in lower-case text, id and the time as JSON integers, SQL NULL as null. `changes` and
-- `data` are wrapped in an array of one so that SQL NULL (null) and JSON null ([null]) differ.
-- jsonb prints one value one way (object keys ordered, one space after `,` and `:`), so the text
-- depends on the stored values alone. It is the stored `data` (lean, keep_timeline_entry_lean) and
-- whatever it will hold encrypted, not the entry as the API shows it: erasing personal data by
-- destroying its key leaves every stored byte, and the chain, as it was.
CREATE OR REPLACE FUNCTION timeline_entry_content(p_tenant_id uuid, p_complaint_id uuid, p_id bigint,
  p_occurred_at timestamptz, p_type text, p_actor_type text, p_actor_id uuid, p_actor_name text,
  p_actor_on_behalf_of text, p_actor_subject text, p_changes jsonb, p_data jsonb, p_subject_id uuid)
RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT convert_to(jsonb_build_array('redress.timeline.v1', p_tenant_id, p_complaint_id, p_id,
    (extract(epoch FROM p_occurred_at) * 1000000)::bigint, p_type, p_actor_type, p_actor_id, p_actor_name,
    p_actor_on_behalf_of, p_actor_subject,
    CASE WHEN p_changes IS NOT NULL THEN jsonb_build_array(p_changes) END,
    CASE WHEN p_data IS NOT NULL THEN jsonb_build_array(p_data) END,
    p_subject_id)::text, 'UTF8')
$$;

-- One link of the chain: sha256 of the link before (32 bytes) followed by the entry's content;
-- for a complaint's first entry (no link before, NULL) the link before counts as 32 zero bytes.
-- The aggregate timeline_chain(content) (defined by the migration that added the chain, as
-- aggregates have no home here) folds it over entries: as a window,
-- timeline_chain(content) OVER (PARTITION BY complaint_id ORDER BY id) is each entry's link, so
-- verification and the chaining of entries stored before recompute the rule rather than restate it.
CREATE OR REPLACE FUNCTION timeline_chain_next(p_previous bytea, p_content bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT sha256(coalesce(p_previous, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
    || p_content)
$$;

-- Links each new entry to the one before it in its complaint: entry_hash :=
-- timeline_chain_next(the last entry's entry_hash, this entry's content), after
-- keep_timeline_entry_lean has made the entry what is stored (triggers fire in name order:
-- complaint_timeline_keep_lean, then complaint_timeline_seal). Whatever a writer sends as
-- entry_hash is replaced.
-- - Writers of one complaint take turns: every writer already holds the complaint's row
--   (SELECT ... FOR UPDATE, or the intake statement that inserts it), and this takes it
--   FOR NO KEY UPDATE too, which waits for them and for any other writer of the complaint, so a
--   writer that forgot cannot fork the chain. The row lock holds on Citus, as every lock that
--   guards data there is a row.
-- - The entry before is the complaint's entry with the highest id, read after that lock: the rows
--   an earlier row of the same statement inserted are visible to it (a VOLATILE function sees the
--   changes of its own command so far), so an intake or a batch of entries chains in order.
-- - Chain order is id order. An id comes from the sequence before this trigger runs, so a writer
--   that waited here may hold a lower id than an entry committed meanwhile; it takes a fresh id
--   then, keeping id order and chain order one.
-- The trigger is ENABLE (not ALWAYS): a bulk copy with session_replication_role = replica (a
-- restore) keeps entry_hash as copied, which is right for a copy of a chain.
CREATE OR REPLACE FUNCTION chain_timeline_entry() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  previous record;
BEGIN
  PERFORM 1 FROM complaints c WHERE c.tenant_id = NEW.tenant_id AND c.id = NEW.complaint_id
    FOR NO KEY UPDATE;
  SELECT t.id, t.entry_hash INTO previous FROM complaint_timeline t
  WHERE t.tenant_id = NEW.tenant_id AND t.complaint_id = NEW.complaint_id
  ORDER BY t.id DESC LIMIT 1;
  IF previous.id IS NOT NULL AND NEW.id <= previous.id THEN
    NEW.id := nextval(pg_get_serial_sequence('complaint_timeline', 'id'));
  END IF;
  NEW.entry_hash := timeline_chain_next(previous.entry_hash,
    timeline_entry_content(NEW.tenant_id, NEW.complaint_id, NEW.id, NEW.occurred_at, NEW.type,
      NEW.actor_type::text, NEW.actor_id, NEW.actor_name, NEW.actor_on_behalf_of, NEW.actor_subject,
      NEW.changes, NEW.data, NEW.subject_id));
  RETURN NEW;
END
$$;

CREATE TRIGGER complaint_timeline_seal BEFORE INSERT ON complaint_timeline
  FOR EACH ROW EXECUTE FUNCTION chain_timeline_entry();
