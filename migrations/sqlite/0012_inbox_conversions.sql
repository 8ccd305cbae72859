-- Review inbox and conversions. Expand only: new nullable columns, new tables, new indexes.

-- Who holds a conversation (a claim expires), who it is assigned to, escalation and outcome.
ALTER TABLE conversations ADD COLUMN claimed_by INTEGER REFERENCES users(id);
ALTER TABLE conversations ADD COLUMN claimed_until INTEGER;
ALTER TABLE conversations ADD COLUMN assigned_to INTEGER REFERENCES users(id);
ALTER TABLE conversations ADD COLUMN escalated_at INTEGER;
ALTER TABLE conversations ADD COLUMN escalation_reason TEXT;
ALTER TABLE conversations ADD COLUMN outcome TEXT; -- converted | lost
ALTER TABLE conversations ADD COLUMN outcome_reason TEXT;
ALTER TABLE conversations ADD COLUMN outcome_at INTEGER;
CREATE INDEX conversations_escalated ON conversations (escalated_at);
CREATE INDEX conversations_contact ON conversations (contact_id, last_message_at);
CREATE INDEX contacts_address ON contacts (address);

-- A rep's correction of the intent a draft was written for: a label for the next training.
ALTER TABLE drafts ADD COLUMN corrected_intent TEXT;
CREATE INDEX drafts_conversation ON drafts (conversation_id, id);
CREATE INDEX drafts_decided ON drafts (decided_at);
CREATE INDEX messages_status ON messages (status, created_at);

-- Private notes on a conversation, never sent.
CREATE TABLE notes (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    user_id         INTEGER NOT NULL REFERENCES users(id),
    body            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX notes_conversation ON notes (conversation_id, id);

-- A sale: from the signed webhook (idempotent on external_id) or marked by a rep.
CREATE TABLE conversions (
    id              INTEGER PRIMARY KEY,
    external_id     TEXT    UNIQUE,
    source          TEXT    NOT NULL CHECK (source IN ('webhook', 'rep')),
    contact_id      INTEGER REFERENCES contacts(id),
    contact_key     TEXT    NOT NULL, -- the phone digits or email as given, normalised
    value           TEXT    NOT NULL, -- exact decimal
    currency        TEXT    NOT NULL,
    product         TEXT    NOT NULL,
    occurred_at     INTEGER NOT NULL,
    recorded_by     INTEGER REFERENCES users(id),
    created_at      INTEGER NOT NULL
);
CREATE INDEX conversions_occurred ON conversions (occurred_at);
CREATE INDEX conversions_contact ON conversions (contact_id);

-- Which conversations a conversion is attributed to, and how many agent replies went out in each.
CREATE TABLE conversion_conversations (
    conversion_id   INTEGER NOT NULL REFERENCES conversions(id),
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    agent_messages  INTEGER NOT NULL,
    PRIMARY KEY (conversion_id, conversation_id)
);
CREATE INDEX conversion_conversations_conversation ON conversion_conversations (conversation_id);

-- The agent's sent messages each conversion is attributed to.
CREATE TABLE conversion_messages (
    conversion_id INTEGER NOT NULL REFERENCES conversions(id),
    message_id    INTEGER NOT NULL REFERENCES messages(id),
    PRIMARY KEY (conversion_id, message_id)
);

-- The dashboard's roll-up: one row per conversation, refreshed for conversations with new
-- events since the watermark, so the dashboard never scans messages.
CREATE TABLE conversation_facts (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id),
    started_at      INTEGER NOT NULL,
    epoch_day       INTEGER NOT NULL,
    language        TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    intent          TEXT    NOT NULL,
    tier_rank       INTEGER NOT NULL, -- -1 none, 0 local, 1 fast, 2 standard, 3 flagship
    inbound         INTEGER NOT NULL,
    drafts          INTEGER NOT NULL,
    held            INTEGER NOT NULL,
    sent_auto       INTEGER NOT NULL,
    sent_approved   INTEGER NOT NULL,
    replied         INTEGER NOT NULL,
    converted       INTEGER NOT NULL,
    approved        INTEGER NOT NULL,
    rejected        INTEGER NOT NULL,
    edited          INTEGER NOT NULL,
    edit_distance   INTEGER NOT NULL, -- summed over the conversation's edited approvals
    review_ms       INTEGER,          -- the first decision's wait, from draft to a person's decision
    outcome         TEXT,
    cost_usd        TEXT    NOT NULL
);
CREATE INDEX conversation_facts_day ON conversation_facts (epoch_day);

CREATE TABLE rollup_state (
    name      TEXT PRIMARY KEY,
    watermark INTEGER NOT NULL
);

-- Guardrail findings per UTC day and summary (rule, verdict, reason), recomputed for the days
-- since the watermark.
CREATE TABLE guardrail_daily (
    day     TEXT    NOT NULL,
    summary TEXT    NOT NULL,
    hits    INTEGER NOT NULL,
    PRIMARY KEY (day, summary)
);
