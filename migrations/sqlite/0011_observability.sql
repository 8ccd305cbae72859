-- Observability: events become typed observations with times, searchable by model, rule and
-- error code; daily roll-ups that outlive retention; an append-only audit log; the export
-- cursor. Expand only: new nullable columns, new tables and indexes, nothing rewritten.
ALTER TABLE events ADD COLUMN obs_type TEXT;      -- span | generation | guardrail | event
ALTER TABLE events ADD COLUMN started_at INTEGER; -- epoch ms; NULL: a point in time at `at`
ALTER TABLE events ADD COLUMN ended_at INTEGER;
ALTER TABLE events ADD COLUMN model TEXT;         -- generations: the model asked
ALTER TABLE events ADD COLUMN rule TEXT;          -- guardrails: the rule
ALTER TABLE events ADD COLUMN error_code TEXT;    -- anything that failed: its outcome or code
CREATE INDEX events_model ON events (model, message_id) WHERE model IS NOT NULL;
CREATE INDEX events_rule ON events (rule, message_id) WHERE rule IS NOT NULL;
CREATE INDEX events_error ON events (error_code, message_id) WHERE error_code IS NOT NULL;
CREATE INDEX events_at ON events (at);
CREATE INDEX messages_created ON messages (direction, created_at);
CREATE INDEX drafts_intent ON drafts (intent, message_id);
CREATE INDEX contacts_name ON contacts (name);

-- What the dashboard counts, for days whose events retention has removed.
CREATE TABLE event_rollups (
    day      TEXT    NOT NULL,
    language TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (day, language, kind)
);

-- Every human action and policy override. Append only: triggers refuse UPDATE and DELETE.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    user_id    INTEGER REFERENCES users(id),
    username   TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    message_id INTEGER,
    summary    TEXT    NOT NULL,
    detail     TEXT    NOT NULL -- JSON
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- The last event the metrics and the trace export have taken: advanced by compare-and-set,
-- so with several instances each event is taken once. Starts at the present.
CREATE TABLE event_cursor (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    last_event_id INTEGER NOT NULL
);
INSERT INTO event_cursor (id, last_event_id) SELECT 1, COALESCE(MAX(id), 0) FROM events;
