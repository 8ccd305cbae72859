//! Conversations and their threads, for the review pages.

use super::{Store, on_pool};
use crate::domain::Millis;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversationRow {
    pub id: i64,
    pub channel: String,
    pub business_number: String,
    pub language: Option<String>,
    pub contact_name: Option<String>,
    pub contact_address: String,
    pub market: Option<String>,
    pub last_inbound_at: Option<Millis>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ThreadMessage {
    pub id: i64,
    pub conversation_id: i64,
    pub direction: String,
    pub kind: String,
    pub body: String,
    pub language: Option<String>,
    pub status: Option<String>,
    pub last_error: Option<String>,
    pub external_id: Option<String>,
    pub reply_to: Option<i64>,
    pub sent_at: Millis,
}

impl Store {
    pub async fn conversation(&self, id: i64) -> anyhow::Result<Option<ConversationRow>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT c.id, c.channel, c.business_number, c.language, k.name AS contact_name,
                    k.address AS contact_address, k.market, k.last_inbound_at
             FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?)
    }

    pub async fn thread(&self, conversation_id: i64) -> anyhow::Result<Vec<ThreadMessage>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT id, conversation_id, direction, kind, body, language, status, last_error, external_id, reply_to, sent_at
             FROM messages WHERE conversation_id = $1 ORDER BY sent_at, id",
        )
        .bind(conversation_id)
        .fetch_all(pool)
        .await
        })?)
    }

    /// A message with its conversation, for the trace page's header.
    pub async fn message(&self, id: i64) -> anyhow::Result<Option<ThreadMessage>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT id, conversation_id, direction, kind, body, language, status, last_error, external_id, reply_to, sent_at
             FROM messages WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
        })?)
    }

    /// Outbound messages that could not be sent, newest first.
    pub async fn unsent_messages(&self, limit: i64) -> anyhow::Result<Vec<ThreadMessage>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT id, conversation_id, direction, kind, body, language, status, last_error, external_id,
                    reply_to, sent_at
             FROM messages WHERE direction = 'out' AND status IN ('failed', 'not_configured', 'unconfirmed', 'blocked')
             ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await
        })?)
    }
}
