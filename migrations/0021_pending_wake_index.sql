-- Since only wake-ups within the arming horizon go to Redis, each reconciler sweep arms those that
-- have come near. It read every pending deadline to find them; indexed by when each next needs
-- waking (src/db/schema/sla.ts nextWakeAt), a sweep reads only those due within the horizon.
CREATE INDEX "deadlines_pending_wake_idx" ON "deadlines" USING btree (least("warn_ats"["warnings_fired" + 1], "due_at"),"id") WHERE "deadlines"."status" = 'pending';
