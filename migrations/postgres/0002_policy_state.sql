-- What the guardrails need to remember: opt-outs, a contact's own time zone, and manager
-- overrides of a blocked reply. Expand only: new nullable columns, nothing rewritten.
ALTER TABLE contacts ADD COLUMN opted_out_at BIGINT;
ALTER TABLE contacts ADD COLUMN timezone TEXT;
ALTER TABLE messages ADD COLUMN policy_override TEXT;
CREATE INDEX messages_out_recent ON messages (conversation_id, direction, created_at);
