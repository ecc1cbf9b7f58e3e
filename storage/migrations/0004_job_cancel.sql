-- Cancelling a job that chatd prepares or runs: the route records the wish,
-- the job runner stops the work and records the final status.
ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
