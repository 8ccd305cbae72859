//! Reps' decisions read back as labels for the next training: the customer's message, the
//! intent it was drafted for, and what the rep did with the draft.

use super::{Store, on_pool};
use crate::domain::Millis;

/// One reviewed draft with the message it answered.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReviewedMessage {
    pub message_id: i64,
    pub text: String,
    pub language: String,
    pub intent: String,
    /// `approved` or `rejected`.
    pub state: String,
    pub draft: String,
    pub final_body: Option<String>,
    pub reject_reason: Option<String>,
    pub decided_at: Millis,
}

impl Store {
    /// Drafts a person approved or rejected since `since`, oldest first.
    pub async fn reviewed_messages(&self, since: Millis) -> anyhow::Result<Vec<ReviewedMessage>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT d.message_id, m.body AS text, d.language, COALESCE(d.corrected_intent, d.intent) AS intent, d.state, d.body AS draft,
                    d.final_body, d.reject_reason, d.decided_at
             FROM drafts d JOIN messages m ON m.id = d.message_id
             WHERE d.state IN ('approved', 'rejected') AND d.decided_at >= $1 AND m.kind IN ('text', 'button', 'interactive', 'email')
             ORDER BY d.decided_at, d.id"
        )
        .bind(since)
        .fetch_all(pool)
        .await
        })?)
    }
}
