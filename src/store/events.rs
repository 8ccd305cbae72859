//! The trace: events on a message, and the dashboard's daily counts derived from them.

use super::{Store, Tx, on_pool, on_tx};
use crate::domain::Millis;

/// An action on a message, as recorded on its trace.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The inbound message whose trace this belongs to.
    pub message_id: Option<i64>,
    pub conversation_id: Option<i64>,
    pub kind: &'static str,
    pub summary: String,
    pub detail: serde_json::Value,
    pub user_id: Option<i64>,
}

impl NewEvent {
    pub fn new(kind: &'static str, summary: impl Into<String>) -> Self {
        NewEvent {
            message_id: None,
            conversation_id: None,
            kind,
            summary: summary.into(),
            detail: serde_json::Value::Null,
            user_id: None,
        }
    }

    pub fn on(mut self, message_id: i64, conversation_id: i64) -> Self {
        self.message_id = Some(message_id);
        self.conversation_id = Some(conversation_id);
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }

    pub fn by(mut self, user_id: i64) -> Self {
        self.user_id = Some(user_id);
        self
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub kind: String,
    pub summary: String,
    pub detail: String,
    pub username: Option<String>,
    pub at: Millis,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DailyCount {
    pub day: String,
    pub language: String,
    pub kind: String,
    pub count: i64,
}

pub(super) async fn insert(tx: &mut Tx, event: &NewEvent) -> sqlx::Result<()> {
    let at = tx.now;
    let day = chrono::DateTime::from_timestamp_millis(at)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string();
    let detail = event.detail.to_string();
    on_tx!(tx, |conn| sqlx::query(
        "INSERT INTO events (message_id, conversation_id, kind, summary, detail, user_id, day, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(event.message_id)
    .bind(event.conversation_id)
    .bind(event.kind)
    .bind(&event.summary)
    .bind(&detail)
    .bind(event.user_id)
    .bind(&day)
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub(super) async fn insert_all(tx: &mut Tx, events: &[NewEvent]) -> sqlx::Result<()> {
    for event in events {
        insert(tx, event).await?;
    }
    Ok(())
}

impl Store {
    pub async fn record(&self, event: NewEvent) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        insert(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The trace of an inbound message, oldest first.
    pub async fn trace(&self, message_id: i64) -> anyhow::Result<Vec<EventRow>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT e.id, e.kind, e.summary, e.detail, u.username, e.at
             FROM events e LEFT JOIN users u ON u.id = e.user_id
             WHERE e.message_id = $1 ORDER BY e.id",
        )
        .bind(message_id)
        .fetch_all(pool)
        .await)?)
    }

    /// Event counts per UTC day, language of the inbound message and kind, since `since_day`.
    pub async fn daily_counts(&self, since_day: &str) -> anyhow::Result<Vec<DailyCount>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT e.day AS day, COALESCE(m.language, 'unknown') AS language, e.kind AS kind,
                    COUNT(*) AS count
             FROM events e LEFT JOIN messages m ON m.id = e.message_id
             WHERE e.day >= $1
             GROUP BY e.day, COALESCE(m.language, 'unknown'), e.kind
             ORDER BY e.day DESC",
        )
        .bind(since_day)
        .fetch_all(pool)
        .await)?)
    }
}
