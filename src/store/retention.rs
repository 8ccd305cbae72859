//! Retention: message bodies and traces older than a cutoff are removed, and the dashboard's
//! counts are rolled up first so they survive. One transaction per run.

use super::{Store, on_tx};
use crate::domain::Millis;

/// What one retention run changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionSummary {
    pub events_removed: u64,
    pub messages_cleared: u64,
    pub drafts_cleared: u64,
    pub deliveries_cleared: u64,
}

/// What a cleared body reads.
pub const REMOVED: &str = "[removed by retention]";

impl Store {
    /// Rolls up and deletes the events before `cutoff`, and clears the bodies of messages,
    /// drafts and raw deliveries from before it. Contacts, statuses, model-call costs and the
    /// audit log stay.
    pub async fn apply_retention(&self, cutoff: Millis) -> anyhow::Result<RetentionSummary> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |conn| sqlx::query(
            "INSERT INTO event_rollups (day, language, kind, count)
             SELECT e.day, COALESCE(m.language, 'unknown'), e.kind, COUNT(*)
             FROM events e LEFT JOIN messages m ON m.id = e.message_id
             WHERE e.at < $1
             GROUP BY e.day, COALESCE(m.language, 'unknown'), e.kind
             ON CONFLICT (day, language, kind) DO UPDATE SET count = event_rollups.count + excluded.count",
        )
        .bind(cutoff)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        let mut summary = RetentionSummary {
            events_removed: on_tx!(&mut tx, |conn| sqlx::query("DELETE FROM events WHERE at < $1")
                .bind(cutoff)
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?,
            ..RetentionSummary::default()
        };
        for (sql, slot) in [
            (
                "UPDATE messages SET body = $2 WHERE created_at < $1 AND body <> $2",
                &mut summary.messages_cleared,
            ),
            (
                "UPDATE drafts SET body = $2, final_body = CASE WHEN final_body IS NULL THEN NULL ELSE $2 END,
                        reject_reason = NULL
                 WHERE created_at < $1 AND body <> $2",
                &mut summary.drafts_cleared,
            ),
            (
                "UPDATE webhook_deliveries SET body = $2 WHERE received_at < $1 AND body <> $2",
                &mut summary.deliveries_cleared,
            ),
        ] {
            *slot = on_tx!(&mut tx, |conn| sqlx::query(sql)
                .bind(cutoff)
                .bind(REMOVED)
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?;
        }
        tx.commit().await?;
        Ok(summary)
    }
}
