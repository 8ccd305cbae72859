-- Sign-in hardening. Expand only: a new table and a new column with a default.

-- Failed sign-ins, for the per-account and per-address limits (web/login_limit.rs). Kept in
-- the database so every instance counts the same failures. `account` is the SHA-256 of the
-- username as typed (trimmed, lowercased): a password typed into the username box is never
-- stored. Rows older than the window are pruned as new failures arrive.
CREATE TABLE login_failures (
    id      INTEGER PRIMARY KEY,
    account TEXT    NOT NULL,
    ip      TEXT    NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX login_failures_account ON login_failures (account, at);
CREATE INDEX login_failures_ip ON login_failures (ip, at);
CREATE INDEX login_failures_at ON login_failures (at);

-- When a session was last used, for the idle timeout; written at most once a minute.
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = created_at;
