-- Email and Twilio channels. Expand only: new tables beside `messages`, nothing rewritten.

-- What an email message carries beyond the text the pipeline reads: its RFC 5322 identity and
-- thread, its subject, the full body (the inbox shows it; `messages.body` holds the trimmed
-- reply the pipeline classifies) and its attachments as metadata only. Outbound emails get a
-- row too, with our own Message-ID, written before the SMTP call.
CREATE TABLE email_messages (
    message_id     INTEGER PRIMARY KEY REFERENCES messages(id),
    rfc_message_id TEXT    NOT NULL,
    in_reply_to    TEXT,
    refs           TEXT    NOT NULL DEFAULT '', -- space-separated Message-IDs, oldest first
    subject        TEXT    NOT NULL DEFAULT '',
    full_body      TEXT    NOT NULL DEFAULT '',
    trimmed_by     TEXT    NOT NULL DEFAULT 'none', -- provider | trimmer | none
    attachments    TEXT    NOT NULL DEFAULT '[]'    -- JSON: [{filename, content_type, size}]
);
CREATE INDEX email_messages_rfc ON email_messages (rfc_message_id);

-- Webhook tokens already accepted (Mailgun's), so a captured request cannot be replayed.
CREATE TABLE webhook_tokens (
    provider TEXT    NOT NULL,
    token    TEXT    NOT NULL,
    seen_at  INTEGER NOT NULL,
    PRIMARY KEY (provider, token)
);
