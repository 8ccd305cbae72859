//! What the observability side reads: the tail of new events (taken once across instances by a
//! compare-and-set on a cursor), the queue and review gauges, and a message's final reply.

use super::{Store, on_pool};
use crate::domain::Millis;

/// An event with what the export needs to place it: its trace (message), session
/// (conversation), the contact and the person who acted.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Observation {
    pub id: i64,
    pub message_id: Option<i64>,
    pub conversation_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub kind: String,
    pub summary: String,
    pub detail: String,
    pub username: Option<String>,
    pub at: Millis,
    pub started_at: Option<Millis>,
    pub ended_at: Option<Millis>,
    pub language: Option<String>,
}

/// The job queue and review inbox as gauges read at scrape time.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct QueueGauges {
    pub jobs_queued: i64,
    /// When the oldest job that is due became due (epoch ms).
    pub oldest_job_due: Option<Millis>,
    pub drafts_held: i64,
    pub oldest_held_at: Option<Millis>,
}

/// The reply that went out for an inbound message, after review.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReplyRow {
    pub draft_id: i64,
    pub draft_body: String,
    pub draft_state: String,
    pub final_body: Option<String>,
    pub outbound_id: Option<i64>,
    pub outbound_body: Option<String>,
    pub outbound_status: Option<String>,
    pub external_id: Option<String>,
}

impl Store {
    /// Takes up to `limit` events after the shared cursor and moves the cursor past them. Another
    /// instance that took the same events first wins; this one then gets nothing.
    pub async fn take_new_events(&self, limit: i64) -> anyhow::Result<Vec<Observation>> {
        let cursor: i64 = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT last_event_id FROM event_cursor WHERE id = 1"
        )
        .fetch_one(pool)
        .await)?;
        let rows: Vec<Observation> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT e.id, e.message_id, e.conversation_id, c.contact_id, e.kind, e.summary, e.detail,
                    u.username, e.at, e.started_at, e.ended_at, m.language
             FROM events e
             LEFT JOIN conversations c ON c.id = e.conversation_id
             LEFT JOIN users u ON u.id = e.user_id
             LEFT JOIN messages m ON m.id = e.message_id
             WHERE e.id > $1 ORDER BY e.id LIMIT $2",
        )
        .bind(cursor)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        let Some(last) = rows.last().map(|r| r.id) else {
            return Ok(rows);
        };
        let moved = on_pool!(self, |pool| sqlx::query(
            "UPDATE event_cursor SET last_event_id = $1 WHERE id = 1 AND last_event_id = $2"
        )
        .bind(last)
        .bind(cursor)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(if moved == 1 { rows } else { Vec::new() })
    }

    pub async fn queue_gauges(&self) -> anyhow::Result<QueueGauges> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM jobs WHERE state = 'queued') AS jobs_queued,
                    (SELECT MIN(run_at) FROM jobs WHERE state = 'queued' AND run_at <= $1) AS oldest_job_due,
                    (SELECT COUNT(*) FROM drafts WHERE state = 'held') AS drafts_held,
                    (SELECT MIN(created_at) FROM drafts WHERE state = 'held') AS oldest_held_at",
        )
        .bind(self.clock().now_millis())
        .fetch_one(pool)
        .await)?)
    }

    /// The draft for an inbound message and the outbound message it became, if any.
    pub async fn reply_for(&self, message_id: i64) -> anyhow::Result<Option<ReplyRow>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT d.id AS draft_id, d.body AS draft_body, d.state AS draft_state, d.final_body,
                    d.outbound_id, o.body AS outbound_body, o.status AS outbound_status, o.external_id
             FROM drafts d LEFT JOIN messages o ON o.id = d.outbound_id
             WHERE d.message_id = $1",
        )
        .bind(message_id)
        .fetch_optional(pool)
        .await)?)
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> anyhow::Result<()> {
        let one: i64 = on_pool!(self, |pool| sqlx::query_scalar("SELECT CAST(1 AS BIGINT)")
            .fetch_one(pool)
            .await)?;
        anyhow::ensure!(one == 1, "the database answered {one} to SELECT 1");
        Ok(())
    }
}
