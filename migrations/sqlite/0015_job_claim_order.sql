-- The job claim walks the queue in the order it claims: nearest deadline first. Expand only:
-- a new index. It holds the queued and running jobs alone, so the claim reads the first
-- runnable one instead of sorting every ready job, and done jobs cost it nothing.
CREATE INDEX jobs_due ON jobs ((COALESCE(deadline_at, run_at)), run_at, id)
    WHERE state IN ('queued', 'running');
