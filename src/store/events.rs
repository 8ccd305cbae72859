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

/// An event as it is stored: masked if the store masks traces, with the columns derived from
/// its detail for the trace views.
struct StoredEvent<'a> {
    event: &'a NewEvent,
    summary: String,
    detail: String,
    day: String,
    at: Millis,
    obs_type: &'static str,
    derived: crate::observability::trace::Derived,
}

impl<'a> StoredEvent<'a> {
    fn of(tx: &Tx, event: &'a NewEvent) -> StoredEvent<'a> {
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
        StoredEvent {
            event,
            derived: trace::derive(event.kind, &detail),
            obs_type: trace::ObsType::of_kind(event.kind).as_str(),
            summary,
            detail: detail.to_string(),
            day,
            at,
        }
    }
}

/// The most events one INSERT carries: 14 values each, far below either backend's limit.
const EVENTS_PER_STATEMENT: usize = 256;

pub(super) async fn insert(tx: &mut Tx, event: &NewEvent) -> sqlx::Result<()> {
    insert_all(tx, std::slice::from_ref(event)).await
}

/// Stores events in one statement (a message's trace is about twenty of them), and the audit
/// entry of each that a person caused.
pub(super) async fn insert_all(tx: &mut Tx, events: &[NewEvent]) -> sqlx::Result<()> {
    for chunk in events.chunks(EVENTS_PER_STATEMENT) {
        let rows: Vec<StoredEvent> = chunk.iter().map(|event| StoredEvent::of(tx, event)).collect();
        on_tx!(tx, |conn| {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO events (message_id, conversation_id, kind, summary, detail, user_id, day, at,
                                     obs_type, started_at, ended_at, model, rule, error_code) ",
            );
            query.push_values(&rows, |mut values, row| {
                values
                    .push_bind(row.event.message_id)
                    .push_bind(row.event.conversation_id)
                    .push_bind(row.event.kind)
                    .push_bind(&row.summary)
                    .push_bind(&row.detail)
                    .push_bind(row.event.user_id)
                    .push_bind(&row.day)
                    .push_bind(row.at)
                    .push_bind(row.obs_type)
                    .push_bind(row.event.started_at)
                    .push_bind(row.event.ended_at)
                    .push_bind(&row.derived.model)
                    .push_bind(&row.derived.rule)
                    .push_bind(&row.derived.error_code);
            });
            query.build().execute(conn).await.map(|_| ())
        })?;
    }
    for (user_id, event) in events.iter().filter_map(|e| e.user_id.map(|user| (user, e))) {
        super::audit::append(tx, user_id, event).await?;
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
