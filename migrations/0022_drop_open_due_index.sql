-- The reconciler's sweep read pending deadlines in due order through this index; it now reads
-- deadlines_pending_wake_idx (0021), and no other query uses it, so every deadline written paid
-- for an index nothing reads.
DROP INDEX "deadlines_open_due_idx";
