-- Failover. Expand only: a new table for degraded mode, one for the replies it held, and a
-- nullable deadline on jobs.
-- Degraded mode, while it lasts: one row, seen by every worker, every instance and the dashboard.
CREATE TABLE degraded_mode (
    id         SMALLINT PRIMARY KEY CHECK (id = 1),
    since      BIGINT  NOT NULL,
    reason     TEXT    NOT NULL
);
-- Messages whose draft degraded mode held for review, until a model drafts them again.
CREATE TABLE degraded_holds (
    message_id BIGINT  PRIMARY KEY REFERENCES messages(id),
    held_at    BIGINT  NOT NULL,
    resumed_at BIGINT
);
-- When a job must be done by (a WhatsApp reply: 24 h after the customer's message). The most
-- urgent runnable job is claimed first.
ALTER TABLE jobs ADD COLUMN deadline_at BIGINT;
CREATE INDEX jobs_ready_deadline ON jobs (state, deadline_at, run_at);
