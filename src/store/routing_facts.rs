//! What the routing policy asks the database about a contact before drafting.

use super::{Store, on_pool};

/// A draft a person decided on: rejected, or approved (perhaps after editing).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ReviewedDraft {
    pub state: String,
    pub body: String,
    pub final_body: Option<String>,
}

impl Store {
    /// The contact's most recent draft that a person approved or rejected, before `message_id`.
    pub async fn last_reviewed_draft(
        &self,
        contact_id: i64,
        message_id: i64,
    ) -> anyhow::Result<Option<ReviewedDraft>> {
        // CROSS JOIN keeps SQLite's join order: the contact's conversations first, then their
        // drafts (`drafts_conversation`), rather than every reviewed draft of every contact.
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT d.state, d.body, d.final_body
             FROM conversations c CROSS JOIN drafts d
             WHERE d.conversation_id = c.id AND c.contact_id = $1 AND d.message_id < $2
               AND d.state IN ('approved', 'rejected')
             ORDER BY d.id DESC LIMIT 1",
        )
        .bind(contact_id)
        .bind(message_id)
        .fetch_optional(pool)
        .await)?)
    }
}
