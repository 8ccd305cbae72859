//! The trace: events on a message, and the dashboard's daily counts derived from them. Each
//! event is an observation (see `observability::trace`); one done by a person also lands in the
//! append-only audit log, in the same transaction.

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
    /// When the stage began and ended; unset, the event is a point in time at its commit.
    pub started_at: Option<Millis>,
    pub ended_at: Option<Millis>,
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
            started_at: None,
            ended_at: None,
        }
    }

    /// The stage ran from `started_at` to `ended_at` (epoch milliseconds).
    pub fn timed(mut self, started_at: Millis, ended_at: Millis) -> Self {
        self.started_at = Some(started_at);
        self.ended_at = Some(ended_at.max(started_at));
        self
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
    pub obs_type: Option<String>,
    pub started_at: Option<Millis>,
    pub ended_at: Option<Millis>,
    pub error_code: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DailyCount {
    pub day: String,
    pub language: String,
    pub kind: String,
    pub count: i64,
}

pub(super) async fn insert(tx: &mut Tx, event: &NewEvent) -> sqlx::Result<()> {
    use crate::observability::{redaction, trace};
    let at = tx.now;
    let day = chrono::DateTime::from_timestamp_millis(at)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string();
    let (summary, detail) = if tx.mask_traces {
        (
            redaction::mask(&event.summary),
            redaction::mask_json(&event.detail),
        )
    } else {
        (event.summary.clone(), event.detail.clone())
    };
    let derived = trace::derive(event.kind, &detail);
    let obs_type = trace::ObsType::of_kind(event.kind).as_str();
    let detail = detail.to_string();
    on_tx!(tx, |conn| sqlx::query(
        "INSERT INTO events (message_id, conversation_id, kind, summary, detail, user_id, day, at,
                             obs_type, started_at, ended_at, model, rule, error_code)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(event.message_id)
    .bind(event.conversation_id)
    .bind(event.kind)
    .bind(&summary)
    .bind(&detail)
    .bind(event.user_id)
    .bind(&day)
    .bind(at)
    .bind(obs_type)
    .bind(event.started_at)
    .bind(event.ended_at)
    .bind(&derived.model)
    .bind(&derived.rule)
    .bind(&derived.error_code)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    if let Some(user_id) = event.user_id {
        super::audit::append(tx, user_id, event).await?;
    }
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
            "SELECT e.id, e.kind, e.summary, e.detail, u.username, e.at, e.obs_type, e.started_at,
                    e.ended_at, e.error_code
             FROM events e LEFT JOIN users u ON u.id = e.user_id
             WHERE e.message_id = $1 ORDER BY e.id",
        )
        .bind(message_id)
        .fetch_all(pool)
        .await)?)
    }

    /// Event counts per UTC day, language of the inbound message and kind, since `since_day`:
    /// the events still kept plus the roll-ups of those retention removed.
    pub async fn daily_counts(&self, since_day: &str) -> anyhow::Result<Vec<DailyCount>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT day, language, kind, CAST(SUM(count) AS BIGINT) AS count FROM (
                 SELECT e.day AS day, COALESCE(m.language, 'unknown') AS language, e.kind AS kind,
                        COUNT(*) AS count
                 FROM events e LEFT JOIN messages m ON m.id = e.message_id
                 WHERE e.day >= $1
                 GROUP BY e.day, COALESCE(m.language, 'unknown'), e.kind
                 UNION ALL
                 SELECT day, language, kind, count FROM event_rollups WHERE day >= $1
             ) counts
             GROUP BY day, language, kind
             ORDER BY day DESC",
        )
        .bind(since_day)
        .fetch_all(pool)
        .await)?)
    }
}
