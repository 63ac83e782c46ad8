CREATE TABLE "timeline_digests" (
	"tenant_id" uuid NOT NULL,
	"day" date NOT NULL,
	"complaints" integer NOT NULL,
	"digest" "bytea" NOT NULL,
	"event_id" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "timeline_digests_pkey" PRIMARY KEY("tenant_id","day")
);
--> statement-breakpoint
ALTER TABLE "timeline_digests" ADD CONSTRAINT "timeline_digests_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Each complaint's timeline becomes a hash chain (src/modules/timeline-integrity/): the column is
-- added empty, the entries already stored are chained in id order, a tenant at a time, then it is
-- made NOT NULL and the trigger chains every new entry.
ALTER TABLE "complaint_timeline" ADD COLUMN "entry_hash" "bytea";--> statement-breakpoint
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
--> statement-breakpoint

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
--> statement-breakpoint
-- The chain folded over contents in entry order (see timeline_chain_next); as a window it gives
-- each entry's link. Aggregates have no home in a module's sql/ folder, so it lives here.
CREATE OR REPLACE AGGREGATE timeline_chain(bytea) (SFUNC = timeline_chain_next, STYPE = bytea);
--> statement-breakpoint
-- Chaining the entries stored before rewrites each one's entry_hash once, past the trigger that
-- refuses updates (this migration's own transaction holds the table, so nothing else writes).
-- One statement per tenant, naming it, so on Citus each runs on the node holding that tenant.
-- Afterwards the table holds a dead copy of every entry: VACUUM complaint_timeline reclaims it.
ALTER TABLE complaint_timeline DISABLE TRIGGER complaint_timeline_append_only;
--> statement-breakpoint
DO $$
DECLARE
  tenant uuid;
BEGIN
  FOR tenant IN SELECT id FROM tenants ORDER BY id LOOP
    UPDATE complaint_timeline t SET entry_hash = c.link
    FROM (
      SELECT e.complaint_id, e.id,
        timeline_chain(timeline_entry_content(e.tenant_id, e.complaint_id, e.id, e.occurred_at, e.type,
          e.actor_type::text, e.actor_id, e.actor_name, e.actor_on_behalf_of, e.actor_subject, e.changes,
          e.data, e.subject_id)) OVER (PARTITION BY e.complaint_id ORDER BY e.id) AS link
      FROM complaint_timeline e WHERE e.tenant_id = tenant) c
    WHERE t.tenant_id = tenant AND t.complaint_id = c.complaint_id AND t.id = c.id;
  END LOOP;
END
$$;
--> statement-breakpoint
ALTER TABLE complaint_timeline ENABLE TRIGGER complaint_timeline_append_only;
--> statement-breakpoint
ALTER TABLE "complaint_timeline" ALTER COLUMN "entry_hash" SET NOT NULL;--> statement-breakpoint
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
--> statement-breakpoint

CREATE TRIGGER complaint_timeline_seal BEFORE INSERT ON complaint_timeline
  FOR EACH ROW EXECUTE FUNCTION chain_timeline_entry();
