-- Tuesday's foundation schema. Times are epoch milliseconds (INTEGER); money is a decimal string.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'manager', 'rep')),
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

-- The knowledge base, seeded from data/demo/workspace.toml on first start.
CREATE TABLE brand (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    name    TEXT NOT NULL,
    website TEXT NOT NULL
);

CREATE TABLE markets (
    code           TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    currency       TEXT NOT NULL,
    timezone       TEXT NOT NULL,
    language       TEXT NOT NULL,
    phone_prefixes TEXT NOT NULL -- comma-separated
);

CREATE TABLE market_hours (
    market_code TEXT NOT NULL REFERENCES markets(code),
    days        TEXT NOT NULL,
    open        TEXT NOT NULL,
    close       TEXT NOT NULL
);

CREATE TABLE courses (
    code           TEXT    PRIMARY KEY,
    position       INTEGER NOT NULL,
    name_en        TEXT    NOT NULL,
    name_es        TEXT    NOT NULL,
    name_pt        TEXT    NOT NULL,
    keywords       TEXT    NOT NULL, -- JSON array
    weeks          INTEGER NOT NULL,
    hours_per_week INTEGER NOT NULL,
    modality       TEXT    NOT NULL,
    next_start     TEXT    NOT NULL
);

CREATE TABLE prices (
    course_code       TEXT    NOT NULL REFERENCES courses(code),
    currency          TEXT    NOT NULL,
    amount            TEXT    NOT NULL,
    instalment_count  INTEGER,
    instalment_amount TEXT,
    PRIMARY KEY (course_code, currency)
);

CREATE TABLE facts (
    topic TEXT PRIMARY KEY,
    en    TEXT NOT NULL,
    es    TEXT NOT NULL,
    pt    TEXT NOT NULL
);

-- Every webhook delivery, stored raw before anything else happens to it.
CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY,
    channel     TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    body        TEXT    NOT NULL,
    parse_state TEXT    NOT NULL CHECK (parse_state IN ('parsed', 'unparsed')),
    note        TEXT
);

CREATE TABLE contacts (
    id              INTEGER PRIMARY KEY,
    channel         TEXT    NOT NULL,
    address         TEXT    NOT NULL,
    name            TEXT,
    market          TEXT,
    language        TEXT,
    last_inbound_at INTEGER,
    created_at      INTEGER NOT NULL,
    UNIQUE (channel, address)
);

CREATE TABLE conversations (
    id              INTEGER PRIMARY KEY,
    contact_id      INTEGER NOT NULL REFERENCES contacts(id),
    channel         TEXT    NOT NULL,
    business_number TEXT    NOT NULL,
    language        TEXT,
    created_at      INTEGER NOT NULL,
    last_message_at INTEGER NOT NULL,
    UNIQUE (contact_id, business_number)
);

-- Inbound and outbound messages. An outbound message is the outbox entry for its send job.
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    direction       TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    channel         TEXT    NOT NULL,
    external_id     TEXT,
    delivery_id     INTEGER REFERENCES webhook_deliveries(id),
    reply_to        INTEGER REFERENCES messages(id),
    kind            TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    sent_at         INTEGER NOT NULL,
    language        TEXT,
    status          TEXT,
    status_rank     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX messages_external_id ON messages (channel, external_id);
CREATE INDEX messages_conversation ON messages (conversation_id, id);

CREATE TABLE drafts (
    id              INTEGER PRIMARY KEY,
    message_id      INTEGER NOT NULL UNIQUE REFERENCES messages(id),
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    language        TEXT    NOT NULL,
    intent          TEXT    NOT NULL,
    confidence      REAL    NOT NULL,
    body            TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('held', 'auto_sent', 'approved', 'rejected')),
    hold_reasons    TEXT    NOT NULL, -- JSON array of guardrail findings
    version         INTEGER NOT NULL DEFAULT 0,
    decided_by      INTEGER REFERENCES users(id),
    decided_at      INTEGER,
    final_body      TEXT,
    reject_reason   TEXT,
    outbound_id     INTEGER REFERENCES messages(id),
    created_at      INTEGER NOT NULL
);
CREATE INDEX drafts_state ON drafts (state, created_at);

-- The durable job queue. A job is claimed with a lease; an expired lease makes it claimable again.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    dedupe_key  TEXT    UNIQUE,
    state       TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    run_at      INTEGER NOT NULL,
    lease_until INTEGER,
    locked_by   TEXT,
    last_error  TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX jobs_ready ON jobs (state, run_at);

-- The trace: every action on a message, in order.
CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    message_id      INTEGER REFERENCES messages(id),
    conversation_id INTEGER REFERENCES conversations(id),
    kind            TEXT    NOT NULL,
    summary         TEXT    NOT NULL,
    detail          TEXT    NOT NULL, -- JSON
    user_id         INTEGER REFERENCES users(id),
    day             TEXT    NOT NULL, -- UTC date, for the dashboard's daily counts
    at              INTEGER NOT NULL
);
CREATE INDEX events_message ON events (message_id, id);
CREATE INDEX events_day ON events (day, kind);
