-- Tiered model routing: every model call with its exact cost, and running totals per day.

-- One row per model call, and one per task the local tier (classifier, templates) answered.
CREATE TABLE model_calls (
    id                      INTEGER PRIMARY KEY,
    message_id              INTEGER REFERENCES messages(id),
    conversation_id         INTEGER REFERENCES conversations(id),
    contact_id              INTEGER REFERENCES contacts(id),
    task                    TEXT    NOT NULL, -- classify | draft | redraft
    tier                    TEXT    NOT NULL, -- local | fast | standard | flagship
    provider                TEXT    NOT NULL,
    model                   TEXT    NOT NULL,
    input_tokens            INTEGER NOT NULL, -- uncached prompt tokens
    output_tokens           INTEGER NOT NULL,
    cache_write_tokens      INTEGER NOT NULL,
    cache_read_tokens       INTEGER NOT NULL,
    estimated_input_tokens  INTEGER NOT NULL, -- local tier: what a model would have read
    estimated_output_tokens INTEGER NOT NULL,
    cost_usd                TEXT    NOT NULL, -- exact decimal
    latency_ms              INTEGER NOT NULL,
    outcome                 TEXT    NOT NULL, -- ok | invalid_answer | http_429 | timeout | …
    error                   TEXT,
    used                    INTEGER NOT NULL, -- the answer the task kept
    day                     TEXT    NOT NULL, -- UTC date
    at                      INTEGER NOT NULL
);
CREATE INDEX model_calls_message ON model_calls (message_id);
CREATE INDEX model_calls_conversation ON model_calls (conversation_id);
CREATE INDEX model_calls_contact ON model_calls (contact_id);
CREATE INDEX model_calls_day ON model_calls (day, task, tier);

-- Spend per UTC day and tier, plus money reserved for calls in flight: the budget reads this.
CREATE TABLE model_spend (
    day          TEXT    NOT NULL,
    tier         TEXT    NOT NULL,
    calls        INTEGER NOT NULL,
    cost_usd     TEXT    NOT NULL,
    reserved_usd TEXT    NOT NULL,
    PRIMARY KEY (day, tier)
);
