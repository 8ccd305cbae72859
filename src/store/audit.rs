//! The audit log: who did what and when, for every human action and policy override. Append
//! only: this file has no update or delete, and triggers on both backends refuse them.

use super::events::NewEvent;
use super::{Store, Tx, on_pool, on_tx};
use crate::domain::Millis;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: Millis,
    pub username: String,
    pub action: String,
    pub message_id: Option<i64>,
    pub summary: String,
    pub detail: String,
}

/// Records `event`, done by `user_id`, in the audit log. Personal data in the detail is masked:
/// the log outlives retention.
pub(super) async fn append(tx: &mut Tx, user_id: i64, event: &NewEvent) -> sqlx::Result<()> {
    let detail = crate::observability::redaction::mask_json(&event.detail).to_string();
    let summary = crate::observability::redaction::mask(&event.summary);
    let at = tx.now;
    on_tx!(tx, |conn| sqlx::query(
        "INSERT INTO audit_log (at, user_id, username, action, message_id, summary, detail)
         SELECT $1, u.id, u.username, $2, $3, $4, $5 FROM users u WHERE u.id = $6",
    )
    .bind(at)
    .bind(event.kind)
    .bind(event.message_id)
    .bind(&summary)
    .bind(&detail)
    .bind(user_id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

impl Store {
    /// Records a security event that no signed-in person did (a sign-in lockout): `user_id` is
    /// the account it concerns, if it exists, and `username` what the log shows.
    pub async fn audit_security_event(
        &self,
        user_id: Option<i64>,
        username: &str,
        action: &str,
        summary: &str,
        detail: &serde_json::Value,
    ) -> anyhow::Result<()> {
        let detail = detail.to_string();
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO audit_log (at, user_id, username, action, message_id, summary, detail)
             VALUES ($1, $2, $3, $4, NULL, $5, $6)",
        )
        .bind(self.clock.now_millis())
        .bind(user_id)
        .bind(username)
        .bind(action)
        .bind(summary)
        .bind(&detail)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The newest audit entries first, at most `limit`.
    pub async fn audit_log(&self, limit: i64) -> anyhow::Result<Vec<AuditRow>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, at, username, action, message_id, summary, detail
             FROM audit_log ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await)?)
    }
}
