//! Email threading and metadata: the RFC Message-IDs of every email in and out, the full body
//! beside the trimmed text, and the webhook tokens already used (replay protection).

use super::events::{self, NewEvent};
use super::inbound::{IngestSummary, insert_message};
use super::{Store, Tx, on_pool, on_tx};
use crate::channels::email::InboundEmail;
use serde_json::json;

/// What storing an email came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailIngest {
    Stored(IngestSummary),
    /// The provider's token was used before: a replayed request, stored nowhere.
    Replayed,
}

/// What a reply to an email needs from the thread: the parent's identity and subject.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmailThread {
    pub rfc_message_id: String,
    /// The parent's References, space-separated.
    pub refs: String,
    pub subject: String,
}

/// An email as the inbox shows it: subject, full body and attachments.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmailView {
    pub message_id: i64,
    pub subject: String,
    pub full_body: String,
    pub trimmed_by: String,
    /// JSON list of `{filename, content_type, size}`.
    pub attachments: String,
}

impl Store {
    /// Stores an email like any inbound message, threaded by In-Reply-To, then References, then
    /// a `reply+<conversation>@` recipient. With `replay_token`, the token is remembered in the
    /// same transaction, so a failed store leaves the provider free to retry.
    pub async fn ingest_email(
        &self,
        provider: &str,
        raw_body: &str,
        email: &InboundEmail,
        replay_token: Option<&str>,
    ) -> anyhow::Result<EmailIngest> {
        let mut tx = self.begin().await?;
        let now = tx.now;
        if let Some(token) = replay_token {
            let fresh = on_tx!(&mut tx, |conn| sqlx::query(
                "INSERT INTO webhook_tokens (provider, token, seen_at) VALUES ($1, $2, $3)
                 ON CONFLICT (provider, token) DO NOTHING",
            )
            .bind(provider)
            .bind(token)
            .bind(now)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
            if fresh == 0 {
                return Ok(EmailIngest::Replayed);
            }
        }
        let delivery_id: i64 = on_tx!(&mut tx, |conn| sqlx::query_scalar(
            "INSERT INTO webhook_deliveries (channel, received_at, body, parse_state, note)
             VALUES ($1, $2, $3, 'parsed', $4) RETURNING id",
        )
        .bind(crate::channels::EMAIL)
        .bind(now)
        .bind(raw_body)
        .bind(format!("via {provider}"))
        .fetch_one(conn)
        .await)?;
        let (conversation, matched_by) = find_thread(&mut tx, email).await?;
        let mut summary = IngestSummary {
            delivery_id,
            ..IngestSummary::default()
        };
        match insert_message(&mut tx, delivery_id, &email.message, conversation, now).await? {
            None => summary.duplicate_messages = 1,
            Some(message_id) => {
                summary.new_messages = 1;
                on_tx!(&mut tx, |conn| sqlx::query(
                    "INSERT INTO email_messages (message_id, rfc_message_id, in_reply_to, refs, subject,
                                                 full_body, trimmed_by, attachments)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(message_id)
                .bind(&email.rfc_message_id)
                .bind(&email.in_reply_to)
                .bind(email.references.join(" "))
                .bind(&email.subject)
                .bind(&email.full_body)
                .bind(email.trimmed_by)
                .bind(serde_json::to_string(&email.attachments)?)
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?;
                let conversation_id: i64 = on_tx!(&mut tx, |conn| sqlx::query_scalar(
                    "SELECT conversation_id FROM messages WHERE id = $1"
                )
                .bind(message_id)
                .fetch_one(conn)
                .await)?;
                let summary_text = match matched_by {
                    Some(how) => format!("Email threaded into conversation {conversation_id} by {how}"),
                    None => format!("Email starts or continues conversation {conversation_id} by sender"),
                };
                events::insert(
                    &mut tx,
                    &NewEvent::new("threaded", summary_text)
                        .on(message_id, conversation_id)
                        .detail(json!({
                            "matched_by": matched_by.unwrap_or("sender"),
                            "rfc_message_id": email.rfc_message_id,
                            "subject": email.subject,
                            "trimmed_by": email.trimmed_by,
                            "attachments": email.attachments,
                        })),
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(EmailIngest::Stored(summary))
    }

    /// The email a reply answers, when the inbound message is an email.
    pub async fn email_thread(&self, message_id: i64) -> anyhow::Result<Option<EmailThread>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT rfc_message_id, refs, subject FROM email_messages WHERE message_id = $1"
        )
        .bind(message_id)
        .fetch_optional(pool)
        .await)?)
    }

    /// Our Message-ID for an outbound email, if one was already chosen (a retried send keeps it).
    pub async fn outbound_email_id(&self, outbound_id: i64) -> anyhow::Result<Option<String>> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT rfc_message_id FROM email_messages WHERE message_id = $1"
        )
        .bind(outbound_id)
        .fetch_optional(pool)
        .await)?)
    }

    /// Records our Message-ID and thread for an outbound email, before it is handed to SMTP.
    pub async fn record_outbound_email(
        &self,
        outbound_id: i64,
        rfc_message_id: &str,
        in_reply_to: Option<&str>,
        refs: &str,
        subject: &str,
    ) -> anyhow::Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO email_messages (message_id, rfc_message_id, in_reply_to, refs, subject, trimmed_by)
             VALUES ($1, $2, $3, $4, $5, 'none') ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(outbound_id)
        .bind(rfc_message_id)
        .bind(in_reply_to)
        .bind(refs)
        .bind(subject)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The emails of a conversation with their full bodies, for the inbox.
    pub async fn conversation_emails(&self, conversation_id: i64) -> anyhow::Result<Vec<EmailView>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT e.message_id, e.subject, e.full_body, e.trimmed_by, e.attachments
             FROM email_messages e JOIN messages m ON m.id = e.message_id
             WHERE m.conversation_id = $1 ORDER BY m.id",
        )
        .bind(conversation_id)
        .fetch_all(pool)
        .await)?)
    }
}

/// The conversation an email belongs to, and how it was found; `None` when no thread matches.
async fn find_thread(
    tx: &mut Tx,
    email: &InboundEmail,
) -> anyhow::Result<(Option<i64>, Option<&'static str>)> {
    let candidates = email
        .in_reply_to
        .iter()
        .map(|id| (id.as_str(), "In-Reply-To"))
        .chain(
            email
                .references
                .iter()
                .rev()
                .map(|id| (id.as_str(), "References")),
        );
    for (id, how) in candidates {
        let found: Option<i64> = on_tx!(tx, |conn| sqlx::query_scalar(
            "SELECT m.conversation_id FROM email_messages e JOIN messages m ON m.id = e.message_id
             WHERE e.rfc_message_id = $1 ORDER BY m.id DESC LIMIT 1",
        )
        .bind(id)
        .fetch_optional(conn)
        .await)?;
        if found.is_some() {
            return Ok((found, Some(how)));
        }
    }
    if let Some(tag) = email.reply_tag {
        let found: Option<i64> = on_tx!(tx, |conn| sqlx::query_scalar(
            "SELECT id FROM conversations WHERE id = $1 AND channel = $2"
        )
        .bind(tag)
        .bind(crate::channels::EMAIL)
        .fetch_optional(conn)
        .await)?;
        if found.is_some() {
            return Ok((found, Some("reply+ address")));
        }
    }
    Ok((None, None))
}
